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
#include "rnnscope/cells/recurrent_params.hpp"

namespace rnnscope {

/// RecurrentCache (its states x_{-1}, the initial state, then x_0 .. x_{T-1},
/// (H, (T+1)*B)) and the drive.
template <Scalar S>
struct CtRnnCache : RecurrentCache<S> {
  Mat<S> drive;  // (H, T*B): y_t = tanh(a_t); kept because recovering it as
                 // (x_t - (1-dt) x_{t-1}) / dt cancels catastrophically for small dt
};

/// Params (recurrent_params.hpp): weight_ih (H, I), weight_hh (H, H), bias_ih
/// (H), bias_hh (H). The step Jacobian is (1 - dt) I + dt diag(1 - y_t^2) W_hh.
template <Scalar S>
class CtRnn : public RecurrentCellBase<CtRnn<S>, S, CtRnnCache<S>> {
 public:
  static constexpr RecurrentLayout kLayout{"CtRnn", 1, 1, "x0"};

  /// A cell with zero weights and Euler step dt (> 0 and finite; dt = 1 is
  /// the Elman tanh cell); `bias` false drops both bias vectors.
  CtRnn(Index input_size, Index hidden_size, double dt = 0.1, bool bias = true);

  /// The Euler step.
  double dt() const { return dt_; }

 private:
  double dt_;
};

extern template class CtRnn<float>;
extern template class CtRnn<double>;
extern template class RecurrentCellBase<CtRnn<float>, float, CtRnnCache<float>>;
extern template class RecurrentCellBase<CtRnn<double>, double, CtRnnCache<double>>;

}  // namespace rnnscope
