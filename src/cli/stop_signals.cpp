#include "stop_signals.hpp"

#include <atomic>

namespace rnnscope::cli {

namespace {
// Lock-free, so that the handler may set them and any thread read them.
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};  // the last stop signal that arrived
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);
extern "C" void on_stop_signal(int signal) {
  g_signal.store(signal);
  g_stop.store(true);
}
}  // namespace

StopSignals::StopSignals() {
  g_stop.store(false);
  g_signal.store(0);
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

int StopSignals::exit_code() {
  const int signal = g_signal.load();
  return 128 + (signal != 0 ? signal : SIGINT);
}

}  // namespace rnnscope::cli
