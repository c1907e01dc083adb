// The training options that `train` and `learnability` share: the optimiser,
// clipping, batch, budget, evaluation, model sizes and seed, and their
// translation into a TrainSpec (which the library validates).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "common.hpp"
#include "rnnscope/training/trainer.hpp"

namespace rnnscope::cli {

struct TrainingOptions {
  Index hidden = 128, layers = 1;
  bool no_bias = false;
  CellShape shape;
  double scale = 1.0, forget_bias = 0.0, chrono_tmax = 0.0;
  std::string optimizer = "adam", dtype = "f32";
  // The defaults solve the adding problem at T = 100 with the LSTM in about a
  // thousand steps (docs/training.md): Adam's lr 0.001 (torch's default) took
  // more than 3000 on the same runs.
  double lr = 1e-2, momentum = 0, dampening = 0, weight_decay = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
         alpha = 0.99;
  bool nesterov = false;
  double clip_norm = 1.0, clip_value = 0.0;
  Index batch = 50, steps = 2000, eval_every = 100, eval_size = 500;
  std::uint64_t seed = 1;
};

/// Adds --hidden --layers --no-bias, the cell shape (--dt --skip --cell-eps --cell-gamma), --scale --forget-bias --chrono-tmax
/// (the model's sizes and initialisation options), the optimiser's options,
/// --clip-norm --clip-value --batch --steps --eval-every --eval-size --dtype
/// and --seed, with `o`'s values as their defaults.
void add_training_options(CLI::App* cmd, TrainingOptions& o, const std::string& steps_help);

/// The TrainSpec of the options: model sizes (cell and input size left to
/// the caller), optimiser, clipping, loop and seed. --chrono-tmax is refused
/// unless `chrono` (the caller's --init is chrono); --dtype is checked.
TrainSpec training_spec(const TrainingOptions& o, const CLI::App* cmd, bool chrono);

}  // namespace rnnscope::cli
