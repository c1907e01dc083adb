// The look-back window study (seed 001): how the gradient reaching the state
// L steps back from the end shrinks or grows with L, for a cell and an
// initialisation, over several seeds, beside the theoretical bound.
//
//   ratio(L) = ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}||,   bound(L) = c^L (diagnostics/bounds.hpp)
//
// The cotangent on the final state is a random direction on the output (h);
// for the LSTM the state is (h, c) and the norm is over both. Statistics are
// taken over seeds x batch elements in log10 (the ratios span decades).
// Task: one seed (network, B sequences, B cotangents).
//
// With spec.model.num_layers = N > 1 each seed draws an N-layer stack: the
// ratio above is that of its first layer (the one reading the input), and the
// study adds the end-to-end measure of the whole stack (studies/end_to_end.hpp),
// its two losses' cotangents drawn after the first layer's.
#pragma once

#include <vector>

#include "rnnscope/diagnostics/bounds.hpp"
#include "rnnscope/studies/end_to_end.hpp"
#include "rnnscope/studies/network.hpp"

namespace rnnscope {

using LookbackSpec = NetworkSpec;

struct LookbackResult {
  std::vector<Index> distance;           // L = 0..T
  // Over the trajectories that are not exactly zero at L (statistics.hpp); -inf where all are.
  std::vector<double> mean_log10, std_log10, min_log10, max_log10, median_log10;
  std::vector<double> zero_share;        // the share of trajectories exactly zero at L
  BoundKind bound = BoundKind::none;     // which closed-form bound the cell has
  std::vector<double> bound_log10;       // mean over seeds of L log10(c); empty without a bound
  std::vector<double> lyapunov_top;      // per seed: the largest Lyapunov exponent of batch element 0
  double lyapunov_top_mean = 0;          // their mean
  MeanField theory;                      // the mean-field prediction for these networks
  std::vector<double> theory_log10;      // L * theory.slope_log10; empty where there is none
  EndToEndResult end_to_end;             // the whole stack's, over seeds x sequences; empty for one layer
};

struct LookbackStudy {
  using Spec = LookbackSpec;
  using Task = SeedTask;
  struct Partial : TaskIndex {
    std::vector<std::vector<double>> curves;  // log10 ratio(L) per batch element
    std::vector<double> bound_factor;         // c, where the cell has a bound
    double lyapunov_top = 0;
    EndToEndSamples end_to_end;  // with more than one layer
  };
  using Result = LookbackResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline LookbackResult lookback_study(const LookbackSpec& spec, const Execution& execution = {}) {
  return run_study<LookbackStudy>(spec, execution);
}

}  // namespace rnnscope
