// STUB: replaced by the real backend.
#include "sock/socket_backend.h"
namespace stunbox::sock {
Status run(const config::Config&) { return Error{"socket backend: not implemented"}; }
}  // namespace stunbox::sock
