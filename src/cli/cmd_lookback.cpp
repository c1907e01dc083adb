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
  cmd->callback([opts] {
    const NetworkOptions& o = *opts;
    const LookbackSpec spec = network_spec(o);
    Progress progress(o.quiet);
    const Execution e = execution(o, &progress);
    OutputFolder out(o.out, o.force);
    progress.begin("look-back window", spec.seeds);
    const LookbackResult r = lookback_study(spec, e);
    progress.end();
    const Section s = lookback_section(out, {{cell_label(spec.model), spec, r}});
    write_index(out, "rnnscope lookback", "The look-back window of one cell", {{"seed", o.seed}}, {s});
    print_sections({s}, out);
  });
}

}  // namespace rnnscope::cli
