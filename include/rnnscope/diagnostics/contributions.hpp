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
#include <limits>
#include <utility>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"
#include "rnnscope/sequence/bptt.hpp"

namespace rnnscope {

/// m * 2^e, entry by entry (exact unless an entry leaves the scalar's range).
template <class M>
auto times_power_of_two(const M& m, int e) {
  using S = typename M::Scalar;
  return m.unaryExpr([e](S x) { return std::ldexp(x, e); });
}

/// Calls visit(t, k, term, e) for every term (t, k), 0 <= k <= t < T, of the output cotangent d_output (H, T*B):
/// term * 2^e holds the parameter gradients (dL_t/ds_t)(ds_t/ds_k)(d+s_k/dtheta), summed over the batch. The
/// cotangent carried back from step t is scaled by 2^-e (exact: a power of two) whenever its largest entry leaves
/// [2^-E, 2^E], E a quarter of the scalar's exponent range (256 for double), so that the terms of long distances,
/// which vanish past the smallest double, keep their digits; e is 0 until then, and the terms are then the plain
/// ones bit for bit. The terms of a step t whose cotangent is zero are skipped (they are zero). Order: t
/// ascending, k from t down to 0.
template <class Cell, class Visit>
void for_each_contribution(const Cell& cell, const typename Cell::Cache& cache,
                           const Mat<typename Cell::Scalar>& d_output, Visit&& visit) {
  using S = typename Cell::Scalar;
  constexpr int E = std::numeric_limits<S>::max_exponent / 4;
  const S high = std::ldexp(S(1), E), low = std::ldexp(S(1), -E);
  const Index T = cache.steps, B = cache.batch, H = cell.output_size(), SZ = cell.state_size();
  check_shape("d_output", d_output, H, T * B);
  auto step_grads = cell.zero_gradients(cache);
  const Mat<S> none;
  Mat<S> g(SZ, B);
  for (Index t = 0; t < T; ++t) {
    g.setZero();
    g.middleRows(output_offset(cell), H) = d_output.middleCols(t * B, B);
    if (g.isZero(0)) continue;
    int e = 0;
    for (Index k = t; k >= 0; --k) {
      // The largest entry is finite here: the forward pass and d_output are, and a step multiplies by at most a
      // finite Jacobian; a cotangent that grows past 2^E is scaled down the same way.
      for (S m = g.cwiseAbs().maxCoeff(); m != S(0) && (m < low || m > high);) {
        const int shift = m < low ? E : -E;
        g *= std::ldexp(S(1), shift);
        m = std::ldexp(m, shift);
        e -= shift;
      }
      step_grads.params.for_each([](const char*, auto& p) { p.setZero(); });
      g = cell.backward_range(cache, none, g, k, k + 1, step_grads);
      visit(t, k, std::as_const(step_grads.params), e);
    }
  }
}

/// Parameter gradients by distance d = 0..T-1, each as mantissas and a power of two: bucket d, the sum of the
/// terms (t, t - d), is params[d] * 2^exponent[d]. Terms of different exponents are added at the larger one.
template <class Params>
struct ScaledBuckets {
  std::vector<Params> params;
  std::vector<int> exponent;
};

/// The buckets of contributions_by_distance as mantissas and powers of two, so that those below the smallest
/// double keep their digits.
template <class Cell>
ScaledBuckets<typename Cell::Params> scaled_contributions_by_distance(const Cell& cell,
                                                                      const typename Cell::Cache& cache,
                                                                      const Mat<typename Cell::Scalar>& d_output) {
  using S = typename Cell::Scalar;
  const auto T = static_cast<size_t>(cache.steps);
  // A bucket that holds nothing yet takes the exponent of its first term.
  constexpr int empty = std::numeric_limits<int>::min();
  ScaledBuckets<typename Cell::Params> buckets{std::vector(T, cell.zero_gradients(cache).params),
                                               std::vector<int>(T, empty)};
  for_each_contribution(cell, cache, d_output, [&](Index t, Index k, const typename Cell::Params& term, int e) {
    const auto d = static_cast<size_t>(t - k);
    int& bucket_e = buckets.exponent[d];
    if (bucket_e == empty) bucket_e = e;
    if (e > bucket_e) {
      buckets.params[d].for_each([&](const char*, auto& p) { p = times_power_of_two(p, bucket_e - e).eval(); });
      bucket_e = e;
    }
    std::vector<const S*> src;
    term.for_each([&](const char*, const auto& p) { src.push_back(p.data()); });
    size_t i = 0;
    buckets.params[d].for_each([&](const char*, auto& p) {
      const Eigen::Map<const Mat<S>> q(src[i++], p.rows(), p.cols());
      if (e == bucket_e)
        p += q;
      else
        p += times_power_of_two(q, e - bucket_e);
    });
  });
  for (int& e : buckets.exponent)
    if (e == empty) e = 0;
  return buckets;
}

/// Parameter gradients by distance d = 0..T-1 for the output cotangent d_output (H, T*B):
/// bucket d is the sum of the terms (t, t - d), in plain numbers (those below the smallest double are 0).
template <class Cell>
std::vector<typename Cell::Params> contributions_by_distance(const Cell& cell,
                                                             const typename Cell::Cache& cache,
                                                             const Mat<typename Cell::Scalar>& d_output) {
  auto buckets = scaled_contributions_by_distance(cell, cache, d_output);
  for (size_t d = 0; d < buckets.params.size(); ++d)
    if (const int e = buckets.exponent[d]; e != 0)
      buckets.params[d].for_each([e](const char*, auto& p) { p = times_power_of_two(p, e).eval(); });
  return std::move(buckets.params);
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
  for_each_contribution(cell, cache, d_output, [&](Index t, Index k, const typename Cell::Params& term, int e) {
    terms[static_cast<size_t>(t * (t + 1) / 2 + k)].weight_hh =
        times_power_of_two(term.weight_hh.template cast<double>().eval(), e);
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
