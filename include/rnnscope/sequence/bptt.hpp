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
#include <utility>
#include <vector>

#include "rnnscope/cells/batch_schedule.hpp"
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

/// Sets grads to zero with the shapes of cell.zero_gradients(cache), in place
/// when they already have them (a gradients object reused from the previous
/// training step allocates nothing), by assignment otherwise. With
/// grads.input_gradient false, d_input is left empty (cell.hpp).
template <class Cell>
void reset_gradients(const Cell& cell, const typename Cell::Cache& cache, typename Cell::Gradients& grads) {
  const bool with_input = wants_input_gradient(grads);
  const Index input_rows = with_input ? cell.input_size() : 0, input_cols = with_input ? cache.steps * cache.batch : 0;
  bool same = grads.d_input.rows() == input_rows && grads.d_input.cols() == input_cols &&
              grads.d_state0.rows() == cell.state_size() && grads.d_state0.cols() == cache.batch;
  if constexpr (requires { cell.params.for_each([](const char*, const auto&) {}); }) {
    std::vector<std::pair<Index, Index>> want, have;
    cell.params.for_each([&](const char*, const auto& t) { want.emplace_back(t.rows(), t.cols()); });
    grads.params.for_each([&](const char*, const auto& t) { have.emplace_back(t.rows(), t.cols()); });
    same = same && want == have;
  } else {
    same = false;  // a composite (a stack): rebuilt every time
  }
  if (!same) {
    auto workspace = std::move(grads.workspace);
    auto chunks = std::move(grads.output_chunks);
    grads = cell.zero_gradients(cache);
    grads.workspace = std::move(workspace);
    grads.output_chunks = std::move(chunks);
    if constexpr (requires { grads.input_gradient; }) {
      grads.input_gradient = with_input;
      if (!with_input) grads.d_input.resize(0, 0);
    }
    return;
  }
  grads.params.for_each([](const char*, auto& t) { t.setZero(); });
  grads.d_input.setZero();
  grads.d_state0.setZero();
}

/// Gradients for the cotangents d_output (H, T*B) (or empty) and d_final
/// (S, B) of the final state (or empty), into grads (reset_gradients: its
/// storage is reused). window 0 means full BPTT.
template <class Cell>
void bptt(const Cell& cell, const typename Cell::Cache& cache, const Mat<typename Cell::Scalar>& d_output,
          const Mat<typename Cell::Scalar>& d_final, Index window, typename Cell::Gradients& grads) {
  using S = typename Cell::Scalar;
  const Index T = cache.steps, B = cache.batch, H = cell.output_size(), SZ = cell.state_size();
  require(window >= 0, "bptt: the truncation window must be >= 0 (0 for full BPTT)");
  if (d_output.size() > 0) check_shape("d_output", d_output, H, T * B);
  if (d_final.size() > 0) check_shape("d_final", d_final, SZ, B);
  reset_gradients(cell, cache, grads);
  if (window == 0 || window >= T) {
    grads.d_state0 = cell.backward_range(cache, d_output, d_final, 0, T, grads);
    return;
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
}

/// Full BPTT whose output cotangent is produced chunk by chunk, from the last
/// chunk to the first, as the backward sweep reaches it: d_output_of(t0, t1,
/// d) sets d to the cotangent (H, (t1 - t0) * B) of the outputs of steps
/// t0 .. t1-1 (d is storage kept in grads.output_chunks). No cotangent of the
/// whole sequence is formed: a loss evaluated this way (a training step,
/// training/step.hpp) writes each chunk while the outputs it reads are in
/// cache, and backward reads it from there, where the whole (H, T*B)
/// cotangent went out to memory and back at T = 10,000. A chunk is one block
/// of the cells' backward sweeps (backward_in_blocks, cells/batch_schedule.hpp), so the
/// gradients are those of bptt with the whole cotangent, operation for
/// operation. When the sweep is pipelined (a batch of fewer than 16), the
/// next chunk is produced on another thread while a block's steps run:
/// d_output_of must write only d and what it alone owns, and is called for
/// one chunk at a time, in order.
template <class Cell, class F>
void bptt_chunked(const Cell& cell, const typename Cell::Cache& cache, F&& d_output_of,
                  typename Cell::Gradients& grads) {
  using S = typename Cell::Scalar;
  const Index T = cache.steps;
  reset_gradients(cell, cache, grads);
  if constexpr (requires { cell.backward_range(cache, OutputCotangent<S>(), Mat<S>(), Index{}, Index{}, grads); }) {
    OutputCotangent<S> d_output;
    d_output.chunk = [&](Index t0, Index t1, Mat<S>& d) { d_output_of(t0, t1, d); };
    grads.d_state0 = cell.backward_range(cache, d_output, Mat<S>(), 0, T, grads);
  } else {  // a composite (a stack): one backward_range a chunk
    const Index B = cache.batch, steps = backward_block_steps(B);
    Mat<S> d_state;  // empty: no cotangent reaches the final state
    Mat<S>& chunk = grads.output_chunks[0];
    for (Index end = T; end > 0; end -= steps) {
      const Index begin = std::max<Index>(0, end - steps);
      d_output_of(begin, end, chunk);
      check_shape("d_output", chunk, cell.output_size(), (end - begin) * B);
      d_state = cell.backward_range(cache, chunk, d_state, begin, end, grads);
    }
    grads.d_state0 = d_state;
  }
}

/// The same, returning new gradients.
template <class Cell>
typename Cell::Gradients bptt(const Cell& cell, const typename Cell::Cache& cache,
                              const Mat<typename Cell::Scalar>& d_output,
                              const Mat<typename Cell::Scalar>& d_final, Index window = 0) {
  typename Cell::Gradients grads;
  bptt(cell, cache, d_output, d_final, window, grads);
  return grads;
}

}  // namespace rnnscope
