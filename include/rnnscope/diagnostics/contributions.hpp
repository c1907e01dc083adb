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
#pragma once

#include <cmath>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"
#include "rnnscope/sequence/bptt.hpp"

namespace rnnscope {

/// Parameter gradients by distance d = 0..T-1 for the output cotangent d_output (H, T*B).
template <class Cell>
std::vector<typename Cell::Params> contributions_by_distance(const Cell& cell,
                                                             const typename Cell::Cache& cache,
                                                             const Mat<typename Cell::Scalar>& d_output) {
  using S = typename Cell::Scalar;
  const Index T = cache.steps, B = cache.batch, H = cell.output_size(), SZ = cell.state_size();
  check_shape("d_output", d_output, H, T * B);
  auto step_grads = cell.zero_gradients(cache);
  std::vector<typename Cell::Params> buckets(static_cast<size_t>(T), step_grads.params);
  const Mat<S> none;
  Mat<S> g(SZ, B);
  for (Index t = 0; t < T; ++t) {
    g.setZero();
    g.middleRows(output_offset(cell), H) = d_output.middleCols(t * B, B);
    if (g.isZero(0)) continue;
    for (Index k = t; k >= 0; --k) {
      step_grads.params.for_each([](const char*, auto& p) { p.setZero(); });
      g = cell.backward_range(cache, none, g, k, k + 1, step_grads);
      std::vector<const S*> src;
      step_grads.params.for_each([&](const char*, const auto& p) { src.push_back(p.data()); });
      size_t i = 0;
      buckets[static_cast<size_t>(t - k)].for_each([&](const char*, auto& p) {
        p += Eigen::Map<const Mat<S>>(src[i++], p.rows(), p.cols());
      });
    }
  }
  return buckets;
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
