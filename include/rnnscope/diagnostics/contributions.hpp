// The BPTT gradient decomposed by temporal distance. For a loss on every step,
//
//   dL/dtheta = sum_t sum_{k<=t} (dL_t/ds_t)(ds_t/ds_k)(d+s_k/dtheta)
//
// and the term (t, k) is the contribution of distance d = t - k: the part of
// the gradient that carries information over d steps, the quantity that
// vanishes. Each source step t is carried back one step at a time with the
// cell's own backward (backward_range over [k, k+1) gives exactly the
// immediate partial of step k and the cotangent of s_{k-1}), and the parameter
// gradient of each step is added to the bucket of its distance. The buckets sum
// to the full BPTT gradient. Cost O(T^2) single-step backwards.
//
// The decomposition holds for every recurrent cell, with s its whole state
// ([h; c] for the LSTM), since d+s_k/dtheta holds s_{k-1} fixed; for an Elman
// cell s = h and ds_t/ds_k = J_t ... J_{k+1}, J = diag(f'(a)) W_hh (MATH.md).
// weight_hh_terms keeps the terms themselves, for small T.
#pragma once

#include <cmath>
#include <utility>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"
#include "rnnscope/sequence/bptt.hpp"

namespace rnnscope {

/// Calls visit(t, k, term) for every term (t, k), 0 <= k <= t < T, of the output cotangent d_output (H, T*B):
/// term holds the parameter gradients (dL_t/ds_t)(ds_t/ds_k)(d+s_k/dtheta), summed over the batch. The terms of
/// a step t whose cotangent is zero are skipped (they are zero). Order: t ascending, k from t down to 0.
template <class Cell, class Visit>
void for_each_contribution(const Cell& cell, const typename Cell::Cache& cache,
                           const Mat<typename Cell::Scalar>& d_output, Visit&& visit) {
  using S = typename Cell::Scalar;
  const Index T = cache.steps, B = cache.batch, H = cell.output_size(), SZ = cell.state_size();
  check_shape("d_output", d_output, H, T * B);
  auto step_grads = cell.zero_gradients(cache);
  const Mat<S> none;
  Mat<S> g(SZ, B);
  for (Index t = 0; t < T; ++t) {
    g.setZero();
    g.middleRows(output_offset(cell), H) = d_output.middleCols(t * B, B);
    if (g.isZero(0)) continue;
    for (Index k = t; k >= 0; --k) {
      step_grads.params.for_each([](const char*, auto& p) { p.setZero(); });
      g = cell.backward_range(cache, none, g, k, k + 1, step_grads);
      visit(t, k, std::as_const(step_grads.params));
    }
  }
}

/// Parameter gradients by distance d = 0..T-1 for the output cotangent d_output (H, T*B):
/// bucket d is the sum of the terms (t, t - d).
template <class Cell>
std::vector<typename Cell::Params> contributions_by_distance(const Cell& cell,
                                                             const typename Cell::Cache& cache,
                                                             const Mat<typename Cell::Scalar>& d_output) {
  using S = typename Cell::Scalar;
  std::vector<typename Cell::Params> buckets(static_cast<size_t>(cache.steps), cell.zero_gradients(cache).params);
  for_each_contribution(cell, cache, d_output, [&](Index t, Index k, const typename Cell::Params& term) {
    std::vector<const S*> src;
    term.for_each([&](const char*, const auto& p) { src.push_back(p.data()); });
    size_t i = 0;
    buckets[static_cast<size_t>(t - k)].for_each([&](const char*, auto& p) {
      p += Eigen::Map<const Mat<S>>(src[i++], p.rows(), p.cols());
    });
  });
  return buckets;
}

/// One term (t, k) of dL/dW_hh.
struct WeightHhTerm {
  Index t = 0, k = 0;
  Mat<double> weight_hh;
};

/// Every term (t, k) of dL/dW_hh for the output cotangent d_output (H, T*B), including the zero ones, t ascending
/// and k ascending: T (T + 1) / 2 matrices of weight_hh's shape, for small T.
template <class Cell>
std::vector<WeightHhTerm> weight_hh_terms(const Cell& cell, const typename Cell::Cache& cache,
                                          const Mat<typename Cell::Scalar>& d_output) {
  const Index T = cache.steps;
  const auto& w = cell.params.weight_hh;
  std::vector<WeightHhTerm> terms;
  for (Index t = 0; t < T; ++t)
    for (Index k = 0; k <= t; ++k) terms.push_back({t, k, Mat<double>::Zero(w.rows(), w.cols())});
  // Term (t, k) is at t (t + 1) / 2 + k.
  for_each_contribution(cell, cache, d_output, [&](Index t, Index k, const typename Cell::Params& term) {
    terms[static_cast<size_t>(t * (t + 1) / 2 + k)].weight_hh = term.weight_hh.template cast<double>();
  });
  return terms;
}

/// The Frobenius norm of the tensor `name` in each bucket (NaN-free; 0 if absent).
template <class Params>
std::vector<double> contribution_norms(const std::vector<Params>& buckets, const std::string& name) {
  std::vector<double> norms;
  for (const auto& b : buckets) {
    double n = 0;
    b.for_each([&](const char* tensor, const auto& p) {
      if (name == tensor) n = static_cast<double>(p.norm());
    });
    norms.push_back(n);
  }
  return norms;
}

}  // namespace rnnscope
