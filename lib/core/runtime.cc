#include "core/runtime.h"

#include <csignal>
#include <ctime>

namespace stunbox {

namespace {
sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void block_signals() {
  sigset_t set = handled_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Signal wait_signal(unsigned timeout_ms) {
  sigset_t set = handled_set();
  timespec ts{static_cast<time_t>(timeout_ms / 1000), static_cast<long>(timeout_ms % 1000) * 1000000L};
  int sig = sigtimedwait(&set, nullptr, &ts);
  if (sig == SIGINT || sig == SIGTERM) return Signal::stop;
  if (sig == SIGHUP) return Signal::reload;
  return Signal::none;
}

}  // namespace stunbox
