// The standard gradient-flow report (rnnscope report): every study on every
// cell, on one set of sizes, as one folder with index.html, summary.json, a
// CSV per table and every figure as PNG and SVG.
//
// Computing and rendering are two calls: run_standard_studies returns the
// results (numbers only), write_standard_report renders them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "rnnscope/report/sections.hpp"
#include "rnnscope/core/execution.hpp"
#include "rnnscope/studies/learnability.hpp"

namespace rnnscope {

struct StandardReportSpec {
  Index steps = 200;  // T
  Index hidden = 32;  // H
  int seeds = 5;
  Index batch = 4;
  std::uint64_t seed = 1;
  /// The learnability section: a small grid of training runs (learnability_grid).
  bool learnability = true;
  /// Throws InvalidInput naming the first field out of range. The limits keep
  /// a run within minutes and memory on a laptop (the contributions cost
  /// O(T^2 H^2), the chains O(T H^3)): T 1..10000, hidden 1..1024, seeds and batch 1..1000.
  void validate() const;
};

/// The results of every study of the report.
struct StandardResults {
  ActivationResult activations;
  std::vector<LabelledLookback> lookback;         // every recurrent cell, then a 2-layer LSTM stack
  std::vector<LabelledSpectrum> spectra;          // Elman tanh's W_hh under four initialisations
  std::vector<LabelledLstmPaths> lstm_paths;      // forget bias 0 and 1
  std::vector<LabelledLyapunov> lyapunov;         // every recurrent cell
  std::vector<LabelledContributions> contributions;  // every recurrent cell
  std::vector<LabelledConv> convs;                // two dilated stacks, beside lookback[1] (Elman tanh)
  PhaseResult phase;                              // the Elman tanh cell's phase diagram (phase_grid)
  std::optional<LearnabilityResult> learnability;  // when spec.learnability
};

/// The report's learnability grid: LSTM, GRU, Elman tanh (PyTorch's and
/// orthogonal initialisation) and Elman ReLU with the identity (IRNN) on the
/// adding problem at T = 10, 30 and 100, 2 seeds, H = 64, at most 1500 steps
/// of Adam (lr 0.01); independent of the report's own sizes.
LearnabilitySpec learnability_grid(std::uint64_t seed);

/// The report's phase diagram: the Elman tanh cell, theory on 49 x 25 points over g in [0.1, 3] and input
/// scales in [0, 3], measured at H = 128 (T = 500, one network) on 8 x 3; independent of the report's sizes.
PhaseSpec phase_grid(std::uint64_t seed);
/// Runs every study (8 stages, and the learnability grid as a ninth, told
/// to execution.progress). The grid's runs go one per thread
/// (run_learnability), on execution.threads workers (0: OpenMP's count).
StandardResults run_standard_studies(const StandardReportSpec& spec, const Execution& execution = {});

/// Writes every section, summary.json and index.html into out; returns the sections (for their screen text).
std::vector<Section> write_standard_report(OutputFolder& out, const StandardReportSpec& spec,
                                           const StandardResults& results);

}  // namespace rnnscope
