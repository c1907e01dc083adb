// rnnscope lookback: ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}|| against L, with the bound.
#include "commands.hpp"
#include "common.hpp"

namespace rnnscope::cli {

void register_lookback(CLI::App& app) {
  auto opts = std::make_shared<NetworkOptions>();
  auto* cmd = app.add_subcommand("lookback",
                                 "gradient norm ratio ||dL/dh_{T-L}|| / ||dL/dh_T|| against the look-back L, "
                                 "mean and spread over seeds, with the bound (gamma ||W_hh||)^L");
  add_network_options(cmd, *opts, "rnnscope-lookback");
  cmd->callback([opts, cmd] {
    const LookbackSpec spec = network_spec(*opts, cmd);
    run_one_study<LookbackStudy>(*opts, spec, "look-back window", "rnnscope lookback",
                                 "The look-back window of one cell", {{"seed", spec.seed}},
                                 [&](OutputFolder& out, const LookbackResult& r) {
                                   return lookback_section(out, {{cell_label(spec.model), spec, r}});
                                 });
  });
}

}  // namespace rnnscope::cli
