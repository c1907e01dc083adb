// The processes a command runs as: MPI's when mpirun started it and rnnscope
// is built with MPI (docs/distributed.md), else this process alone, exactly
// as without MPI. `train` splits each minibatch over them and `learnability`
// its grid of runs; process 0 reads the options' files first and writes every
// output, the others write nothing.
#pragma once

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rnnscope/core/collective.hpp"
#include "rnnscope/studies/learnability.hpp"

namespace rnnscope::cli {

/// Thrown on a process other than 0 when process 0 failed before the work
/// began: it exits with `code` and prints nothing (process 0 gave the reason).
struct QuietExit {
  int code = 2;
};

class Processes {
 public:
  /// Joins MPI (MPI_Init_thread) when mpirun started this process, and
  /// gives each process its share of this machine's cores as its default
  /// thread count (unless OMP_NUM_THREADS is set).
  Processes(int& argc, char**& argv);
  /// Leaves MPI (MPI_Finalize).
  ~Processes();
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

  static int rank();
  static int size();
  static bool distributed() { return size() > 1; }
  /// The processes as the library's Collective; null when there is one.
  static Collective* collective();
  /// Whether the processes have begun their work together (agree() returned):
  /// from then on a process that fails must end them all.
  static bool started();
  /// Ends every process at once with `code` (MPI_Abort), after the caller printed why.
  [[noreturn]] static void abort(int code);
  /// "MPI: Open MPI 4.1.4", or "MPI: not built in".
  static std::string mpi_version();

  /// Process 0 runs `first` (reading its files, creating the output folder);
  /// if it throws, every other process throws QuietExit with the exit code
  /// process 0 will end with, and process 0 rethrows. Returns on every
  /// process once process 0 has succeeded.
  static void agree(const std::function<void()>& first);
  /// `text` of process 0 on every process.
  static std::string broadcast(const std::string& text);
};

/// How rnnscope ends for an exception (main.cpp's mapping).
struct Failure {
  int code = 1;
  std::string message;  ///< the whole line printed ("rnnscope: error: ...")
  bool shared = false;  ///< every process meets it alike (process 0 alone prints it)
};
Failure describe_failure(const std::exception_ptr& error);
/// Its exit code.
int exit_code_of(const std::exception_ptr& error);

/// Another process failed (process 0 learns it from that process): ends the
/// job with that process's exit code.
class ProcessFailed : public std::runtime_error {
 public:
  ProcessFailed(int exit_code, const std::string& what) : std::runtime_error(what), code(exit_code) {}
  int code;
};

/// Process 0 of a distributed learnability study: hands out `runs` (longest
/// first) to the processes as each becomes free, runs some itself on one
/// thread, and calls hooks.on_row for every finished row on this thread, in
/// the order they finish. A process that reports a failure ends the call with
/// an exception naming it. hooks.stop_requested: no more runs are handed out.
std::vector<LearnabilityRow> lead_learnability(const LearnabilitySpec& spec, const std::vector<LearnabilityRun>& runs,
                                               const LearnabilityHooks& hooks);
/// The other processes: run what process 0 hands out until it says done.
void serve_learnability(const LearnabilitySpec& spec);

}  // namespace rnnscope::cli
