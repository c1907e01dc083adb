// Subcommands of the rnnscope executable: each file registers one on the app.
// The CLI parses, calls the library and writes; it does no math of its own.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>

namespace rnnscope::cli {

/// A command that ran correctly and found a negative result (a failed
/// gradient check): exit code 1 with the message, not an internal error.
class CommandFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A command stopped by SIGINT or SIGTERM after saving its work: exit code 130
/// with the message (how to continue).
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void register_activations(CLI::App& app);
void register_check(CLI::App& app);
void register_lookback(CLI::App& app);
void register_grad(CLI::App& app);
void register_spectrum(CLI::App& app);
void register_lyapunov(CLI::App& app);
void register_contributions(CLI::App& app);
void register_report(CLI::App& app);
void register_analyze(CLI::App& app);
void register_init(CLI::App& app);
void register_train(CLI::App& app);
void register_learnability(CLI::App& app);
void register_phase(CLI::App& app);
void register_receptive_field(CLI::App& app);

}  // namespace rnnscope::cli
