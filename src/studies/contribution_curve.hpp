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
  const auto buckets = contributions_by_distance(cell, cache, r);
  const auto full = bptt(cell, cache, r, Mat<double>());
  Mat<double> sum = Mat<double>::Zero(full.params.weight_hh.rows(), full.params.weight_hh.cols());
  for (const auto& b : buckets) sum += b.weight_hh;
  const double total = full.params.weight_hh.norm();
  sum_error = total > 0 ? (sum - full.params.weight_hh).norm() / total : (sum - full.params.weight_hh).norm();
  std::vector<double> curve;
  for (const double n : contribution_norms(buckets, "weight_hh"))
    curve.push_back(n > 0 ? (total > 0 ? std::log10(n) - std::log10(total) : std::numeric_limits<double>::quiet_NaN())
                         : -std::numeric_limits<double>::infinity());
  return curve;
}

}  // namespace rnnscope::detail
