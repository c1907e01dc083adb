// rnnscope contributions: the BPTT gradient of W_hh split by temporal distance.
#include "commands.hpp"
#include "common.hpp"

namespace rnnscope::cli {

void register_contributions(CLI::App& app) {
  auto opts = std::make_shared<NetworkOptions>();
  auto* cmd = app.add_subcommand("contributions",
                                 "the BPTT gradient dL/dW_hh for a loss on every step, split by temporal distance "
                                 "t - k, relative to the whole gradient, mean and spread over seeds");
  add_network_options(cmd, *opts, "rnnscope-contributions");
  cmd->callback([opts] {
    const NetworkOptions& o = *opts;
    ContributionSpec spec;
    static_cast<NetworkSpec&>(spec) = network_spec(o);
    spec.validate();
    Progress progress(o.quiet);
    const Execution e = execution(o, &progress);
    OutputFolder out(o.out, o.force);
    progress.begin("BPTT contributions by distance", spec.seeds);
    const ContributionResult r = contributions_study(spec, e);
    progress.end();
    const Section s = contributions_section(out, {{cell_label(spec.model), spec, r}});
    write_index(out, "rnnscope contributions", "BPTT contributions by temporal distance", {{"seed", o.seed}}, {s});
    print_sections({s}, out);
  });
}

}  // namespace rnnscope::cli
