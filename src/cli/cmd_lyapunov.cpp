// rnnscope lyapunov: the Lyapunov spectrum of a cell's trajectories.
#include "commands.hpp"
#include "common.hpp"

namespace rnnscope::cli {

void register_lyapunov(CLI::App& app) {
  struct Options : NetworkOptions {
    int top = 0;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("lyapunov",
                                 "Lyapunov spectrum of a cell's trajectories by QR re-orthonormalisation, mean and "
                                 "spread over seeds and sequences");
  add_network_options(cmd, *opts, "rnnscope-lyapunov");
  cmd->add_option("--top", opts->top, "number of exponents, largest first (0: all)")->capture_default_str();
  cmd->callback([opts, cmd] {
    LyapunovSpec spec;
    static_cast<NetworkSpec&>(spec) = network_spec(*opts, cmd);
    spec.top = opts->top;
    run_one_study<LyapunovStudy>(*opts, spec, "Lyapunov spectra", "rnnscope lyapunov",
                                 "The Lyapunov spectrum of one cell", {{"seed", spec.seed}},
                                 [&](OutputFolder& out, const LyapunovResult& r) {
                                   return lyapunov_section(out, {{cell_label(spec.model), spec, r}});
                                 });
  });
}

}  // namespace rnnscope::cli
