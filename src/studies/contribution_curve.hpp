// The contribution curve of one layer, shared by the contributions study and
// the analysis of a given model.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "rnnscope/diagnostics/contributions.hpp"
#include "rnnscope/sequence/bptt.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope::detail {

/// log10 ||contribution_d to dL/dW_hh|| / ||dL/dW_hh|| for the loss sum_t <r_t, out_t>
/// (-inf where a contribution is exactly zero), and the relative error of sum_d contribution_d against the
/// BPTT gradient.
template <class Cell>
std::vector<double> contribution_curve(const Cell& cell, const typename Cell::Cache& cache, const Mat<double>& r,
                                       double& sum_error) {
  const auto buckets = scaled_contributions_by_distance(cell, cache, r);
  const auto full = bptt(cell, cache, r, Mat<double>());
  Mat<double> sum = Mat<double>::Zero(full.params.weight_hh.rows(), full.params.weight_hh.cols());
  for (size_t d = 0; d < buckets.params.size(); ++d) {
    const int e = buckets.exponent[d];
    sum += times_power_of_two(buckets.params[d].weight_hh.template cast<double>().eval(), e);
  }
  const double total = full.params.weight_hh.norm();
  sum_error = total > 0 ? (sum - full.params.weight_hh).norm() / total : (sum - full.params.weight_hh).norm();
  // A bucket is its mantissas times 2^e: its log10 is that of their norm plus e log10(2), below the smallest double
  // too.
  std::vector<double> curve;
  const auto norms = contribution_norms(buckets.params, "weight_hh");
  for (size_t d = 0; d < norms.size(); ++d) {
    const double n = norms[d];
    const double log10_2e = buckets.exponent[d] == 0 ? 0.0 : buckets.exponent[d] * std::log10(2.0);
    curve.push_back(n > 0 ? (total > 0 ? std::log10(n) + log10_2e - std::log10(total)
                                       : std::numeric_limits<double>::quiet_NaN())
                          : -std::numeric_limits<double>::infinity());
  }
  return curve;
}

}  // namespace rnnscope::detail
