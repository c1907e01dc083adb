// Options shared by the subcommands, and their translation to the library's specs.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "rnnscope/diagnostics/lookback.hpp"

namespace rnnscope::cli {

/// What every subcommand that writes a folder takes.
struct RunOptions {
  std::uint64_t seed = 1;
  std::string out;
  int threads = 0;  // 0: Eigen's default
  bool quiet = false;
  bool force = false;
};

/// Adds --seed --out --threads --quiet --force.
void add_run_options(CLI::App* cmd, RunOptions& o, const std::string& default_out);

/// Checks --threads and passes it to Eigen (InvalidInput if negative).
void apply_run_options(const RunOptions& o);

struct StudyOptions : RunOptions {
  std::string cell = "rnn_tanh";
  int hidden = 32;
  int input_size = 4;
  int steps = 100;
  std::string init = "pytorch";
  double scale = 1.0;
  double dt = 0.1;
  double forget_bias = 0.0;
  int seeds = 5;
  int batch = 4;
};

/// Adds --cell --hidden --init --scale --dt --forget-bias and the run options;
/// with `sequences` also --input-size --T --seeds --batch (studies that run the network).
void add_study_options(CLI::App* cmd, StudyOptions& o, const std::string& default_out, bool sequences = true);

/// The model spec of a subcommand's --cell, --input-size, --hidden, --layers,
/// --no-bias and --dt (InvalidInput naming an unknown cell).
ModelSpec model_spec(const std::string& cell, int input_size, int hidden, int layers = 1, bool bias = true,
                     double dt = 0.1);

/// Validates the options (InvalidInput naming the bad one) and builds the study spec.
LookbackSpec to_lookback_spec(const StudyOptions& o);

}  // namespace rnnscope::cli
