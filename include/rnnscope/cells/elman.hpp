// The Elman RNN cell (PyTorch nn.RNN with one layer).
//
//   a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      h_t = f(a_t)
//   step Jacobian  dh_t/dh_{t-1} = diag(f'(a_t)) W_hh
//   backward       delta_t = f'(a_t) * (dL/dh_t + W_hh^T delta_{t+1})
//                  dW_ih = sum_t delta_t x_t^T, dW_hh = sum_t delta_t h_{t-1}^T, db = sum_t delta_t
//
// T steps, B batch, I inputs, H hidden units. f is sigmoid, tanh or relu
// (identity too, for linear analyses). PyTorch names: weight_ih_l0 (H, I),
// weight_hh_l0 (H, H), bias_ih_l0 (H), bias_hh_l0 (H).
#pragma once

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/random.hpp"

namespace rnnscope {

template <Scalar S>
struct ElmanParams {
  Mat<S> weight_ih;  // (H, I)
  Mat<S> weight_hh;  // (H, H)
  Vec<S> bias_ih;    // (H), or empty for a cell without bias
  Vec<S> bias_hh;    // (H), or empty

  /// Visits every tensor as f(name, tensor), in PyTorch's order; empty biases are skipped.
  template <class F> void for_each(F&& f) {
    f("weight_ih", weight_ih);
    f("weight_hh", weight_hh);
    if (bias_ih.size() > 0) f("bias_ih", bias_ih);
    if (bias_hh.size() > 0) f("bias_hh", bias_hh);
  }
  template <class F> void for_each(F&& f) const {
    const_cast<ElmanParams*>(this)->for_each([&](const char* name, const auto& t) { f(name, t); });
  }
};

template <Scalar S>
struct ElmanCache {
  Index steps = 0;   // T
  Index batch = 0;   // B
  Mat<S> input;      // (I, T*B)
  Mat<S> states;     // (H, (T+1)*B): h_{-1} (the initial state) then h_0 .. h_{T-1}
};

template <Scalar S>
class Elman {
 public:
  using Scalar = S;
  using Params = ElmanParams<S>;
  using Cache = ElmanCache<S>;
  using Gradients = CellGradients<Params, S>;

  /// A cell with zero weights; `bias` false drops both bias vectors.
  Elman(Index input_size, Index hidden_size, Activation f, bool bias = true);

  /// PyTorch's default initialisation: every tensor uniform on [-1/sqrt(H), 1/sqrt(H)].
  void init_uniform(Rng& rng);

  Index input_size() const { return params.weight_ih.cols(); }
  Index output_size() const { return params.weight_hh.rows(); }
  Index state_size() const { return params.weight_hh.rows(); }
  Activation nonlinearity() const { return f_; }

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
  /// d h_t / d h_{t-1} for batch element b: diag(f'(a_t)) W_hh, (H, H).
  Mat<S> step_jacobian(const Cache& c, Index t, Index b) const {
    Mat<S> J;
    step_jacobian(c, t, b, J);
    return J;
  }
  /// The same into J, whose storage is reused when it has the shape (S, S).
  void step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const;

  Params params;

 private:
  Activation f_;
};

extern template class Elman<float>;
extern template class Elman<double>;

}  // namespace rnnscope
