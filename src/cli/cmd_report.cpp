// rnnscope report: the standard gradient-flow study on defaults, as one folder
// with index.html, summary.json, a CSV per table and every figure as PNG and SVG.
#include <fmt/format.h>

#include <chrono>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/report/standard.hpp"

namespace rnnscope::cli {

void register_report(CLI::App& app) {
  struct Options : RunOptions {
    StandardReportSpec spec;
    bool quick = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("report",
                                 "the standard gradient-flow study on defaults: activations, look-back windows, "
                                 "spectra, LSTM paths, Lyapunov spectra, contributions, Conv1D stacks; one folder "
                                 "with index.html, summary.json, CSV tables and PNG/SVG figures");
  auto* t = cmd->add_option("--T", opts->spec.steps, "sequence length (1..10000)")->capture_default_str();
  auto* h = cmd->add_option("--hidden", opts->spec.hidden, "hidden units H (1..1024)")->capture_default_str();
  auto* s = cmd->add_option("--seeds", opts->spec.seeds, "independent initialisations averaged over (1..1000)")
                ->capture_default_str();
  auto* b = cmd->add_option("--batch", opts->spec.batch, "input sequences per initialisation (1..1000)")
                ->capture_default_str();
  cmd->add_flag("--quick", opts->quick,
                "a small report in a second or two: T 30, H 8, 2 seeds x 2 sequences unless given explicitly, and no "
                "learnability runs");
  add_seed_option(cmd, opts->spec.seed);
  add_run_options(cmd, *opts, "rnnscope-report");
  cmd->callback([opts, t, h, s, b] {
    Options o = *opts;
    // --quick changes the defaults only: an option given explicitly wins.
    if (o.quick) {
      if (t->count() == 0) o.spec.steps = 30;
      if (h->count() == 0) o.spec.hidden = 8;
      if (s->count() == 0) o.spec.seeds = 2;
      if (b->count() == 0) o.spec.batch = 2;
      o.spec.learnability = false;
    }
    o.spec.validate();
    Progress progress(o.quiet);
    const Execution e = execution(o, &progress);
    OutputFolder out(o.out, o.force);
    const auto start = std::chrono::steady_clock::now();
    const StandardResults results = run_standard_studies(o.spec, e);
    progress.end();
    const std::vector<Section> sections = write_standard_report(out, o.spec, results);
    for (const auto& section : sections) fmt::print("{}\n", section.screen);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{} in {:.1f} s\n", files_written(out), secs);
  });
}

}  // namespace rnnscope::cli
