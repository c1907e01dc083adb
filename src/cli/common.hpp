// Options shared by the analysis subcommands, and their translation to the library's specs.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "rnnscope/diagnostics/lookback.hpp"

namespace rnnscope::cli {

struct StudyOptions {
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
  std::uint64_t seed = 1;
  std::string out;
};

/// Adds --cell --hidden --input-size --T --init --scale --dt --forget-bias --seeds --batch --seed --out.
void add_study_options(CLI::App* cmd, StudyOptions& o, const std::string& default_out);

/// Validates the options (InvalidInput naming the bad one) and builds the study spec.
LookbackSpec to_lookback_spec(const StudyOptions& o);

}  // namespace rnnscope::cli
