// For the sources of the Elman, CT-RNN, GRU and LSTM cells: the members of
// RecurrentCellBase that run a cell's equations (recurrent_params.hpp), with
// the checks they do first, and the products of the sweeps the cells share
// (the summed bias of the input projections, a backward block's weight and
// input gradients).
#pragma once

#include <string>
#include <type_traits>

#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/cells/cell.hpp"
#include "rnnscope/cells/recurrent_params.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

template <class Cell, Scalar S, class CellCache>
void RecurrentCellBase<Cell, S, CellCache>::forward(const Mat<S>& x, Index batch, const Mat<S>& state0,
                                                    Cache& c) const {
  validate();
  const Index T = check_sequence("input", x, input_size(), batch);
  c.steps = T;
  c.batch = batch;
  c.input = x;
  cell().initial_states(c, state0);
  forward_steps(cell(), x, c);  // the cell's equations, in its source
}

template <class Cell, Scalar S, class CellCache>
Mat<S> RecurrentCellBase<Cell, S, CellCache>::backward_range(const Cache& c, const OutputCotangent<S>& d_output,
                                                             const Mat<S>& d_state, Index t0, Index t1,
                                                             Gradients& grads) const {
  require(0 <= t0 && t0 < t1 && t1 <= c.steps, std::string(Cell::kLayout.name) + "::backward_range: bad step range");
  const Index n = cell().state_size();
  Mat<S> g = d_state.size() > 0 ? d_state : Mat<S>::Zero(n, c.batch);
  check_shape("d_state", g, n, c.batch);
  check_gradient_shapes(params, grads.params);
  check_input_gradient(grads, input_size(), c.steps * c.batch);
  backward_steps(cell(), c, d_output, g, t0, t1, grads);  // the cell's equations, in its source
  return g;
}

template <class Cell, Scalar S, class CellCache>
void RecurrentCellBase<Cell, S, CellCache>::step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch, "step_jacobian: step or batch out of range");
  step_jacobian_of(cell(), c, t, b, J);  // the cell's equations, in its source
}

/// b_ih + b_hh, the bias of the input projections (forward_in_blocks) of a
/// cell whose two biases add, or empty for a cell without bias.
template <class V>
V summed_bias(const V& bias_ih, const V& bias_hh) {
  return bias_ih.size() > 0 ? V(bias_ih + bias_hh) : V();
}

/// grads.d_input columns [col, col + delta.cols()) += W_ih^T delta, or nothing
/// when the input gradient was not asked for: the input-gradient product of
/// one backward block, shared by the cells.
template <class G, class W, class D>
void add_input_gradient(G& grads, Index col, const W& weight_ih, const D& delta) {
  if (!wants_input_gradient(grads)) return;
  assign_product(grads.d_input.middleCols(col, delta.cols()), weight_ih.transpose(), delta, true);
}

/// The weight gradients of one backward block of a cell whose two biases add
/// (Elman, CT-RNN, LSTM), one GEMM each: dW_ih += delta x^T,
/// dW_hh += delta h_prev^T, db_ih and db_hh += delta 1, and d_input += W_ih^T
/// delta from column `col` (the block's first) when the input gradient is wanted.
template <class G, class P, class D, class X, class Hp>
void add_block_gradients(G& grads, const P& params, Index col, const D& delta, const X& x, const Hp& h_prev) {
  using S = typename std::decay_t<D>::Scalar;
  add_product_transposed(grads.params.weight_ih, delta, x);
  add_product_transposed(grads.params.weight_hh, delta, h_prev);
  if (params.bias_ih.size() > 0) {
    const Vec<S> db = delta.rowwise().sum();
    grads.params.bias_ih += db;
    grads.params.bias_hh += db;
  }
  add_input_gradient(grads, col, params.weight_ih, delta);
}

/// The products of each backward block (backward_in_blocks) of a cell whose
/// two biases add and whose h_{t-1} fills the state (Elman, CT-RNN):
/// add_block_gradients over the block's columns of c.input and of the states.
template <class G, class P, class C>
auto block_gradients(G& grads, const P& params, const C& c, Index B) {
  return [&grads, &params, &c, B](Index begin, Index end, const auto& delta) {
    const Index m = (end - begin) * B;
    add_block_gradients(grads, params, begin * B, delta, c.input.middleCols(begin * B, m),
                        c.states.middleCols(begin * B, m));
  };
}

/// The backward sweep of a cell whose state is one block of H rows and whose
/// cotangent of the pre-activation, delta_t (H rows), feeds the block
/// products (Elman, CT-RNN). For each step t, last first, on each slice of
/// batch columns, delta_t is first set to the total cotangent of the state
/// after step t (g_slice, what step t + 1 sent back, plus dL/dy_t); then
/// step(t, b0, nb, g_slice, delta_t) turns it into dL/da_t and carries
/// g_slice back to before step t.
template <class Cell, class C, class S, class Step>
void one_state_backward(const Cell& cell, const C& c, const OutputCotangent<S>& d_output, Mat<S>& g, Index t0,
                        Index t1, RecurrentGradients<S>& grads, Step&& step) {
  const Index H = cell.state_size(), B = c.batch;
  backward_in_blocks(
      d_output, H, H, t0, t1, B, grads,
      [&](Index begin, Index end, Index b0, Index nb, auto& delta, const auto& dy) {
        auto g_slice = g.middleCols(b0, nb);
        for (Index t = end - 1; t >= begin; --t) {
          auto delta_t = delta.middleCols((t - begin) * B + b0, nb);
          delta_t = g_slice;
          if (dy.size() > 0) delta_t += dy.middleCols((t - begin) * B + b0, nb);
          step(t, b0, nb, g_slice, delta_t);
        }
      },
      block_gradients(grads, cell.params, c, B));
}

}  // namespace rnnscope
