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
  cmd->add_option("--T", opts->spec.steps, "largest power T of rho(eps)^T (1..1000000)")->capture_default_str();
  cmd->add_option("--order", opts->spec.order, "order of the Maclaurin approximations")->capture_default_str();
  add_run_options(cmd, *opts, "rnnscope-activations", /*threads=*/false);
  cmd->callback([opts] {
    const ActivationSpec& spec = opts->spec;
    run_one_study<ActivationsStudy>(*opts, spec, "activations: sigmoid' against tanh'", "rnnscope activations",
                                    "sigmoid' against tanh'", {{"eps", spec.eps}, {"order", spec.order}},
                                    [](OutputFolder& out, const ActivationResult& r) {
                                      return activations_section(out, r);
                                    });
  });
}

}  // namespace rnnscope::cli
