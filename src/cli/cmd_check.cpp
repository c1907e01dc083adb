// rnnscope check: finite-difference check of a model's BPTT gradients on random weights.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <variant>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/cells/conv1d.hpp"
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
  // conv1d only
  int kernel_size = 3, stride = 1, padding = 0;
  std::vector<int> dilations{1};
  bool causal = false;
};

// The options of one family only, refused for the other (they would change nothing).
const char* const kConvOptions[] = {"--kernel-size", "--stride", "--padding", "--dilation", "--causal"};
const char* const kRecurrentOptions[] = {"--layers", "--dt", "--skip", "--eps", "--gamma"};

void print_result(const GradientCheckReport& report, double tolerance) {
  fmt::print("{}\n", report.to_string());
  const bool ok = report.passed(tolerance);
  fmt::print("worst relative error {:.3e}: {} (tolerance {:.1e})\n", report.worst_relative_error(),
             ok ? "PASS" : "FAIL", tolerance);
  if (!ok)
    throw CommandFailed(fmt::format("gradient check FAILED: worst relative error {:.3e} is above the tolerance {:.1e}",
                                    report.worst_relative_error(), tolerance));
}

// One Conv1d layer (a single --dilation), or a causal ConvStack with tanh between its layers (one layer per
// --dilation value), checked on <R, y>: the weights, the biases and the input.
void run_conv(const Options& o, const CLI::App* cmd) {
  for (const char* name : kRecurrentOptions)
    require(!given(cmd, name),
            fmt::format("{} does not apply to conv1d (a stack is one layer per --dilation value)", name));
  require(o.kernel_size >= 1 && o.kernel_size <= 64,
          fmt::format("--kernel-size must be in 1..64, got {}", o.kernel_size));
  require(o.stride >= 1 && o.stride <= 64, fmt::format("--stride must be in 1..64, got {}", o.stride));
  require(o.padding >= 0 && o.padding <= 256, fmt::format("--padding must be in 0..256, got {}", o.padding));
  require(!o.dilations.empty() && o.dilations.size() <= 8, "--dilation takes 1..8 values (one per layer)");
  for (const int d : o.dilations)
    require(d >= 1 && d <= 64, fmt::format("--dilation values must be in 1..64, got {}", d));
  const bool stack = o.dilations.size() > 1;
  require(!stack || (!given(cmd, "--stride") && !given(cmd, "--padding") && !given(cmd, "--causal")),
          "a stack (several --dilation values) is always causal with stride 1 and no padding: --stride, --padding "
          "and --causal apply to one layer");
  Rng rng(o.seed);
  const Mat<double> x = rng.normal_matrix<double>(o.input_size, Index{o.steps} * o.batch);
  GradientCheckReport report;
  std::string shape;
  if (!stack) {
    Conv1d<double> conv(o.input_size, o.hidden, o.kernel_size,
                        {.stride = o.stride, .padding = o.padding, .dilation = o.dilations.front(),
                         .causal = o.causal, .bias = o.bias});
    const Index out_steps = conv.output_steps(o.steps);  // names a sequence too short for the kernel
    conv.init_uniform(rng);
    report = check_layer_gradients(conv, x, o.batch, rng);
    shape = fmt::format("K={}, stride {}, padding {}, dilation {}{}, receptive field {}, T_out={}", o.kernel_size,
                        o.stride, o.padding, o.dilations.front(), o.causal ? ", causal" : "", conv.receptive_field(),
                        out_steps);
  } else {
    std::vector<CausalConvSpec> layers;
    for (const int d : o.dilations) layers.push_back({o.hidden, o.kernel_size, d});
    ConvStack<double> conv(o.input_size, layers, Activation::tanh, o.bias);
    conv.init_uniform(rng);
    report = check_layer_gradients(conv, x, o.batch, rng);
    shape = fmt::format("{} causal layers with tanh between, K={}, dilations {}, receptive field {}",
                        o.dilations.size(), o.kernel_size, fmt::join(o.dilations, "-"), conv.receptive_field());
  }
  fmt::print("conv1d{} (C_in={}, C_out={}, {}; B={}, T={}, seed {}), central differences with step {}\n\n",
             o.bias ? "" : ", no bias", o.input_size, o.hidden, shape, o.batch, o.steps, o.seed, report.step);
  print_result(report, o.tolerance);
}

void run(const Options& o, const CLI::App* cmd) {
  require(o.input_size > 0 && o.hidden > 0 && o.batch > 0 && o.steps > 0 && o.layers > 0,
          "--input-size, --hidden, --batch, --T and --layers must be positive");
  require(o.input_size <= 64 && o.hidden <= 64 && o.batch <= 64 && o.steps <= 200 && o.layers <= 4,
          "finite differences cost one forward pass per entry: keep --input-size, --hidden and --batch <= 64, "
          "--T <= 200 and --layers <= 4");
  require(std::isfinite(o.tolerance) && o.tolerance > 0,
          fmt::format("--tolerance must be a positive number, got {}", o.tolerance));
  if (o.cell == "conv1d") return run_conv(o, cmd);
  for (const char* name : kConvOptions)
    require(!given(cmd, name), fmt::format("{} shapes the conv1d cell; {} has none", name, o.cell));
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
  print_result(report, o.tolerance);
}

}  // namespace

void register_check(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("check", "check a model's exact BPTT gradients (every parameter, the input and the "
                                          "initial state) against central finite differences in double");
  cmd->add_option("--cell", opts->cell, cell_choices() + " or conv1d (a 1-D convolution, PyTorch's Conv1d)")
      ->capture_default_str();
  cmd->add_option("--input-size", opts->input_size, "I (conv1d: input channels C_in)")->capture_default_str();
  cmd->add_option("--hidden", opts->hidden, "H (conv1d: output channels C_out)")->capture_default_str();
  cmd->add_option("--layers", opts->layers, "number of stacked layers L")->capture_default_str();
  add_cell_shape_options(cmd, opts->shape);
  cmd->add_flag("!--no-bias", opts->bias, "cells without bias vectors");
  cmd->add_option("--kernel-size", opts->kernel_size, "conv1d: kernel size K (1..64)")->capture_default_str();
  cmd->add_option("--stride", opts->stride, "conv1d: stride (1..64)")->capture_default_str();
  cmd->add_option("--padding", opts->padding, "conv1d: zeros added at each end (0..256)")->capture_default_str();
  cmd->add_option("--dilation", opts->dilations,
                  "conv1d: dilation (1..64); several values, comma-separated, check a causal stack of one layer "
                  "each with tanh between")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--causal", opts->causal, "conv1d: pad dilation (K-1) zeros on the left only (stride 1, no padding)");
  cmd->add_option("--batch", opts->batch, "B")->capture_default_str();
  // --T as in every other command; --steps, its first name here, still works.
  cmd->add_option("--T,--steps", opts->steps, "sequence length T (1..200; --steps is another name for it)")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "random seed (same seed, same numbers)")->capture_default_str();
  cmd->add_option("--tolerance", opts->tolerance, "largest relative error that passes")->capture_default_str();
  cmd->callback([opts, cmd] { run(*opts, cmd); });
}

}  // namespace rnnscope::cli
