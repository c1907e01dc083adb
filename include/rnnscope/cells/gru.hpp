// The gated recurrent unit (PyTorch nn.GRU with one layer).
//
//   r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
//   z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
//   n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))     candidate
//   h_t = (1 - z_t) * n_t + z_t * h_{t-1}
//
// b_hn sits inside the reset product, so it is not interchangeable with b_in
// (PyTorch's form, unlike the original paper's r * h inside W_hn).
//
// Step Jacobian, with m_t = W_hn h_{t-1} + b_hn:
//   dh_t/dh_{t-1} = diag(z) + diag(h_{t-1} - n) diag(z(1-z)) W_hz
//                 + diag(1-z) diag(1-n^2) [diag(r) W_hn + diag(m) diag(r(1-r)) W_hr]
// Backward, with g = dL/dh_t:
//   d_n = (1-z) g            d_an = (1-n^2) d_n           (a_n the tanh argument)
//   d_az = z(1-z) (h_{t-1} - n) g                          d_ar = r(1-r) m d_an
//   dL/d(W_ih x + b_ih) = [d_ar; d_az; d_an]               dL/d(W_hh h + b_hh) = [d_ar; d_az; r d_an]
//   dL/dh_{t-1} = z g + W_hh^T [d_ar; d_az; r d_an]
//
// T steps, B batch, I inputs, H hidden units, G = 3H gate rows. The gate
// blocks of every (3H, .) tensor are stacked in PyTorch's order r, z, n, so
// W_ir = weight_ih rows [0, H), W_iz rows [H, 2H), W_in rows [2H, 3H), and the
// same for weight_hh, bias_ih, bias_hh. PyTorch names: weight_ih_l0 (3H, I),
// weight_hh_l0 (3H, H), bias_ih_l0 (3H), bias_hh_l0 (3H).
//
// Cache: per (step, batch element) r, z, n, m (4H), the state h_t (H) and the
// input x_t (I): (5H + I) scalars, 4(5H + I) bytes in float and 8(5H + I) in
// double, plus the initial state (H per batch element).
#pragma once

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/random.hpp"

namespace rnnscope {

template <Scalar S>
struct GRUParams {
  Mat<S> weight_ih;  // (3H, I): [W_ir; W_iz; W_in]
  Mat<S> weight_hh;  // (3H, H): [W_hr; W_hz; W_hn]
  Vec<S> bias_ih;    // (3H): [b_ir; b_iz; b_in], or empty for a cell without bias
  Vec<S> bias_hh;    // (3H): [b_hr; b_hz; b_hn], or empty

  /// Visits every tensor as f(name, tensor), in PyTorch's order; empty biases are skipped.
  template <class F> void for_each(F&& f) {
    f("weight_ih", weight_ih);
    f("weight_hh", weight_hh);
    if (bias_ih.size() > 0) f("bias_ih", bias_ih);
    if (bias_hh.size() > 0) f("bias_hh", bias_hh);
  }
  template <class F> void for_each(F&& f) const {
    const_cast<GRUParams*>(this)->for_each([&](const char* name, const auto& t) { f(name, t); });
  }
};

template <Scalar S>
struct GRUCache {
  Index steps = 0;  // T
  Index batch = 0;  // B
  Mat<S> input;     // (I, T*B)
  Mat<S> states;    // (H, (T+1)*B): h_{-1} (the initial state) then h_0 .. h_{T-1}
  Mat<S> gates;     // (3H, T*B): r_t, z_t, n_t stacked
  Mat<S> hidden_n;  // (H, T*B): m_t = W_hn h_{t-1} + b_hn, the term the reset gate scales
};

template <Scalar S>
class GRU {
 public:
  using Scalar = S;
  using Params = GRUParams<S>;
  using Cache = GRUCache<S>;
  using Gradients = CellGradients<Params, S>;

  /// A cell with zero weights; `bias` false drops both bias vectors.
  GRU(Index input_size, Index hidden_size, bool bias = true);

  /// PyTorch's default initialisation: every tensor uniform on [-1/sqrt(H), 1/sqrt(H)].
  void init_uniform(Rng& rng);

  Index input_size() const { return params.weight_ih.cols(); }
  Index output_size() const { return params.weight_hh.cols(); }
  Index state_size() const { return params.weight_hh.cols(); }

  /// Checks every parameter's shape and finiteness; throws InvalidInput naming the tensor.
  void validate() const;

  /// Runs the sequence x (I, T*B); h0 (H, B) or empty for zeros.
  Cache forward(const Mat<S>& x, Index batch, const Mat<S>& h0 = {}) const {
    Cache c;
    forward(x, batch, h0, c);
    return c;
  }
  /// The same into `into`, whose storage is reused when the shapes repeat.
  void forward(const Mat<S>& x, Index batch, const Mat<S>& h0, Cache& into) const;
  auto output(const Cache& c) const { return c.states.rightCols(c.steps * c.batch); }
  auto final_state(const Cache& c) const { return c.states.rightCols(c.batch); }

  /// Gradients with the right shapes, all zero.
  Gradients zero_gradients(const Cache& c) const;
  /// See cell.hpp.
  Mat<S> backward_range(const Cache& c, const Mat<S>& d_output, const Mat<S>& d_state, Index t0,
                        Index t1, Gradients& grads) const {
    return backward_range(c, OutputCotangent<S>::of(d_output), d_state, t0, t1, grads);
  }
  /// The same with the output cotangent whole, written block by block, or none (cell.hpp).
  Mat<S> backward_range(const Cache& c, const OutputCotangent<S>& d_output, const Mat<S>& d_state, Index t0,
                        Index t1, Gradients& grads) const;
  /// d h_t / d h_{t-1} for batch element b, (H, H): the formula in the header comment.
  Mat<S> step_jacobian(const Cache& c, Index t, Index b) const {
    Mat<S> J;
    step_jacobian(c, t, b, J);
    return J;
  }
  /// The same into J, whose storage is reused when it has the shape (S, S).
  void step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const;

  Params params;
};

extern template class GRU<float>;
extern template class GRU<double>;

}  // namespace rnnscope
