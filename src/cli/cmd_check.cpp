// rnnscope check: finite-difference check of a cell's BPTT gradients on random weights.
#include <fmt/format.h>

#include "commands.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/sequence/gradcheck.hpp"

namespace rnnscope::cli {

namespace {

struct Options {
  std::string cell = "rnn_tanh";
  int input_size = 3, hidden = 4, batch = 2, steps = 5;
  std::uint64_t seed = 1;
  double tolerance = 1e-6;
};

void run(const Options& o) {
  require(o.input_size > 0 && o.hidden > 0 && o.batch > 0 && o.steps > 0,
          "--input-size, --hidden, --batch and --steps must be positive");
  Activation f;
  if (o.cell == "rnn_tanh") f = Activation::tanh;
  else if (o.cell == "rnn_relu") f = Activation::relu;
  else if (o.cell == "rnn_sigmoid") f = Activation::sigmoid;
  else throw InvalidInput(fmt::format("unknown cell '{}' (expected rnn_tanh, rnn_relu or rnn_sigmoid)", o.cell));
  Rng rng(o.seed);
  Elman<double> cell(o.input_size, o.hidden, f);
  cell.init_uniform(rng);
  const Mat<double> x = rng.normal_matrix<double>(o.input_size, Index{o.steps} * o.batch);
  const Mat<double> h0 = rng.normal_matrix<double>(o.hidden, o.batch, 0.5);
  const auto report = check_cell_gradients(cell, x, o.batch, h0, rng);
  fmt::print("{} (I={}, H={}, B={}, T={}, seed {}), central differences with step {}\n\n", o.cell,
             o.input_size, o.hidden, o.batch, o.steps, o.seed, report.step);
  fmt::print("{}\n", report.to_string());
  const bool ok = report.passed(o.tolerance);
  fmt::print("worst relative error {:.3e}: {} (tolerance {:.1e})\n", report.worst_relative_error(),
             ok ? "PASS" : "FAIL", o.tolerance);
  if (!ok) throw std::runtime_error("gradient check failed");
}

}  // namespace

void register_check(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("check", "check a cell's exact BPTT gradients against finite differences");
  cmd->add_option("--cell", opts->cell, "rnn_tanh, rnn_relu or rnn_sigmoid")->capture_default_str();
  cmd->add_option("--input-size", opts->input_size, "I")->capture_default_str();
  cmd->add_option("--hidden", opts->hidden, "H")->capture_default_str();
  cmd->add_option("--batch", opts->batch, "B")->capture_default_str();
  cmd->add_option("--steps", opts->steps, "T")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "random seed")->capture_default_str();
  cmd->add_option("--tolerance", opts->tolerance, "largest relative error that passes")->capture_default_str();
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
