// rnnscope lookback: ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}|| against L, with the bound; with --layers N, the
// end-to-end measure of an N-layer stack beside its first layer's ratio.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"

namespace rnnscope::cli {

void register_lookback(CLI::App& app) {
  struct Options : NetworkOptions {
    int layers = 1;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("lookback",
                                 "gradient norm ratio ||dL/dh_{T-L}|| / ||dL/dh_T|| against the look-back L, "
                                 "mean and spread over seeds, with the bound (gamma ||W_hh||)^L; with --layers, "
                                 "end to end through a stack");
  add_network_options(cmd, *opts, "rnnscope-lookback");
  cmd->add_option("--layers", opts->layers,
                  "layers of the stack (1..8); above 1, the ratio is the first layer's and the gradient reaching "
                  "the input and every layer through the whole stack is added")
      ->capture_default_str();
  cmd->callback([opts, cmd] {
    LookbackSpec spec = network_spec(*opts, cmd);
    spec.model.num_layers = opts->layers;
    spec.validate();
    const std::string label =
        cell_label(spec.model) + (opts->layers > 1 ? fmt::format(" {} layers", opts->layers) : std::string());
    run_one_study<LookbackStudy>(*opts, spec, "look-back window", "rnnscope lookback",
                                 "The look-back window of one cell", {{"seed", spec.seed}},
                                 [&](OutputFolder& out, const LookbackResult& r) {
                                   return lookback_section(out, {{label, spec, r}});
                                 });
  });
}

}  // namespace rnnscope::cli
