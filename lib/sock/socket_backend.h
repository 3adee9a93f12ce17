// The socket backend: SO_REUSEPORT worker threads with recvmmsg/sendmmsg, for machines without a DPDK NIC.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "config/config.h"

namespace stunbox::sock {

// Binds every listen address in every worker at setup, serves from one
// thread per worker, and shows the console one "port" per listen address
// and one queue per (listen address, worker). `cfg` outlives the backend.
std::unique_ptr<backend::Backend> make_backend(const config::Config& cfg);

}  // namespace stunbox::sock
