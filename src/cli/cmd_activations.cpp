// rnnscope activations: the sigmoid/tanh derivative study (rho(eps)^T, intervals).
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/diagnostics/activation_study.hpp"
#include "sections.hpp"

namespace rnnscope::cli {

namespace {

struct Options : RunOptions {
  double eps = 0.05;
  int steps = 20;
  int order = 1;
};

void run(const Options& o) {
  apply_run_options(o);
  // The study validates eps, T and order before anything is written.
  (void)activation_study(o.eps, o.steps, o.order);
  OutputFolder out(o.out, o.force);
  Progress progress(o.quiet);
  const Section s = activations_section(out, progress, o.eps, o.steps, o.order);
  write_index(out, "rnnscope activations", "sigmoid' against tanh'", {{"eps", o.eps}, {"order", o.order}}, {s});
  fmt::print("{}\n{}\n", s.screen, files_written(out));
}

}  // namespace

void register_activations(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("activations",
                                 "sigmoid' against tanh': exact and Maclaurin approximations, the "
                                 "interval where sigmoid' <= tanh', and rho(eps)^T");
  cmd->add_option("--eps", opts->eps, "point at which the derivatives are compared")->capture_default_str();
  cmd->add_option("--T", opts->steps, "largest power T of rho(eps)^T")->capture_default_str();
  cmd->add_option("--order", opts->order, "order of the Maclaurin approximations")->capture_default_str();
  add_run_options(cmd, *opts, "rnnscope-activations");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
