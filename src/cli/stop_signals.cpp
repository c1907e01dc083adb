#include "stop_signals.hpp"

#include <atomic>

namespace rnnscope::cli {

namespace {
// Lock-free, so that the handler may set it and any thread read it.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

StopSignals::StopSignals() {
  g_stop.store(false);
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool StopSignals::requested() { return g_stop.load(); }

}  // namespace rnnscope::cli
