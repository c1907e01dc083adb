// The continuous-time RNN dx/dt = -x + tanh(W_hh x + b_hh + W_ih u + b_ih),
// discretised by forward Euler with step dt:
//
//   a_t = W_ih u_t + b_ih + W_hh x_{t-1} + b_hh      y_t = tanh(a_t)
//   x_t = x_{t-1} + dt (y_t - x_{t-1}) = (1 - dt) x_{t-1} + dt y_t
//   step Jacobian  dx_t/dx_{t-1} = (1 - dt) I + dt diag(1 - y_t^2) W_hh
//   backward       with g_t the total cotangent of x_t (dL/dx_t + what step t+1 sends back)
//                  delta_t = dL/da_t = dt (1 - y_t^2) * g_t
//                  g_{t-1} gets (1 - dt) g_t + W_hh^T delta_t
//                  dW_ih = sum_t delta_t u_t^T, dW_hh = sum_t delta_t x_{t-1}^T, db = sum_t delta_t
//
// T steps, B batch, I inputs, H hidden units (state = output = x, size H).
// The parameter names and shapes are nn.RNN's: weight_ih (H, I), weight_hh
// (H, H), bias_ih (H), bias_hh (H) (weight_ih_l0 ... in a state_dict). With
// dt = 1 the cell is nn.RNN(nonlinearity="tanh") with the same state_dict: the
// update is 0 * x_{t-1} + 1 * y_t, and outputs and gradients equal Elman's
// (tanh) to the last bit or two (Eigen's kernels round a block differently
// depending on its alignment in memory).
//
// The Jacobian's eigenvalues are 1 - dt + dt mu (mu those of diag(1 - y^2) W_hh):
// a small dt keeps them near 1, so gradients fade slowly per step but over more
// steps. The cache holds u_t, x_t and y_t: 2H + I scalars per (step, batch element).
#pragma once

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/random.hpp"

namespace rnnscope {

template <Scalar S>
struct CtRnnParams {
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
    const_cast<CtRnnParams*>(this)->for_each([&](const char* name, const auto& t) { f(name, t); });
  }
};

template <Scalar S>
struct CtRnnCache {
  Index steps = 0;   // T
  Index batch = 0;   // B
  Mat<S> input;      // (I, T*B)
  Mat<S> states;     // (H, (T+1)*B): x_{-1} (the initial state) then x_0 .. x_{T-1}
  Mat<S> drive;      // (H, T*B): y_t = tanh(a_t); kept because recovering it as
                     // (x_t - (1-dt) x_{t-1}) / dt cancels catastrophically for small dt
};

template <Scalar S>
class CtRnn {
 public:
  using Scalar = S;
  using Params = CtRnnParams<S>;
  using Cache = CtRnnCache<S>;
  using Gradients = CellGradients<Params, S>;

  /// A cell with zero weights and Euler step dt (> 0 and finite; dt = 1 is
  /// the Elman tanh cell); `bias` false drops both bias vectors.
  CtRnn(Index input_size, Index hidden_size, double dt = 0.1, bool bias = true);

  /// PyTorch's nn.RNN initialisation: every tensor uniform on [-1/sqrt(H), 1/sqrt(H)].
  void init_uniform(Rng& rng);

  Index input_size() const { return params.weight_ih.cols(); }
  Index output_size() const { return params.weight_hh.rows(); }
  Index state_size() const { return params.weight_hh.rows(); }
  /// The Euler step.
  double dt() const { return dt_; }

  /// Checks every parameter's shape and finiteness; throws InvalidInput naming the tensor.
  void validate() const;

  /// Runs the sequence u (I, T*B); x0 (H, B) or empty for zeros.
  Cache forward(const Mat<S>& u, Index batch, const Mat<S>& x0 = {}) const {
    Cache c;
    forward(u, batch, x0, c);
    return c;
  }
  /// The same into `into`, whose storage is reused when the shapes repeat.
  void forward(const Mat<S>& u, Index batch, const Mat<S>& x0, Cache& into) const;
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
  /// d x_t / d x_{t-1} for batch element b: (1 - dt) I + dt diag(1 - y_t^2) W_hh, (H, H).
  Mat<S> step_jacobian(const Cache& c, Index t, Index b) const {
    Mat<S> J;
    step_jacobian(c, t, b, J);
    return J;
  }
  /// The same into J, whose storage is reused when it has the shape (S, S).
  void step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const;

  Params params;

 private:
  double dt_;
};

extern template class CtRnn<float>;
extern template class CtRnn<double>;

}  // namespace rnnscope
