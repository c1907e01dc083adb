// rnnscope receptive-field: the gradient of a causal Conv1D stack's last output step with respect to its input d
// steps back, exactly zero from the receptive field 1 + sum (K-1) dilation on (studies/conv.hpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/studies/conv.hpp"

namespace rnnscope::cli {

void register_receptive_field(CLI::App& app) {
  struct Options : RunOptions {
    int input_size = 4, channels = 8, kernel_size = 3, steps = 64;
    std::vector<int> dilations{1, 2, 4};
    std::string nonlinearity = "tanh";
    std::uint64_t seed = 1;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "receptive-field",
      "the receptive field of a causal Conv1D stack: the gradient of its last output step with respect to the "
      "input d steps back, exactly zero from 1 + sum over layers of (K-1) dilation on");
  cmd->add_option("--input-size", o->input_size, "input channels C_in (1..1024)")->capture_default_str();
  cmd->add_option("--channels", o->channels, "channels of every layer (1..1024)")->capture_default_str();
  cmd->add_option("--kernel-size", o->kernel_size, "kernel size K of every layer (1..1024)")->capture_default_str();
  cmd->add_option("--dilations", o->dilations, "one layer per value, comma-separated (each 1..100000, 1..32 layers)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--nonlinearity", o->nonlinearity, "between the layers: tanh, sigmoid, relu or identity")
      ->capture_default_str();
  cmd->add_option("--T", o->steps, "input steps T (1..100000; distances 0..T-1)")->capture_default_str();
  add_seed_option(cmd, o->seed);
  add_run_options(cmd, *o, "rnnscope-receptive-field", false);
  cmd->callback([o] {
    ConvSpec spec;
    spec.input_size = o->input_size;
    spec.channels = o->channels;
    spec.kernel_size = o->kernel_size;
    spec.dilations.assign(o->dilations.begin(), o->dilations.end());
    spec.nonlinearity = parse_activation(o->nonlinearity);
    spec.steps = o->steps;
    spec.seed = o->seed;
    const std::string label = fmt::format("Conv1D K={} dilation {}", spec.kernel_size, fmt::join(spec.dilations, "-"));
    run_one_study<ConvStudy>(*o, spec, "causal Conv1D stack against distance", "rnnscope receptive-field",
                             fmt::format("The receptive field of a causal Conv1D stack ({}, {} channels, {} between "
                                         "the layers, T = {})",
                                         label, spec.channels, o->nonlinearity, spec.steps),
                             {{"seed", spec.seed}}, [&](OutputFolder& out, const ConvResult& r) {
                               return conv_section(out, {{label, spec, r}}, nullptr);
                             });
  });
}

}  // namespace rnnscope::cli
