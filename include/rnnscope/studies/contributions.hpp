// The BPTT gradient of W_hh split by temporal distance d = t - k
// (diagnostics/contributions.hpp) for a random-projection loss
// sum_t <r_t, h_t> on every step, as log10 of ||contribution_d|| / ||dL/dW_hh||;
// statistics over seeds. Task: one seed (network, sequences, projection).
#pragma once

#include "rnnscope/diagnostics/contributions.hpp"
#include "rnnscope/diagnostics/mean_field.hpp"

#include <vector>

#include "rnnscope/studies/network.hpp"

namespace rnnscope {

struct ContributionSpec : NetworkSpec {
  // Also every term (t, k) of dL/dW_hh, of the first seed's network (ContributionResult::terms): for small
  // networks only, T <= 10 and hidden <= 32, so that the T (T + 1) / 2 matrices can be read.
  bool terms = false;
  /// NetworkSpec's limits, and T <= 5000: the decomposition costs O(T^2) single-step backward passes;
  /// with terms, T <= 10 and hidden <= 32.
  void validate() const;
};

/// The terms (t, k) of dL/dW_hh = sum_t sum_{k<=t} (dL_t/ds_t)(ds_t/ds_k)(d+s_k/dW_hh) of one network, t and k
/// ascending, with the exact BPTT gradient they add up to.
struct ContributionTerms {
  std::vector<WeightHhTerm> terms;
  Mat<double> bptt;             // dL/dW_hh by BPTT (sequence/bptt.hpp)
  double max_abs_error = 0;     // max |sum of the terms - bptt| over the entries
};

struct ContributionResult {
  std::vector<Index> distance;  // d = 0..T-1
  std::vector<double> mean_log10, std_log10;  // over the seeds whose contribution is not exactly zero
  std::vector<double> zero_share;             // the share of seeds whose contribution at d is exactly zero
  double max_sum_error = 0;  // largest ||sum_d contribution_d - BPTT gradient|| / ||BPTT gradient|| over seeds
  // The mean-field prediction (network_theory): the terms at distance d carry a chain of d steps, so they fall by
  // the theory's slope per step from the measured d = 0: theory_log10[d] = mean_log10[0] + d slope_log10 (empty
  // where the theory has no number, contributions of the LSTM paths or a zero d = 0 term).
  MeanField theory;
  std::vector<double> theory_log10;
  // With ContributionSpec::terms: the terms of the first seed's network (seed index 0); else empty.
  ContributionTerms terms;
};

struct ContributionStudy {
  using Spec = ContributionSpec;
  using Task = SeedTask;
  struct Partial : TaskIndex {
    std::vector<double> curve;  // log10 relative contribution by distance (-inf: exactly zero)
    double sum_error = 0;
    ContributionTerms terms;  // seed index 0 with spec.terms
  };
  using Result = ContributionResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline ContributionResult contributions_study(const ContributionSpec& spec, const Execution& execution = {}) {
  return run_study<ContributionStudy>(spec, execution);
}

}  // namespace rnnscope
