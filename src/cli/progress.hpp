// Progress on stderr for the long-running subcommands: what is being done, how
// far, and the time left. On a terminal one line is rewritten in place; when
// stderr is not a terminal (a log, a pipe) each stage prints one line when it
// ends, and nothing else. --quiet silences it.
#pragma once

#include <chrono>
#include <string>

#include "rnnscope/core/execution.hpp"
#include "stop_signals.hpp"

namespace rnnscope::cli {

class Progress : public ProgressSink {
 public:
  /// quiet: print nothing. Whether stderr is a terminal is read once, here.
  explicit Progress(bool quiet);
  /// The number of stages the command will run, shown as [i/n]; 0 hides it.
  void set_stages(int count) override { stages_ = count; }
  /// Starts a stage of `units` equal steps (finishing the previous one).
  void begin(const std::string& what, int units = 1) override;
  /// Marks `n` more units of the current stage done.
  void advance(int n = 1) override;
  /// Finishes the current stage (no-op without one).
  void end() override;
  void status(const std::string& text) override;
  void note(const std::string& line) override;
  ~Progress() override;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  using Clock = std::chrono::steady_clock;
  void draw();
  bool quiet_, tty_;
  bool active_ = false;
  int stages_ = 0, stage_ = 0, units_ = 1, done_ = 0;
  std::string what_, status_;
  Clock::time_point stage_start_, last_draw_, run_start_;
};

/// Progress of work that stops at the next finished unit on SIGINT or SIGTERM
/// (its handlers installed for its lifetime): advance() throws Interrupted
/// with `stopped` (what was kept, how to continue) once either arrived, so the
/// process exits 130 or 143 with that line instead of dying mid-write.
class StoppableProgress : public Progress {
 public:
  StoppableProgress(bool quiet, std::string stopped);
  void advance(int n = 1) override;
  /// Throws Interrupted with `message` if a signal arrived: a safe point after the work.
  void stop_if_requested(const std::string& message) const;

 private:
  StopSignals signals_;
  std::string stopped_;
};

}  // namespace rnnscope::cli
