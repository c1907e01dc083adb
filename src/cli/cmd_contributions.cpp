// rnnscope contributions: the BPTT gradient of W_hh split by temporal distance.
#include "commands.hpp"
#include "common.hpp"

namespace rnnscope::cli {

void register_contributions(CLI::App& app) {
  auto opts = std::make_shared<NetworkOptions>();
  auto* cmd = app.add_subcommand("contributions",
                                 "the BPTT gradient dL/dW_hh for a loss on every step, split by temporal distance "
                                 "t - k, relative to the whole gradient, mean and spread over seeds");
  add_network_options(cmd, *opts, "rnnscope-contributions", true, 5000);
  auto terms = std::make_shared<bool>(false);
  cmd->add_flag("--terms", *terms,
                "also every term (t, k) of dL/dW_hh of the first seed's network, its norm and entries "
                "(terms.csv, term_entries.csv) and their sum against BPTT (terms_check.csv); T <= 10, hidden <= 32");
  cmd->callback([opts, cmd, terms] {
    ContributionSpec spec;
    static_cast<NetworkSpec&>(spec) = network_spec(*opts, cmd);
    spec.terms = *terms;
    run_one_study<ContributionStudy>(*opts, spec, "BPTT contributions by distance", "rnnscope contributions",
                                     "BPTT contributions by temporal distance", {{"seed", spec.seed}},
                                     [&](OutputFolder& out, const ContributionResult& r) {
                                       return contributions_section(out, {{cell_label(spec.model), spec, r}});
                                     });
  });
}

}  // namespace rnnscope::cli
