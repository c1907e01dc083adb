// The diagnostics of a given model on a given input, layer by layer
// (rnnscope analyze). Task: one layer; each task runs the stack forward and
// analyses its layer, so the layers can be analysed anywhere.
//
// The random-projection loss of layer l is drawn from Rng(seed) after the
// projections of layers 0..l-1, as if the layers were analysed in order.
#pragma once

#include <cstdint>
#include <vector>

#include "rnnscope/diagnostics/mean_field.hpp"
#include "rnnscope/diagnostics/recurrent_blocks.hpp"
#include "rnnscope/sequence/model.hpp"
#include "rnnscope/studies/contributions.hpp"
#include "rnnscope/studies/end_to_end.hpp"
#include "rnnscope/studies/study.hpp"

namespace rnnscope {

struct AnalysisOptions {
  Index max_batch = 8;    // batch elements analysed (the first ones)
  int max_power = 50;     // W^n for n = 1..max_power
  Index lyapunov_k = 0;   // 0: all exponents
  std::uint64_t seed = 1; // for the random-projection loss
};

struct AnalysisSpec {
  Model<double> model;
  CellKind kind = CellKind::rnn_tanh;
  Mat<double> x;       // (I, T*B)
  Index batch = 1;     // B
  Mat<double> state0;  // (L*S, B) or empty
  AnalysisOptions options;
  ModelSpec model_spec;  // the model file's: the theory's cell, sizes and dt
  /// Throws InvalidInput on an input that holds no whole sequence, a
  /// non-finite input, max_batch or max_power < 1, or lyapunov_k outside 0..state size.
  void validate() const;
};

/// An LSTM layer's forget gates along the trajectory (seed 002, exercise 3), per step t = 0..T-1.
struct ForgetGateTrace {
  std::vector<Index> step;                // t
  std::vector<double> mean, min, max;     // of f_t over the H units and every batch element
  // Over the batch elements analysed (means): log10 of the spectral norms of the exact cell-to-cell Jacobian
  // J_c = dc_t/dc_{t-1} (LSTM::cell_to_cell_jacobian) and of its direct path diag(f_t), and the relative
  // difference ||J_c - diag(f_t)||_2 / ||J_c||_2 (0 where the path through h_{t-1} is absent: t = 0, W_hh = 0).
  std::vector<double> jacobian_log10, direct_log10, relative_difference;
};

/// The diagnostics of one layer.
struct LayerAnalysis {
  Index layer = 0;
  std::vector<Index> distance;  // L = 0..T
  // log10 ||ds_{T-1}/ds_{T-1-L}||_2 over the batch elements whose chain is not exactly zero
  // (chain_zero_share: the share that is).
  std::vector<double> chain_mean_log10, chain_min_log10, chain_max_log10, chain_median_log10, chain_zero_share;
  std::vector<double> bound_log10;  // L log10(c) (diagnostics/bounds.hpp); empty for gated cells
  // The mean-field prediction from the layer's own blocks and its input's mean square (empirical_variances):
  // theory_log10 = L lambda / ln 10, empty where the theory has no number.
  MeanField theory;
  std::vector<double> theory_log10;
  std::vector<BlockSpectrum> spectra;
  std::vector<double> lyapunov;     // mean over the batch elements analysed, largest first
  ContributionResult contributions;  // loss sum_t <r_t, h_t> on this layer's outputs, r drawn from seed
  ForgetGateTrace forget;            // LSTM layers only; empty for the other cells
};

struct AnalysisStudy {
  using Spec = AnalysisSpec;
  struct Task {
    std::size_t task = 0;  // the layer
  };
  struct Partial : TaskIndex {
    LayerAnalysis layer;
  };
  using Result = std::vector<LayerAnalysis>;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

/// The end-to-end measure through the whole stack (studies/end_to_end.hpp) on the spec's input, over its
/// first max_batch sequences, the two losses' cotangents drawn from Rng(seed).
EndToEndResult analyse_end_to_end(const AnalysisSpec& spec);

inline std::vector<LayerAnalysis> analyse_model(const AnalysisSpec& spec, const Execution& execution = {}) {
  return run_study<AnalysisStudy>(spec, execution);
}

}  // namespace rnnscope
