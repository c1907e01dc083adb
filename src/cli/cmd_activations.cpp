// rnnscope activations: the sigmoid/tanh derivative study (rho(eps)^T, intervals).
#include "commands.hpp"
#include "common.hpp"

namespace rnnscope::cli {

void register_activations(CLI::App& app) {
  struct Options : RunOptions {
    ActivationSpec spec;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("activations",
                                 "sigmoid' against tanh': exact and Maclaurin approximations, the "
                                 "interval where sigmoid' <= tanh', and rho(eps)^T");
  cmd->add_option("--eps", opts->spec.eps, "point at which the derivatives are compared")->capture_default_str();
  cmd->add_option("--T", opts->spec.steps, "largest power T of rho(eps)^T")->capture_default_str();
  cmd->add_option("--order", opts->spec.order, "order of the Maclaurin approximations")->capture_default_str();
  add_run_options(cmd, *opts, "rnnscope-activations", /*threads=*/false);
  cmd->callback([opts] {
    const Options& o = *opts;
    o.spec.validate();  // before the output folder is touched
    OutputFolder out(o.out, o.force);
    Progress progress(o.quiet);
    progress.begin("activations: sigmoid' against tanh'", 1);
    const ActivationResult r = activations_study(o.spec, execution(o, &progress));
    progress.end();
    const Section s = activations_section(out, r);
    write_index(out, "rnnscope activations", "sigmoid' against tanh'", {{"eps", o.spec.eps}, {"order", o.spec.order}},
                {s});
    print_sections({s}, out);
  });
}

}  // namespace rnnscope::cli
