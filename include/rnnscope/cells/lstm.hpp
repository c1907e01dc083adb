// The long short-term memory cell (PyTorch nn.LSTM with one layer), gate order i, f, g, o.
//
//   z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh                 (4H pre-activations)
//   i_t = sigmoid(z_i)   f_t = sigmoid(z_f)   g_t = tanh(z_g)   o_t = sigmoid(z_o)
//   c_t = f_t * c_{t-1} + i_t * g_t                              cell
//   h_t = o_t * tanh(c_t)                                        hidden state and output
//
// The state is s_t = [h_t; c_t] (S = 2H), the output its top H rows.
//
// Step Jacobian ds_t/ds_{t-1} (2H, 2H), with k_t = o_t (1 - tanh^2 c_t) = dh_t/dc_t:
//   dc_t/dh_{t-1} = diag(g i(1-i)) W_hi + diag(c_{t-1} f(1-f)) W_hf + diag(i (1-g^2)) W_hg
//   dc_t/dc_{t-1} = diag(f_t)                       the direct cell path (constant error carousel)
//   dh_t/dh_{t-1} = diag(tanh(c_t) o(1-o)) W_ho + diag(k_t) dc_t/dh_{t-1}
//   dh_t/dc_{t-1} = diag(k_t f_t)
// Backward, with dh, dc the cotangents reaching h_t and c_t:
//   dc  += k_t dh                                    (c_t reaches the loss through h_t too)
//   dz   = [dc g i(1-i); dc c_{t-1} f(1-f); dc i (1-g^2); dh tanh(c_t) o(1-o)]
//   dh_{t-1} = W_hh^T dz        dc_{t-1} = f_t dc
//   dW_ih = sum_t dz_t x_t^T    dW_hh = sum_t dz_t h_{t-1}^T    db_ih = db_hh = sum_t dz_t
//
// T steps, B batch, I inputs, H hidden units, G = 4H gate rows. The gate blocks
// of every (4H, .) tensor are stacked in PyTorch's order i, f, g, o, so
// W_ii = weight_ih rows [0, H), W_if rows [H, 2H), W_ig rows [2H, 3H), W_io rows
// [3H, 4H), and the same for weight_hh (W_hi, W_hf, W_hg, W_ho), bias_ih and
// bias_hh. PyTorch names: weight_ih_l0 (4H, I), weight_hh_l0 (4H, H),
// bias_ih_l0 (4H), bias_hh_l0 (4H).
//
// Cache: per (step, batch element) the gates i, f, g, o (4H), the state
// [h_t; c_t] (2H), tanh(c_t) (H) and the input x_t (I): (7H + I) scalars,
// 4(7H + I) bytes in float and 8(7H + I) in double, plus the initial state
// (2H per batch element). tanh(c_t) is kept (H of the 7H) so that backward
// and the step Jacobian evaluate no transcendental function.
#pragma once

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/random.hpp"

namespace rnnscope {

template <Scalar S>
struct LSTMParams {
  Mat<S> weight_ih;  // (4H, I): [W_ii; W_if; W_ig; W_io]
  Mat<S> weight_hh;  // (4H, H): [W_hi; W_hf; W_hg; W_ho]
  Vec<S> bias_ih;    // (4H): [b_ii; b_if; b_ig; b_io], or empty for a cell without bias
  Vec<S> bias_hh;    // (4H): [b_hi; b_hf; b_hg; b_ho], or empty

  /// Visits every tensor as f(name, tensor), in PyTorch's order; empty biases are skipped.
  template <class F> void for_each(F&& f) {
    f("weight_ih", weight_ih);
    f("weight_hh", weight_hh);
    if (bias_ih.size() > 0) f("bias_ih", bias_ih);
    if (bias_hh.size() > 0) f("bias_hh", bias_hh);
  }
  template <class F> void for_each(F&& f) const {
    const_cast<LSTMParams*>(this)->for_each([&](const char* name, const auto& t) { f(name, t); });
  }
};

template <Scalar S>
struct LSTMCache {
  Index steps = 0;   // T
  Index batch = 0;   // B
  Mat<S> input;      // (I, T*B)
  Mat<S> states;     // (2H, (T+1)*B): [h; c] columns, s_{-1} (the initial state) then s_0 .. s_{T-1}
  Mat<S> gates;      // (4H, T*B): i_t, f_t, g_t, o_t stacked (after their nonlinearities)
  Mat<S> tanh_cell;  // (H, T*B): tanh(c_t)
};

template <Scalar S>
class LSTM {
 public:
  using Scalar = S;
  using Params = LSTMParams<S>;
  using Cache = LSTMCache<S>;
  using Gradients = CellGradients<Params, S>;

  /// A cell with zero weights; `bias` false drops both bias vectors.
  LSTM(Index input_size, Index hidden_size, bool bias = true);

  /// PyTorch's default initialisation: every tensor uniform on [-1/sqrt(H), 1/sqrt(H)].
  void init_uniform(Rng& rng);

  Index input_size() const { return params.weight_ih.cols(); }
  Index output_size() const { return params.weight_hh.cols(); }
  Index state_size() const { return 2 * params.weight_hh.cols(); }

  /// Checks every parameter's shape and finiteness; throws InvalidInput naming the tensor.
  void validate() const;

  /// Runs the sequence x (I, T*B); state0 (2H, B) = [h0; c0] or empty for zeros.
  Cache forward(const Mat<S>& x, Index batch, const Mat<S>& state0 = {}) const {
    Cache c;
    forward(x, batch, state0, c);
    return c;
  }
  /// The same into `into`, whose storage is reused when the shapes repeat.
  void forward(const Mat<S>& x, Index batch, const Mat<S>& state0, Cache& into) const;
  /// h_0 .. h_{T-1}, (H, T*B).
  auto output(const Cache& c) const {
    return c.states.topRows(output_size()).rightCols(c.steps * c.batch);
  }
  /// [h_{T-1}; c_{T-1}], (2H, B).
  auto final_state(const Cache& c) const { return c.states.rightCols(c.batch); }

  /// Gradients with the right shapes, all zero.
  Gradients zero_gradients(const Cache& c) const;
  /// See cell.hpp; d_output (H, (t1-t0)*B), d_state and the result (2H, B) = [dh; dc].
  Mat<S> backward_range(const Cache& c, const Mat<S>& d_output, const Mat<S>& d_state, Index t0,
                        Index t1, Gradients& grads) const {
    return backward_range(c, OutputCotangent<S>::of(d_output), d_state, t0, t1, grads);
  }
  /// The same with the output cotangent whole, written block by block, or none (cell.hpp).
  Mat<S> backward_range(const Cache& c, const OutputCotangent<S>& d_output, const Mat<S>& d_state, Index t0,
                        Index t1, Gradients& grads) const;
  /// d[h_t; c_t] / d[h_{t-1}; c_{t-1}] for batch element b, (2H, 2H); blocks above.
  Mat<S> step_jacobian(const Cache& c, Index t, Index b) const {
    Mat<S> J;
    step_jacobian(c, t, b, J);
    return J;
  }
  /// The same into J, whose storage is reused when it has the shape (S, S).
  void step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const;
  /// The direct cell path dc_t/dc_{t-1} with h_{t-1} held fixed: diag(f_t), returned
  /// as the (H) vector f_t. It is the lower-right block of step_jacobian. A product
  /// f_t * ... * f_{k+1} is the carousel alone, not dc_t/dc_k: c_{t-1} also reaches
  /// c_t through h_{t-1}.
  Vec<S> cell_path_jacobian(const Cache& c, Index t, Index b) const;

  Params params;
};

extern template class LSTM<float>;
extern template class LSTM<double>;

}  // namespace rnnscope
