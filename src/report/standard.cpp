// The standard report: which studies, on which cells and sizes, in which order.
#include "rnnscope/report/standard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/gemm.hpp"
#include "rnnscope/report/learnability.hpp"
#include "plot.hpp"

namespace rnnscope {

namespace {

NetworkSpec base_spec(const StandardReportSpec& o, CellKind cell, double dt = 0.1) {
  NetworkSpec s;
  s.model.cell = cell;
  s.model.input_size = 4;
  s.model.hidden_size = o.hidden;
  s.model.dt = dt;
  s.init = o.init;
  s.scale = o.scale;
  s.steps = o.steps;
  s.batch = o.batch;
  s.seeds = o.seeds;
  s.seed = o.seed;
  return s;
}

bool is_remedy(CellKind k) {
  return k == CellKind::rnn_residual || k == CellKind::rnn_skip || k == CellKind::rnn_antisymmetric;
}

/// Every recurrent cell of the report among o.cells, as the look-back, Lyapunov and contribution sections compare
/// them (the CT-RNN with dt 0.1 and dt 1); with `remedies` (the look-back and Lyapunov sections) also the remedy
/// cells: residual tanh, skip K = 10 and antisymmetric (eps 0.1, gamma 0.01), on the same networks' sizes and
/// initialisation.
std::vector<NetworkSpec> every_cell(const StandardReportSpec& o, bool remedies = false) {
  std::vector<NetworkSpec> v;
  for (const CellKind k : report_cells()) {
    if (!o.has(k) || (is_remedy(k) && !remedies)) continue;
    if (k == CellKind::ctrnn)
      for (const double dt : {0.1, 1.0}) v.push_back(base_spec(o, k, dt));
    else
      v.push_back(base_spec(o, k));
  }
  return v;
}

/// One stage: runs Study on each labelled spec, telling the progress of each task.
template <StudyType Study>
std::vector<Labelled<typename Study::Spec, typename Study::Result>> run_stage(
    const std::string& what, const std::vector<std::pair<std::string, typename Study::Spec>>& specs,
    const Execution& execution) {
  std::vector<std::vector<typename Study::Task>> tasks;  // validates every spec before any work
  int units = 0;
  for (const auto& [label, spec] : specs) {
    tasks.push_back(Study::tasks(spec));
    units += static_cast<int>(tasks.back().size());
  }
  if (execution.progress) execution.progress->begin(what, units);
  std::vector<Labelled<typename Study::Spec, typename Study::Result>> out;
  for (size_t i = 0; i < specs.size(); ++i)
    out.push_back({specs[i].first, specs[i].second, run_tasks<Study>(specs[i].second, tasks[i], execution)});
  if (execution.progress) execution.progress->end();
  return out;
}

template <class Spec>
std::vector<std::pair<std::string, Spec>> labelled_cells(const StandardReportSpec& o, bool remedies = false) {
  std::vector<std::pair<std::string, Spec>> v;
  for (const auto& s : every_cell(o, remedies)) {
    Spec spec;
    static_cast<NetworkSpec&>(spec) = s;
    v.emplace_back(cell_label(s.model), spec);
  }
  return v;
}

/// "Elman, LSTM, GRU, CT-RNN, residual, skip, antisymmetric and Conv1D": the kinds of networks in the report.
std::string report_networks(const StandardReportSpec& o) {
  std::vector<std::string> kinds;
  const auto add = [&](const std::string& k) {
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  };
  for (const CellKind k : o.cells) switch (k) {
      case CellKind::rnn_sigmoid:
      case CellKind::rnn_tanh:
      case CellKind::rnn_relu: add("Elman"); break;
      case CellKind::lstm: add("LSTM"); break;
      case CellKind::gru: add("GRU"); break;
      case CellKind::ctrnn: add("CT-RNN"); break;
      case CellKind::rnn_residual: add("residual"); break;
      case CellKind::rnn_skip: add("skip"); break;
      case CellKind::rnn_antisymmetric: add("antisymmetric"); break;
    }
  if (o.conv1d) add("Conv1D");
  std::string text;
  for (size_t i = 0; i < kinds.size(); ++i)
    text += (i == 0 ? "" : i + 1 == kinds.size() ? " and " : ", ") + kinds[i];
  return text;
}

}  // namespace

std::vector<CellKind> report_cells() {
  return {CellKind::rnn_sigmoid, CellKind::rnn_tanh,     CellKind::rnn_relu, CellKind::lstm,
          CellKind::gru,         CellKind::ctrnn,        CellKind::rnn_residual, CellKind::rnn_skip,
          CellKind::rnn_antisymmetric};
}

bool StandardReportSpec::has(CellKind k) const { return std::find(cells.begin(), cells.end(), k) != cells.end(); }

void StandardReportSpec::validate() const {
  require(steps >= 1 && steps <= 10000, fmt::format("T must be in 1..10000, got {}", steps));
  require(hidden >= 1 && hidden <= 1024, fmt::format("hidden must be in 1..1024, got {}", hidden));
  require(seeds >= 1 && seeds <= 1000, fmt::format("seeds must be in 1..1000, got {}", seeds));
  require(batch >= 1 && batch <= 1000, fmt::format("batch must be in 1..1000, got {}", batch));
  require(!cells.empty() || conv1d, "the report needs at least one cell (--cells)");
  for (size_t i = 0; i < cells.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      require(cells[i] != cells[j], fmt::format("--cells names {} twice", to_string(cells[i])));
  for (const NetworkSpec& s : every_cell(*this, true)) s.validate();
  ActivationSpec{eps, 20, order}.validate();
}

PhaseSpec phase_grid(std::uint64_t seed) {
  PhaseSpec p;
  p.model.cell = CellKind::rnn_tanh;
  p.model.hidden_size = 128;
  p.model.input_size = 1;
  p.g_points = 49;
  p.s_points = 25;
  p.measured_g = 8;
  p.measured_s = 3;
  p.steps = 500;
  p.seeds = 1;
  p.seed = seed;
  return p;
}

LearnabilitySpec learnability_grid(std::uint64_t seed) { return learnability_grid(seed, report_cells()); }

LearnabilitySpec learnability_grid(std::uint64_t seed, const std::vector<CellKind>& cells) {
  LearnabilitySpec s;
  std::vector<std::string> names, arms;
  for (const std::string arm : {"lstm:pytorch", "gru:pytorch", "rnn_tanh:pytorch", "rnn_tanh:orthogonal",
                                "rnn_relu:identity", "rnn_residual:pytorch", "rnn_skip:pytorch"}) {
    const std::string cell = arm.substr(0, arm.find(':'));
    if (std::find(cells.begin(), cells.end(), parse_cell(cell)) == cells.end()) continue;
    if (std::find(names.begin(), names.end(), cell) == names.end()) names.push_back(cell);
    arms.push_back(arm);
  }
  if (!names.empty()) s.arms = parse_arms(names, arms);
  s.lengths = {10, 30, 100};
  s.seeds = 2;
  s.train.model.hidden_size = 64;
  s.train.steps = 1500;
  s.train.eval_every = 100;
  s.train.eval_size = 200;
  s.train.optimizer.lr = 0.01;  // rnnscope train's defaults: Adam, lr 0.01, clip-norm 1, batch 50
  s.train.clip.norm = 1.0;
  s.train.batch = 50;
  s.train.seed = seed;
  return s;
}

namespace {

/// The cost of Study on each spec, one after the other.
template <StudyType Study, class Specs>
Cost stage_cost(const Specs& specs) {
  Cost c;
  for (const auto& [label, spec] : specs) c = then(c, Study::cost(spec));
  return c;
}

int learnability_workers(const Execution& execution) {
#ifdef _OPENMP
  return execution.threads > 0 ? execution.threads : omp_get_max_threads();
#else
  return std::max(1, execution.threads);
#endif
}

}  // namespace

Cost standard_report_cost(const StandardReportSpec& o, const Execution& execution) {
  o.validate();
  Cost c = ActivationsStudy::cost(ActivationSpec{o.eps, 20, o.order});
  if (!o.cells.empty()) {
    auto lookbacks = labelled_cells<LookbackSpec>(o, true);
    if (o.has(CellKind::lstm)) {
      LookbackSpec stack = base_spec(o, CellKind::lstm);
      stack.model.num_layers = 2;
      lookbacks.emplace_back("LSTM 2 layers", stack);
    }
    c = then(c, stage_cost<LookbackStudy>(lookbacks));
    c = then(c, stage_cost<LyapunovStudy>(labelled_cells<LyapunovSpec>(o, true)));
    c = then(c, stage_cost<ContributionStudy>(labelled_cells<ContributionSpec>(o)));
  }
  if (o.has(CellKind::rnn_tanh)) {
    SpectrumSpec s;
    static_cast<NetworkSpec&>(s) = base_spec(o, CellKind::rnn_tanh);
    s.max_power = 100;
    c = then(c, times(SpectrumStudy::cost(s), 4));  // four initialisations
    c = then(c, PhaseStudy::cost(phase_grid(o.seed)));
  }
  if (o.has(CellKind::lstm)) {
    LstmPathSpec s;
    static_cast<NetworkSpec&>(s) = base_spec(o, CellKind::lstm);
    c = then(c, times(LstmPathStudy::cost(s), 2));  // two forget biases
  }
  if (o.learnability) {
    const LearnabilitySpec grid = learnability_grid(o.seed, o.cells);
    if (!grid.arms.empty())
      c = then(c, learnability_cost(grid, LearnabilityStudy::tasks(grid), learnability_workers(execution)));
  }
  return c;
}

StandardResults run_standard_studies(const StandardReportSpec& o, const Execution& execution) {
  o.validate();
  check_cost(standard_report_cost(o, execution), execution);
  StandardResults r;
  const bool tanh = o.has(CellKind::rnn_tanh), lstm = o.has(CellKind::lstm), recurrent = !o.cells.empty();
  const LearnabilitySpec grid = learnability_grid(o.seed, o.cells);
  const bool learn = o.learnability && !grid.arms.empty();
  if (execution.progress)
    execution.progress->set_stages(1 + (recurrent ? 3 : 0) + (tanh ? 2 : 0) + (lstm ? 1 : 0) + (o.conv1d ? 1 : 0) +
                                   (learn ? 1 : 0));

  r.activations = run_stage<ActivationsStudy>("activations: sigmoid' against tanh'",
                                              {{"activations", ActivationSpec{o.eps, 20, o.order}}}, execution)
                      .front()
                      .result;
  if (recurrent) {
    // Every chosen cell, then (with the LSTM) a two-layer LSTM stack: its first layer's ratio beside the
    // others, and the end-to-end measure through the whole stack.
    auto lookbacks = labelled_cells<LookbackSpec>(o, true);
    if (lstm) {
      LookbackSpec stack = base_spec(o, CellKind::lstm);
      stack.model.num_layers = 2;
      lookbacks.emplace_back("LSTM 2 layers", stack);
    }
    r.lookback = run_stage<LookbackStudy>("look-back window", lookbacks, execution);
  }

  if (tanh) {
    // The report's initialisation first, then the three references it is not.
    std::vector<std::pair<Init, double>> inits = {{o.init, o.scale}};
    for (const auto& ref : std::vector<std::pair<Init, double>>{
             {Init::xavier, 1.0}, {Init::orthogonal, 1.0}, {Init::scaled, 0.8}, {Init::scaled, 1.2}})
      if (inits.size() < 4 && std::find(inits.begin(), inits.end(), ref) == inits.end()) inits.push_back(ref);
    std::vector<std::pair<std::string, SpectrumSpec>> spectra;
    for (const auto& [init, scale] : inits) {
      SpectrumSpec s;
      static_cast<NetworkSpec&>(s) = base_spec(o, CellKind::rnn_tanh);
      s.init = init;
      s.scale = scale;
      s.max_power = 100;
      spectra.emplace_back(detail::init_label(s), s);
    }
    for (auto& run : run_stage<SpectrumStudy>("spectra of W_hh", spectra, execution))
      r.spectra.push_back({run.label, run.result.blocks.front()});
  }

  if (lstm) {
    std::vector<std::pair<std::string, LstmPathSpec>> lstms;
    for (const double fb : {0.0, 1.0}) {
      LstmPathSpec s;
      static_cast<NetworkSpec&>(s) = base_spec(o, CellKind::lstm);
      s.forget_bias = fb;
      lstms.emplace_back(fmt::format("forget bias {}", fb), s);
    }
    r.lstm_paths = run_stage<LstmPathStudy>("LSTM cell path against hidden path", lstms, execution);
  }
  if (recurrent) {
    r.lyapunov = run_stage<LyapunovStudy>("Lyapunov spectra", labelled_cells<LyapunovSpec>(o, true), execution);
    r.contributions =
        run_stage<ContributionStudy>("BPTT contributions by distance", labelled_cells<ContributionSpec>(o), execution);
  }

  if (o.conv1d) {
    ConvSpec c1;
    // Long enough to show the zeros past the larger receptive field (32) even with a small T.
    c1.steps = std::max<Index>(o.steps, 64);
    c1.seed = o.seed;
    c1.kernel_size = 3;
    c1.dilations = {1, 2, 4};
    ConvSpec c2 = c1;
    c2.kernel_size = 2;
    c2.dilations = {1, 2, 4, 8, 16};
    r.convs = run_stage<ConvStudy>("Conv1D stacks against distance",
                                   {{"Conv1D K=3 dilation 1-2-4", c1}, {"Conv1D K=2 dilation 1-16", c2}}, execution);
  }
  if (tanh)
    r.phase =
        run_stage<PhaseStudy>("phase diagram of the Elman tanh cell", {{"phase", phase_grid(o.seed)}}, execution)
            .front()
            .result;
  if (learn) {
    const auto runs = LearnabilityStudy::tasks(grid);
    if (execution.progress)
      execution.progress->begin(fmt::format("learnability: {} training runs", runs.size()),
                                static_cast<int>(runs.size()));
    const int workers = learnability_workers(execution);
    LearnabilityHooks hooks;
    hooks.on_row = [&](const LearnabilityRow&) {
      if (execution.progress) execution.progress->advance(1);
    };
    r.learnability =
        LearnabilityStudy::reduce(grid, run_learnability(grid, runs, workers, hooks, execution.max_memory));
  }
  return r;
}

std::vector<Section> write_standard_report(OutputFolder& out, const StandardReportSpec& o,
                                           const StandardResults& r) {
  std::vector<Section> sections;
  sections.push_back(activations_section(out, r.activations));
  if (!r.lookback.empty()) sections.push_back(lookback_section(out, r.lookback));
  if (!r.spectra.empty())
    sections.push_back(spectrum_section(out, r.spectra, "spectrum",
                                        fmt::format("W_hh (H = {}) under four initialisations", o.hidden)));
  if (!r.lstm_paths.empty()) sections.push_back(lstm_paths_section(out, r.lstm_paths));
  if (!r.lyapunov.empty()) sections.push_back(lyapunov_section(out, r.lyapunov));
  if (!r.contributions.empty()) sections.push_back(contributions_section(out, r.contributions));
  if (!r.convs.empty()) {
    const LabelledLookback* tanh = nullptr;
    for (const auto& l : r.lookback)
      if (l.spec.model.cell == CellKind::rnn_tanh) tanh = &l;
    sections.push_back(conv_section(out, r.convs, tanh));
  }
  if (r.phase) sections.push_back(phase_section(out, phase_grid(o.seed), *r.phase, "Elman tanh"));
  const std::string full_study = "rnnscope learnability --out learnability_out";
  const LearnabilitySpec grid = learnability_grid(o.seed, o.cells);
  if (r.learnability) {
    sections.push_back(learnability_section(out, grid, *r.learnability, "learnability_", full_study));
  } else {
    // Left out by --quick, or by --cells leaving none of the grid's cells.
    const std::string why = o.learnability ? "--cells" : "--quick";
    Section s;
    s.html.id = "learnability";
    s.html.title = "Learnability";
    s.html.reading = o.learnability ? "Left out of this report (--cells): none of the learnability grid's cells "
                                      "(lstm, gru, rnn_tanh, rnn_relu, rnn_residual, rnn_skip) is among them. The "
                                      "full study: " + full_study
                                    : "Left out of this report (--quick): the training runs take about half a "
                                      "minute. The full study, with the runs' rows and the gradients at "
                                      "initialisation: " + full_study;
    s.summary = {{"left_out", why}};
    s.screen = "learnability: left out (" + why + "); the full study: " + full_study;
    sections.push_back(s);
  }
  std::vector<std::string> cells;
  for (const CellKind k : o.cells) cells.emplace_back(to_string(k));
  if (o.conv1d) cells.emplace_back("conv1d");
  NetworkSpec networks;
  networks.init = o.init;
  networks.scale = o.scale;
  const std::string init = detail::init_label(networks);
  const nlohmann::json run_facts = {{"T", o.steps},       {"hidden", o.hidden},     {"seeds", o.seeds},
                                    {"batch", o.batch},   {"seed", o.seed},         {"init", init},
                                    {"cells", cells},     {"eps", o.eps},           {"order", o.order},
                                    {"input_size", 4},    {"version", "rnnscope " RNNSCOPE_VERSION},
                                    {"matrix_kernel", gemm_kernel_description()}};
  write_index(out, "rnnscope report: how gradients vanish and explode through time",
              fmt::format("Exact gradients through time of {} networks (H = {}, T = {}, {} seeds x {} sequences, {} "
                          "initialisation; the phase diagram, the learnability runs and the Conv1D stacks name "
                          "their own)",
                          report_networks(o), o.hidden, o.steps, o.seeds, o.batch, init),
              run_facts, sections);
  return sections;
}

}  // namespace rnnscope
