// rnnscope report: the standard gradient-flow study on defaults, as one folder
// with index.html, summary.json, a CSV per table and every figure as PNG and SVG.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/gemm.hpp"
#include "sections.hpp"

namespace rnnscope::cli {

namespace {

struct Options : RunOptions {
  int steps = 200;
  int hidden = 32;
  int seeds = 5;
  int batch = 4;
  bool quick = false;
};

LookbackSpec base_spec(const Options& o, CellKind cell, double dt = 0.1) {
  LookbackSpec s;
  s.model.cell = cell;
  s.model.input_size = 4;
  s.model.hidden_size = o.hidden;
  s.model.dt = dt;
  s.init = Init::xavier;
  s.steps = o.steps;
  s.batch = o.batch;
  s.seeds = o.seeds;
  s.seed = o.seed;
  return s;
}

/// Every recurrent cell of the report, as the look-back, Lyapunov and contribution sections compare them.
std::vector<Labelled> every_cell(const Options& o) {
  std::vector<Labelled> v;
  for (const CellKind k : {CellKind::rnn_sigmoid, CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::lstm,
                           CellKind::gru}) {
    const auto s = base_spec(o, k);
    v.push_back({cell_label(s.model), s});
  }
  for (const double dt : {0.1, 1.0}) {
    const auto s = base_spec(o, CellKind::ctrnn, dt);
    v.push_back({cell_label(s.model), s});
  }
  return v;
}

void run(Options o) {
  // Upper limits keep a run within minutes and memory on a laptop (the
  // contributions cost O(T^2 H^2), the chains O(T H^3)).
  require(o.steps >= 1 && o.steps <= 10000, fmt::format("--T must be in 1..10000, got {}", o.steps));
  require(o.hidden >= 1 && o.hidden <= 1024, fmt::format("--hidden must be in 1..1024, got {}", o.hidden));
  require(o.seeds >= 1 && o.seeds <= 1000, fmt::format("--seeds must be in 1..1000, got {}", o.seeds));
  require(o.batch >= 1 && o.batch <= 1000, fmt::format("--batch must be in 1..1000, got {}", o.batch));
  apply_run_options(o);
  OutputFolder out(o.out, o.force);
  Progress progress(o.quiet);
  progress.set_stages(7);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Section> sections;

  sections.push_back(activations_section(out, progress, 0.05, 20, 1));
  const auto cells = every_cell(o);
  sections.push_back(lookback_section(out, progress, cells));

  progress.begin("spectra of W_hh", 4);
  std::vector<LabelledSpectrum> spectra;
  for (const auto& [init, scale] : std::vector<std::pair<Init, double>>{
           {Init::xavier, 1.0}, {Init::orthogonal, 1.0}, {Init::scaled, 0.8}, {Init::scaled, 1.2}}) {
    auto s = base_spec(o, CellKind::rnn_tanh);
    s.init = init;
    s.scale = scale;
    const std::string label = init == Init::scaled ? fmt::format("scaled {}", scale) : std::string(to_string(init));
    spectra.push_back({label, spectrum_study(s, 100).front()});
    progress.advance();
  }
  sections.push_back(spectrum_section(out, spectra, "spectrum",
                                      fmt::format("W_hh (H = {}) under four initialisations", o.hidden)));
  progress.end();

  std::vector<Labelled> lstms;
  for (const double fb : {0.0, 1.0}) {
    auto s = base_spec(o, CellKind::lstm);
    s.forget_bias = fb;
    lstms.push_back({fmt::format("forget bias {}", fb), s});
  }
  sections.push_back(lstm_paths_section(out, progress, lstms));
  sections.push_back(lyapunov_section(out, progress, cells, 0));
  sections.push_back(contributions_section(out, progress, cells));

  std::vector<LabelledConv> convs;
  ConvSpec c1;
  // Long enough to show the zeros past the larger receptive field (32) even with a small --T.
  c1.steps = std::max(o.steps, 64);
  c1.seed = o.seed;
  c1.kernel_size = 3;
  c1.dilations = {1, 2, 4};
  convs.push_back({"Conv1D K=3 dilation 1-2-4", c1});
  ConvSpec c2 = c1;
  c2.kernel_size = 2;
  c2.dilations = {1, 2, 4, 8, 16};
  convs.push_back({"Conv1D K=2 dilation 1-16", c2});
  sections.push_back(conv_section(out, progress, convs, cells[1]));
  progress.end();

  const nlohmann::json run_facts = {{"T", o.steps},       {"hidden", o.hidden},     {"seeds", o.seeds},
                                    {"batch", o.batch},   {"seed", o.seed},         {"init", "xavier"},
                                    {"input_size", 4},    {"version", "rnnscope 0.1.0"},
                                    {"matrix_kernel", gemm_kernel_description()}};
  write_index(out, "rnnscope report: how gradients vanish and explode through time",
              fmt::format("Exact gradients through time of Elman, LSTM, GRU, CT-RNN and Conv1D networks "
                          "(H = {}, T = {}, {} seeds x {} sequences)",
                          o.hidden, o.steps, o.seeds, o.batch),
              run_facts, sections);
  for (const auto& s : sections) fmt::print("{}\n", s.screen);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{} in {:.1f} s\n", files_written(out), secs);
}

}  // namespace

void register_report(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("report",
                                 "the standard gradient-flow study on defaults: activations, look-back windows, "
                                 "spectra, LSTM paths, Lyapunov spectra, contributions, Conv1D stacks; one folder "
                                 "with index.html, summary.json, CSV tables and PNG/SVG figures");
  auto* t = cmd->add_option("--T", opts->steps, "sequence length (1..10000)")->capture_default_str();
  auto* h = cmd->add_option("--hidden", opts->hidden, "hidden units H (1..1024)")->capture_default_str();
  auto* s = cmd->add_option("--seeds", opts->seeds, "independent initialisations averaged over (1..1000)")
                ->capture_default_str();
  auto* b = cmd->add_option("--batch", opts->batch, "input sequences per initialisation (1..1000)")
                ->capture_default_str();
  cmd->add_flag("--quick", opts->quick,
                "a small report in a second or two: T 30, H 8, 2 seeds x 2 sequences unless given explicitly");
  add_run_options(cmd, *opts, "rnnscope-report");
  cmd->callback([opts, t, h, s, b] {
    Options o = *opts;
    // --quick changes the defaults only: an option given explicitly wins.
    if (o.quick) {
      if (t->count() == 0) o.steps = 30;
      if (h->count() == 0) o.hidden = 8;
      if (s->count() == 0) o.seeds = 2;
      if (b->count() == 0) o.batch = 2;
    }
    run(o);
  });
}

}  // namespace rnnscope::cli
