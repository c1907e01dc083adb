// Backpropagation through time over any cell (cells/cell.hpp), full or truncated.
//
// Full BPTT is one backward sweep over all T steps. Truncated BPTT with window
// K keeps, of dL/dtheta = sum_t sum_{k<=t} (dL_t/dh_t)(dh_t/dh_k)(d+h_k/dtheta),
// only the terms with t - k < K: the cotangent arriving at step t is carried
// back through at most K steps (t-K+1 .. t). The initial state receives the
// terms of the steps t < K, the input x_k those with t - k < K. This is the
// exact gradient of that definition, computed with one K-step sweep per step
// that carries a cotangent (cost O(T K) against O(T) for full BPTT).
#pragma once

#include <algorithm>

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

/// Row of the state where a cell's output begins: 0 for a cell, the top
/// layer's rows for a stack (which says so with output_offset()).
template <class Cell>
Index output_offset(const Cell& cell) {
  if constexpr (requires { cell.output_offset(); })
    return cell.output_offset();
  else
    return 0;
}

/// Gradients for the cotangents d_output (H, T*B) (or empty) and d_final
/// (S, B) of the final state (or empty). window 0 means full BPTT.
template <class Cell>
typename Cell::Gradients bptt(const Cell& cell, const typename Cell::Cache& cache,
                              const Mat<typename Cell::Scalar>& d_output,
                              const Mat<typename Cell::Scalar>& d_final, Index window = 0) {
  using S = typename Cell::Scalar;
  const Index T = cache.steps, B = cache.batch, H = cell.output_size(), SZ = cell.state_size();
  require(window >= 0, "bptt: the truncation window must be >= 0 (0 for full BPTT)");
  if (d_output.size() > 0) check_shape("d_output", d_output, H, T * B);
  if (d_final.size() > 0) check_shape("d_final", d_final, SZ, B);
  auto grads = cell.zero_gradients(cache);
  if (window == 0 || window >= T) {
    grads.d_state0 = cell.backward_range(cache, d_output, d_final, 0, T, grads);
    return grads;
  }
  const Mat<S> none;
  Mat<S> d_state(SZ, B);
  for (Index t = 0; t < T; ++t) {
    d_state.setZero();
    if (d_output.size() > 0) d_state.middleRows(output_offset(cell), H) = d_output.middleCols(t * B, B);
    if (t == T - 1 && d_final.size() > 0) d_state += d_final;
    if (d_state.isZero(0)) continue;
    const Index t0 = std::max<Index>(0, t - window + 1);
    const Mat<S> d_before = cell.backward_range(cache, none, d_state, t0, t + 1, grads);
    if (t0 == 0) grads.d_state0 += d_before;
  }
  return grads;
}

}  // namespace rnnscope
