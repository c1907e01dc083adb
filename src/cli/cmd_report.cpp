// rnnscope report: the standard gradient-flow study on defaults, as one folder
// with index.html, summary.json, a CSV per table and every figure as PNG and SVG.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/report/standard.hpp"

namespace rnnscope::cli {

void register_report(CLI::App& app) {
  struct Options : RunOptions {
    StandardReportSpec spec;
    bool quick = false;
    std::string init = "xavier";
    std::string cells;
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
  cmd->add_option("--init", opts->init,
                  "initialisation of every recurrent network: pytorch, xavier, orthogonal, identity, scaled or "
                  "critical (the mean-field g_c)")
      ->capture_default_str();
  cmd->add_option("--scale", opts->spec.scale, "scale of the recurrent initialisation (orthogonal, identity, scaled)")
      ->capture_default_str();
  // The names --cells takes: the report's recurrent cells and conv1d.
  std::string choices;
  for (const CellKind k : report_cells()) choices += std::string(to_string(k)) + ", ";
  choices += "or conv1d";
  cmd->add_option("--cells", opts->cells,
                  fmt::format("comma-separated cells whose networks are in the report: {} (default: all)", choices));
  cmd->add_option("--eps", opts->spec.eps, "activation study: point at which the derivatives are compared")
      ->capture_default_str();
  cmd->add_option("--order", opts->spec.order, "activation study: order of the Maclaurin approximations")
      ->capture_default_str();
  cmd->add_flag("--quick", opts->quick,
                "a small report in a second or two: T 30, H 8, 2 seeds x 2 sequences unless given explicitly, and no "
                "learnability runs");
  add_seed_option(cmd, opts->spec.seed);
  add_run_options(cmd, *opts, "rnnscope-report");
  cmd->callback([opts, t, h, s, b, cmd, choices] {
    Options o = *opts;
    o.spec.init = parse_init(o.init);
    if (given(cmd, "--cells")) {
      o.spec.cells.clear();
      o.spec.conv1d = false;
      std::stringstream list(o.cells);
      std::string name;
      while (std::getline(list, name, ',')) {
        if (name == "conv1d") {
          require(!o.spec.conv1d, "--cells names conv1d twice");
          o.spec.conv1d = true;
          continue;
        }
        const auto& known = report_cells();
        const auto k = std::find_if(known.begin(), known.end(), [&](CellKind c) { return to_string(c) == name; });
        require(k != known.end(),
                fmt::format("unknown cell '{}' in --cells (expected {})", name, choices));
        o.spec.cells.push_back(*k);
      }
    }
    // Options that would change nothing: without a recurrent cell no network takes --init, --scale, --hidden,
    // --seeds or --batch (the Conv1D stacks have their own); --scale only scales some initialisations.
    if (o.spec.cells.empty())
      for (const char* option : {"--init", "--scale", "--hidden", "--seeds", "--batch"})
        require(!given(cmd, option),
                fmt::format("{} shapes the recurrent networks; --cells has none (conv1d only)", option));
    refuse_inert_options(cmd, o.spec.cells, {o.spec.init});
    // --quick changes the defaults only: an option given explicitly wins.
    if (o.quick) {
      if (t->count() == 0) o.spec.steps = 30;
      if (h->count() == 0) o.spec.hidden = 8;
      if (s->count() == 0) o.spec.seeds = 2;
      if (b->count() == 0) o.spec.batch = 2;
      o.spec.learnability = false;
    }
    o.spec.validate();
    StoppableProgress progress(o.quiet, stopped_before_writing(o.out));
    const Execution e = execution(o, &progress);
    Execution memory_only = e;
    memory_only.progress = nullptr;  // run_standard_studies tells the estimate
    check_cost(standard_report_cost(o.spec, e), memory_only);
    OutputFolder out(o.out, o.force);
    const auto start = std::chrono::steady_clock::now();
    const StandardResults results = run_standard_studies(o.spec, e);
    progress.end();
    const std::vector<Section> sections = write_standard_report(out, o.spec, results);
    for (const auto& section : sections) fmt::print("{}\n", section.screen);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{} in {:.1f} s\n", files_written(out), secs);
    progress.stop_if_requested(stopped_after_writing(o.out));
  });
}

}  // namespace rnnscope::cli
