// SIGINT and SIGTERM as a request to stop long work (training, a study) at
// the next safe point, with its results saved, instead of killing the process.
#pragma once

#include <csignal>

namespace rnnscope::cli {

/// Installs the SIGINT/SIGTERM handlers for its lifetime; requested() tells
/// whether either arrived since.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  static bool requested();
  /// The shell's exit code of the stop: 128 + the signal (130 for SIGINT, 143
  /// for SIGTERM), 130 when none arrived.
  static int exit_code();

 private:
  struct sigaction old_int_{}, old_term_{};
};

}  // namespace rnnscope::cli
