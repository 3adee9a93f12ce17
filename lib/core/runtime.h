// Process-wide signal handling shared by both backends: signals are blocked in every thread and waited for by main.
#pragma once

namespace stunbox {

enum class Signal : unsigned char { none, stop, reload };

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, so every thread
// created afterwards inherits the mask. Call first thing in main.
void block_signals();

// Waits up to timeout_ms for SIGINT/SIGTERM (stop) or SIGHUP (reload).
Signal wait_signal(unsigned timeout_ms);

}  // namespace stunbox
