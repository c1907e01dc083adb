// rnnscope: exact gradients through time for recurrent networks.
// Exit codes: 0 done, 2 bad usage or input (one-line reason on stderr), 1 internal failure or a
// negative result (a failed check, a diverged training run), 130 / 143 stopped by SIGINT / SIGTERM after saving.
//
// Started by mpirun (docs/distributed.md), `train` and `learnability` run
// over the processes; process 0 prints, and a process that fails once the
// work has begun ends them all (MPI_Abort) with its reason and exit code.
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "commands.hpp"
#include "processes.hpp"
#include "stop_signals.hpp"
#include "rnnscope/core/cost.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope::cli {

namespace {

Failure describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ProcessFailed& e) {
    return {e.code, fmt::format("rnnscope: error: {}", e.what()), false};
  } catch (const CLI::ParseError& e) {
    return {2, fmt::format("rnnscope: error: {} (see rnnscope --help)", e.what()), true};
  } catch (const MemoryLimitExceeded& e) {
    return {2, fmt::format("rnnscope: error: {}", e.message("--", "--max-memory")), false};
  } catch (const InvalidInput& e) {
    return {2, fmt::format("rnnscope: error: {}", e.what()), false};
  } catch (const std::bad_alloc&) {
    return {2, "rnnscope: error: not enough memory for the requested sizes; use smaller ones", false};
  } catch (const Interrupted& e) {
    return {StopSignals::exit_code(), fmt::format("rnnscope: {}", e.what()), true};
  } catch (const CommandFailed& e) {
    return {1, fmt::format("rnnscope: {}", e.what()), true};
  } catch (const CollectiveMismatch& e) {
    return {1, fmt::format("rnnscope: error: {}", e.what()), true};
  } catch (const std::exception& e) {
    return {1, fmt::format("rnnscope: internal error: {}", e.what()), false};
  } catch (const QuietExit& e) {
    return {e.code, "", true};
  }
}

/// The commands that run over several processes.
bool runs_distributed(const std::string& name) { return name == "train" || name == "learnability"; }

}  // namespace

int exit_code_of(const std::exception_ptr& error) { return describe(error).code; }
Failure describe_failure(const std::exception_ptr& error) { return describe(error); }

}  // namespace rnnscope::cli

namespace {

int run(int argc, char** argv) {
  using namespace rnnscope::cli;
  Processes processes(argc, argv);
  const bool first = Processes::rank() == 0;
  CLI::App app{"rnnscope: exact gradients through time for recurrent networks, and how they vanish "
               "or explode."};
  app.set_version_flag("--version", fmt::format("rnnscope {} ({})", RNNSCOPE_VERSION, Processes::mpi_version()));
  app.require_subcommand(1);
  register_activations(app);
  register_check(app);
  register_lookback(app);
  register_grad(app);
  register_spectrum(app);
  register_lyapunov(app);
  register_phase(app);
  register_receptive_field(app);
  register_contributions(app);
  register_report(app);
  register_analyze(app);
  register_init(app);
  register_train(app);
  register_learnability(app);
  // CLI11 reports an unknown first word as a missing subcommand; name it instead.
  if (argc >= 2 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      if (first) fmt::print(stderr, "rnnscope: error: unknown subcommand '{}' (expected one of {})\n", argv[1], names);
      return 2;
    }
    if (Processes::distributed() && !runs_distributed(argv[1])) {
      if (first)
        fmt::print(stderr,
                   "rnnscope: error: {} does not run over several processes (mpirun -np {}): train and learnability "
                   "do; run it without mpirun, or with -np 1\n",
                   argv[1], Processes::size());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return first ? app.exit(e) : 0;  // --help, --version
    const Failure f = describe(std::current_exception());
    if (first) fmt::print(stderr, "{}\n", f.message);
    return f.code;
  } catch (...) {
    const Failure f = describe(std::current_exception());
    // Before the processes begin together (Processes::agree) the others meet
    // the same errors of the same options as process 0, which alone prints.
    if (!f.message.empty() && (first || (Processes::started() && !f.shared))) {
      const std::string who = first || !Processes::distributed()
                                  ? std::string()
                                  : fmt::format(" (process {} of {})", Processes::rank(), Processes::size());
      fmt::print(stderr, "{}{}\n", f.message, who);
    }
    // Once they have begun, the others may be waiting on the one that failed.
    if (Processes::started() && !f.shared) Processes::abort(f.code);
    return f.code;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // What run's own handlers cannot catch (an exception while the commands are registered, or while an error is
  // printed) still ends with a line and exit 1, not std::terminate.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rnnscope: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("rnnscope: internal error\n", stderr);
  }
  return 1;
}
