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

namespace rnnscope {

namespace {

NetworkSpec base_spec(const StandardReportSpec& o, CellKind cell, double dt = 0.1) {
  NetworkSpec s;
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

/// Every recurrent cell of the report, as the look-back, Lyapunov and contribution sections compare them;
/// with `remedies` (the look-back and Lyapunov sections) also the remedy cells: residual tanh, skip K = 10
/// and antisymmetric (eps 0.1, gamma 0.01), on the same networks' sizes and initialisation.
std::vector<NetworkSpec> every_cell(const StandardReportSpec& o, bool remedies = false) {
  std::vector<NetworkSpec> v;
  for (const CellKind k : {CellKind::rnn_sigmoid, CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::lstm,
                           CellKind::gru})
    v.push_back(base_spec(o, k));
  for (const double dt : {0.1, 1.0}) v.push_back(base_spec(o, CellKind::ctrnn, dt));
  if (remedies)
    for (const CellKind k : {CellKind::rnn_residual, CellKind::rnn_skip, CellKind::rnn_antisymmetric})
      v.push_back(base_spec(o, k));
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

}  // namespace

void StandardReportSpec::validate() const {
  require(steps >= 1 && steps <= 10000, fmt::format("T must be in 1..10000, got {}", steps));
  require(hidden >= 1 && hidden <= 1024, fmt::format("hidden must be in 1..1024, got {}", hidden));
  require(seeds >= 1 && seeds <= 1000, fmt::format("seeds must be in 1..1000, got {}", seeds));
  require(batch >= 1 && batch <= 1000, fmt::format("batch must be in 1..1000, got {}", batch));
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

LearnabilitySpec learnability_grid(std::uint64_t seed) {
  LearnabilitySpec s;
  s.arms = parse_arms({"lstm", "gru", "rnn_tanh", "rnn_relu", "rnn_residual", "rnn_skip"},
                      {"lstm:pytorch", "gru:pytorch", "rnn_tanh:pytorch", "rnn_tanh:orthogonal", "rnn_relu:identity",
                       "rnn_residual:pytorch", "rnn_skip:pytorch"});
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

StandardResults run_standard_studies(const StandardReportSpec& o, const Execution& execution) {
  o.validate();
  StandardResults r;
  if (execution.progress) execution.progress->set_stages(o.learnability ? 9 : 8);

  r.activations = run_stage<ActivationsStudy>("activations: sigmoid' against tanh'",
                                              {{"activations", ActivationSpec{0.05, 20, 1}}}, execution)
                      .front()
                      .result;
  r.lookback = run_stage<LookbackStudy>("look-back window", labelled_cells<LookbackSpec>(o, true), execution);

  std::vector<std::pair<std::string, SpectrumSpec>> spectra;
  for (const auto& [init, scale] : std::vector<std::pair<Init, double>>{
           {Init::xavier, 1.0}, {Init::orthogonal, 1.0}, {Init::scaled, 0.8}, {Init::scaled, 1.2}}) {
    SpectrumSpec s;
    static_cast<NetworkSpec&>(s) = base_spec(o, CellKind::rnn_tanh);
    s.init = init;
    s.scale = scale;
    s.max_power = 100;
    spectra.emplace_back(init == Init::scaled ? fmt::format("scaled {}", scale) : std::string(to_string(init)), s);
  }
  for (auto& run : run_stage<SpectrumStudy>("spectra of W_hh", spectra, execution))
    r.spectra.push_back({run.label, run.result.blocks.front()});

  std::vector<std::pair<std::string, LstmPathSpec>> lstms;
  for (const double fb : {0.0, 1.0}) {
    LstmPathSpec s;
    static_cast<NetworkSpec&>(s) = base_spec(o, CellKind::lstm);
    s.forget_bias = fb;
    lstms.emplace_back(fmt::format("forget bias {}", fb), s);
  }
  r.lstm_paths = run_stage<LstmPathStudy>("LSTM cell path against hidden path", lstms, execution);
  r.lyapunov = run_stage<LyapunovStudy>("Lyapunov spectra", labelled_cells<LyapunovSpec>(o, true), execution);
  r.contributions =
      run_stage<ContributionStudy>("BPTT contributions by distance", labelled_cells<ContributionSpec>(o), execution);

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
  r.phase = run_stage<PhaseStudy>("phase diagram of the Elman tanh cell", {{"phase", phase_grid(o.seed)}}, execution)
                .front()
                .result;
  if (o.learnability) {
    const LearnabilitySpec grid = learnability_grid(o.seed);
    const auto runs = LearnabilityStudy::tasks(grid);
    if (execution.progress)
      execution.progress->begin(fmt::format("learnability: {} training runs", runs.size()),
                                static_cast<int>(runs.size()));
#ifdef _OPENMP
    const int workers = execution.threads > 0 ? execution.threads : omp_get_max_threads();
#else
    const int workers = std::max(1, execution.threads);
#endif
    LearnabilityHooks hooks;
    hooks.on_row = [&](const LearnabilityRow&) {
      if (execution.progress) execution.progress->advance(1);
    };
    r.learnability = LearnabilityStudy::reduce(grid, run_learnability(grid, runs, workers, hooks));
  }
  return r;
}

std::vector<Section> write_standard_report(OutputFolder& out, const StandardReportSpec& o,
                                           const StandardResults& r) {
  std::vector<Section> sections;
  sections.push_back(activations_section(out, r.activations));
  sections.push_back(lookback_section(out, r.lookback));
  sections.push_back(spectrum_section(out, r.spectra, "spectrum",
                                      fmt::format("W_hh (H = {}) under four initialisations", o.hidden)));
  sections.push_back(lstm_paths_section(out, r.lstm_paths));
  sections.push_back(lyapunov_section(out, r.lyapunov));
  sections.push_back(contributions_section(out, r.contributions));
  sections.push_back(conv_section(out, r.convs, &r.lookback[1]));
  sections.push_back(phase_section(out, phase_grid(o.seed), r.phase, "Elman tanh"));
  const std::string full_study = "rnnscope learnability --out learnability_out";
  if (r.learnability) {
    sections.push_back(learnability_section(out, learnability_grid(o.seed), *r.learnability, "learnability_",
                                            full_study));
  } else {
    Section s;
    s.html.id = "learnability";
    s.html.title = "Learnability";
    s.html.reading = "Left out of this report (--quick): the training runs take about half a minute. The full "
                     "study, with the runs' rows and the gradients at initialisation: " + full_study;
    s.summary = {{"left_out", "--quick"}};
    s.screen = "learnability: left out (--quick); the full study: " + full_study;
    sections.push_back(s);
  }
  const nlohmann::json run_facts = {{"T", o.steps},       {"hidden", o.hidden},     {"seeds", o.seeds},
                                    {"batch", o.batch},   {"seed", o.seed},         {"init", "xavier"},
                                    {"input_size", 4},    {"version", "rnnscope " RNNSCOPE_VERSION},
                                    {"matrix_kernel", gemm_kernel_description()}};
  write_index(
      out, "rnnscope report: how gradients vanish and explode through time",
      fmt::format(
          "Exact gradients through time of Elman, LSTM, GRU, CT-RNN, residual, skip, antisymmetric and Conv1D networks "
          "(H = {}, T = {}, {} seeds x {} sequences)",
          o.hidden, o.steps, o.seeds, o.batch),
      run_facts, sections);
  return sections;
}

}  // namespace rnnscope
