// Out-of-line checksum entry points for the cold paths; the hot helpers are inline in checksum.h.
#include "frame/checksum.h"

namespace stunbox::frame::csum {

uint16_t compute(const uint8_t* p, size_t n, uint32_t initial) noexcept { return finish(sum(p, n, initial)); }

}  // namespace stunbox::frame::csum
