// rnnscope: exact gradients through time for recurrent networks.
// Exit codes: 0 done, 2 bad usage or input (one-line reason on stderr), 1 internal failure or a
// negative result (a failed check, a diverged training run), 130 stopped by SIGINT/SIGTERM after saving.
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "commands.hpp"
#include "rnnscope/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"rnnscope: exact gradients through time for recurrent networks, and how they vanish "
               "or explode."};
  app.set_version_flag("--version", "rnnscope 0.1.0");
  app.require_subcommand(1);
  rnnscope::cli::register_activations(app);
  rnnscope::cli::register_check(app);
  rnnscope::cli::register_lookback(app);
  rnnscope::cli::register_grad(app);
  rnnscope::cli::register_spectrum(app);
  rnnscope::cli::register_lyapunov(app);
  rnnscope::cli::register_contributions(app);
  rnnscope::cli::register_report(app);
  rnnscope::cli::register_analyze(app);
  rnnscope::cli::register_init(app);
  rnnscope::cli::register_train(app);
  rnnscope::cli::register_learnability(app);
  // CLI11 reports an unknown first word as a missing subcommand; name it instead.
  if (argc >= 2 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      fmt::print(stderr, "rnnscope: error: unknown subcommand '{}' (expected one of {})\n", argv[1], names);
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "rnnscope: error: {} (see rnnscope --help)\n", e.what());
    return 2;
  } catch (const rnnscope::InvalidInput& e) {
    fmt::print(stderr, "rnnscope: error: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "rnnscope: error: not enough memory for the requested sizes; use smaller ones\n");
    return 2;
  } catch (const rnnscope::cli::Interrupted& e) {
    fmt::print(stderr, "rnnscope: {}\n", e.what());
    return 130;
  } catch (const rnnscope::cli::CommandFailed& e) {
    fmt::print(stderr, "rnnscope: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rnnscope: internal error: {}\n", e.what());
    return 1;
  }
  return 0;
}
