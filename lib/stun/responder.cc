// STUB: replaced by the real responder.
#include "stun/responder.h"
namespace stunbox::stun {
Answer respond(const ResponderConfig&, uint8_t*, size_t, size_t, const Endpoint&) noexcept { return {}; }
}  // namespace stunbox::stun
