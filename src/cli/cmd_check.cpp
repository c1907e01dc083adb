// rnnscope check: finite-difference check of a model's BPTT gradients on random weights.
#include <fmt/format.h>

#include <cmath>
#include <variant>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/training/init.hpp"
#include "rnnscope/sequence/gradcheck.hpp"
#include "rnnscope/sequence/model.hpp"

namespace rnnscope::cli {

namespace {

struct Options {
  std::string cell = "rnn_tanh";
  int input_size = 3, hidden = 4, batch = 2, steps = 5, layers = 1;
  CellShape shape;
  bool bias = true;
  std::uint64_t seed = 1;
  double tolerance = 1e-6;
};

void run(const Options& o, const CLI::App* cmd) {
  require(o.input_size > 0 && o.hidden > 0 && o.batch > 0 && o.steps > 0 && o.layers > 0,
          "--input-size, --hidden, --batch, --T and --layers must be positive");
  require(o.input_size <= 64 && o.hidden <= 64 && o.batch <= 64 && o.steps <= 200 && o.layers <= 4,
          "finite differences cost one forward pass per entry: keep --input-size, --hidden and --batch <= 64, "
          "--T <= 200 and --layers <= 4");
  require(std::isfinite(o.tolerance) && o.tolerance > 0,
          fmt::format("--tolerance must be a positive number, got {}", o.tolerance));
  const ModelSpec spec = model_spec(o.cell, o.input_size, o.hidden, o.layers, o.bias, o.shape);
  refuse_inert_options(cmd, {spec.cell}, {}, o.bias);
  Model<double> model = make_model<double>(spec);  // validates dt, skip, eps and gamma
  Rng rng(o.seed);
  initialise_model(model, Init::pytorch, 1.0, 0.0, rng);
  const auto report = std::visit(
      [&](auto& stack) {
        const Mat<double> x = rng.normal_matrix<double>(o.input_size, Index{o.steps} * o.batch);
        const Mat<double> s0 = rng.normal_matrix<double>(stack.state_size(), o.batch, 0.5);
        return check_cell_gradients(stack, x, o.batch, s0, rng);
      },
      model);
  fmt::print("{} x {} layer{}{} (I={}, H={}, B={}, T={}, seed {}), central differences with step {}\n\n", o.cell,
             o.layers, o.layers == 1 ? "" : "s", o.bias ? "" : ", no bias", o.input_size, o.hidden, o.batch,
             o.steps, o.seed, report.step);
  fmt::print("{}\n", report.to_string());
  const bool ok = report.passed(o.tolerance);
  fmt::print("worst relative error {:.3e}: {} (tolerance {:.1e})\n", report.worst_relative_error(),
             ok ? "PASS" : "FAIL", o.tolerance);
  if (!ok)
    throw CommandFailed(fmt::format("gradient check FAILED: worst relative error {:.3e} is above the tolerance {:.1e}",
                                    report.worst_relative_error(), o.tolerance));
}

}  // namespace

void register_check(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("check", "check a model's exact BPTT gradients (every parameter, the input and the "
                                          "initial state) against central finite differences in double");
  cmd->add_option("--cell", opts->cell, cell_choices())->capture_default_str();
  cmd->add_option("--input-size", opts->input_size, "I")->capture_default_str();
  cmd->add_option("--hidden", opts->hidden, "H")->capture_default_str();
  cmd->add_option("--layers", opts->layers, "number of stacked layers L")->capture_default_str();
  add_cell_shape_options(cmd, opts->shape);
  cmd->add_flag("!--no-bias", opts->bias, "cells without bias vectors");
  cmd->add_option("--batch", opts->batch, "B")->capture_default_str();
  // --T as in every other command; --steps, its first name here, still works.
  cmd->add_option("--T,--steps", opts->steps, "sequence length T (1..200; --steps is another name for it)")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "random seed (same seed, same numbers)")->capture_default_str();
  cmd->add_option("--tolerance", opts->tolerance, "largest relative error that passes")->capture_default_str();
  cmd->callback([opts, cmd] { run(*opts, cmd); });
}

}  // namespace rnnscope::cli
