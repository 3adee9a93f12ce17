// STUB: replaced by the real frame path.
#include "frame/reflect.h"
namespace stunbox::frame {
bool PortIdentity::add_v4(const std::array<uint8_t, 4>&) { return false; }
bool PortIdentity::add_v6(const std::array<uint8_t, 16>&) { return false; }
template <bool kTxCsumOffload>
Verdict reflect(uint8_t*, size_t, size_t, const PortIdentity&, const stun::ResponderConfig&, RxHints) noexcept {
  return {};
}
template Verdict reflect<false>(uint8_t*, size_t, size_t, const PortIdentity&, const stun::ResponderConfig&, RxHints) noexcept;
template Verdict reflect<true>(uint8_t*, size_t, size_t, const PortIdentity&, const stun::ResponderConfig&, RxHints) noexcept;
size_t build_gratuitous_arp(uint8_t*, size_t, const PortIdentity&, size_t) { return 0; }
size_t build_unsolicited_na(uint8_t*, size_t, const PortIdentity&, size_t) { return 0; }
}  // namespace stunbox::frame
