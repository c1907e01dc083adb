// The standard gradient-flow report (rnnscope report): every study on every
// cell, on one set of sizes, as one folder with index.html, summary.json, a
// CSV per table and every figure as PNG and SVG.
//
// Computing and rendering are two calls: run_standard_studies returns the
// results (numbers only), write_standard_report renders them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rnnscope/report/sections.hpp"
#include "rnnscope/core/execution.hpp"
#include "rnnscope/studies/learnability.hpp"

namespace rnnscope {

/// The cells a report can hold: every recurrent cell, in the report's order.
std::vector<CellKind> report_cells();

struct StandardReportSpec {
  Index steps = 200;  // T
  Index hidden = 32;  // H
  int seeds = 5;
  Index batch = 4;
  std::uint64_t seed = 1;
  /// The initialisation of every recurrent network of the look-back, Lyapunov, contribution and LSTM-path
  /// sections, and the first of the spectrum section's four matrices; `scale` as in NetworkSpec. The phase
  /// diagram (whose subject is the scale g), the learnability grid (whose arms name their own) and the
  /// Conv1D stacks (PyTorch's Conv1d rule) keep theirs; every number the report shows is labelled with its own.
  Init init = Init::xavier;
  double scale = 1.0;
  /// The recurrent cells whose networks are in the report (report_cells() order; the CT-RNN twice, dt 0.1 and
  /// dt 1), and whether the Conv1D stacks are. A section whose cells are all left out is left out; the
  /// spectrum and phase sections need rnn_tanh, the LSTM paths lstm, the learnability grid one of its cells.
  std::vector<CellKind> cells = report_cells();
  bool conv1d = true;
  /// The activation study's point eps and Maclaurin order (rnnscope activations' --eps and --order), T = 1..20.
  double eps = 0.05;
  int order = 1;
  /// The learnability section: a small grid of training runs (learnability_grid).
  bool learnability = true;
  /// Throws InvalidInput naming the first field out of range. The limits keep
  /// a run within minutes and memory on a laptop (the contributions cost
  /// O(T^2 H^2), the chains O(T H^3)): T 1..10000, hidden 1..1024, seeds and batch 1..1000;
  /// cells without repeats and not all left out; every network's spec valid (--init critical needs each
  /// cell's mean field); the activation study's eps and order as activation_study takes them.
  void validate() const;
  bool has(CellKind k) const;
};

/// The results of every study of the report.
struct StandardResults {
  ActivationResult activations;
  std::vector<LabelledLookback> lookback;         // every recurrent cell, then a 2-layer LSTM stack
  std::vector<LabelledSpectrum> spectra;          // Elman tanh's W_hh under four initialisations
  std::vector<LabelledLstmPaths> lstm_paths;      // forget bias 0 and 1
  std::vector<LabelledLyapunov> lyapunov;         // every recurrent cell
  std::vector<LabelledContributions> contributions;  // every recurrent cell
  std::vector<LabelledConv> convs;                // two dilated stacks, beside the Elman tanh look-back
  std::optional<PhaseResult> phase;               // the Elman tanh cell's phase diagram (phase_grid)
  std::optional<LearnabilityResult> learnability;  // when spec.learnability
};

/// The report's learnability grid: LSTM, GRU, Elman tanh (PyTorch's and
/// orthogonal initialisation) and Elman ReLU with the identity (IRNN) on the
/// adding problem at T = 10, 30 and 100, 2 seeds, H = 64, at most 1500 steps
/// of Adam (lr 0.01); independent of the report's own sizes.
LearnabilitySpec learnability_grid(std::uint64_t seed);
/// The grid's arms whose cells are among `cells` (none: no arm, and the section is left out).
LearnabilitySpec learnability_grid(std::uint64_t seed, const std::vector<CellKind>& cells);

/// The report's phase diagram: the Elman tanh cell, theory on 49 x 25 points over g in [0.1, 3] and input
/// scales in [0, 3], measured at H = 128 (T = 500, one network) on 8 x 3; independent of the report's sizes.
PhaseSpec phase_grid(std::uint64_t seed);
/// Runs every study (8 stages on every cell, fewer when spec.cells leaves some
/// sections out, and the learnability grid as the last, told to execution.progress). The grid's runs go one per thread
/// (run_learnability), on execution.threads workers (0: OpenMP's count).
StandardResults run_standard_studies(const StandardReportSpec& spec, const Execution& execution = {});
/// The studies' peak memory (the largest stage's) and their work together (core/cost.hpp), with the
/// learnability grid on the execution's threads; run_standard_studies checks it before the first stage.
Cost standard_report_cost(const StandardReportSpec& spec, const Execution& execution = {});

/// Writes every section, summary.json and index.html into out; returns the sections (for their screen text).
std::vector<Section> write_standard_report(OutputFolder& out, const StandardReportSpec& spec,
                                           const StandardResults& results);

}  // namespace rnnscope
