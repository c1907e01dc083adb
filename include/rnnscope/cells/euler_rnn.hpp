// Recurrent cells that are forward-Euler steps of an ODE in the hidden state,
//
//   dx/dt = -leak x + tanh(M x + W_ih u + b_ih + b_hh),
//
// taken with a step size `step`:
//
//   a_t = M x_{t-1} + W_ih u_t + b_ih + b_hh      y_t = tanh(a_t)
//   x_t = keep x_{t-1} + step y_t,  keep = 1 - leak step
//   step Jacobian  dx_t/dx_{t-1} = keep I + step diag(1 - y_t^2) M
//   backward       with g_t the total cotangent of x_t (dL/dx_t + what step t+1 sends back)
//                  delta_t = dL/da_t = step (1 - y_t^2) * g_t
//                  g_{t-1} gets keep g_t + M^T delta_t
//                  dM = sum_t delta_t x_{t-1}^T, dW_ih = sum_t delta_t u_t^T, db = sum_t delta_t
//
// Three cells are this family (EulerForm):
//   ctrnn              leak 1, step dt, M = W_hh: the continuous-time RNN
//                      dx/dt = -x + tanh(...), keep = 1 - dt. With dt = 1 it is
//                      nn.RNN(nonlinearity="tanh") with the same state_dict: the
//                      update is 0 * x_{t-1} + 1 * y_t, and outputs and gradients
//                      equal Elman's (tanh) to the last bit or two (Eigen's kernels
//                      round a block differently depending on its alignment).
//   rnn_residual       leak 0, step 1, M = W_hh: h_t = h_{t-1} + tanh(a_t), an Elman
//                      cell with an identity skip from h_{t-1} to h_t; the step
//                      Jacobian is I + diag(f'(a_t)) W_hh.
//   rnn_antisymmetric  leak 0, step eps, M = W_hh - W_hh^T - gamma I: the
//                      AntisymmetricRNN of Chang, Chen, Haber and Chi (2019),
//                      h_t = h_{t-1} + eps tanh(M h_{t-1} + V x_t + b). M's
//                      eigenvalues are -gamma + i omega, so those of the step
//                      Jacobian lie near the unit circle for small eps. The trained
//                      matrix is W (weight_hh): dW = dM - dM^T.
//
// T steps, B batch, I inputs, H hidden units (state = output = x, size H).
// The parameter names and shapes are nn.RNN's: weight_ih (H, I), weight_hh
// (H, H), bias_ih (H), bias_hh (H) (weight_ih_l0 ... in a state_dict).
//
// The Jacobian's eigenvalues are keep + step mu (mu those of diag(1 - y^2) M):
// a small step keeps them near 1, so gradients fade slowly per step but over
// more steps. The cache holds u_t, x_t and y_t: 2H + I scalars per (step, batch
// element), and M (H, H) for the antisymmetric cell.
#pragma once

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/cells/recurrent_params.hpp"

namespace rnnscope {

/// Which ODE an EulerRnn steps through, and how (the file comment).
struct EulerForm {
  double step = 0.1;            // dt, 1 or eps
  double leak = 1;              // 1 (ctrnn) or 0
  bool antisymmetric = false;   // M = W - W^T - gamma I instead of W
  double gamma = 0;             // the antisymmetric cell's diffusion

  /// The continuous-time RNN with Euler step dt.
  static EulerForm ctrnn(double dt) { return {dt, 1, false, 0}; }
  /// h_t = h_{t-1} + tanh(W_hh h_{t-1} + ...).
  static EulerForm residual() { return {1, 0, false, 0}; }
  /// h_t = h_{t-1} + eps tanh((W - W^T - gamma I) h_{t-1} + ...).
  static EulerForm antisymmetric_rnn(double eps, double gamma) { return {eps, 0, true, gamma}; }
  /// 1 - leak step, the coefficient of x_{t-1} in x_t.
  double keep() const { return 1.0 - leak * step; }
};

/// RecurrentCache (its states x_{-1}, the initial state, then x_0 .. x_{T-1},
/// (H, (T+1)*B)), the drive and the antisymmetric cell's recurrent matrix.
template <Scalar S>
struct EulerRnnCache : RecurrentCache<S> {
  Mat<S> drive;      // (H, T*B): y_t = tanh(a_t); kept because recovering it as
                     // (x_t - keep x_{t-1}) / step cancels catastrophically for a small step
  Mat<S> recurrent;  // (H, H): M = W - W^T - gamma I of the antisymmetric cell; empty for the others
};

/// Params (recurrent_params.hpp): weight_ih (H, I), weight_hh (H, H), bias_ih
/// (H), bias_hh (H). The step Jacobian is keep I + step diag(1 - y_t^2) M.
template <Scalar S>
class EulerRnn : public RecurrentCellBase<EulerRnn<S>, S, EulerRnnCache<S>> {
 public:
  static constexpr RecurrentLayout kLayout{"EulerRnn", 1, 1, "x0"};

  /// A CT-RNN with zero weights and Euler step dt (> 0 and finite; dt = 1 is
  /// the Elman tanh cell); `bias` false drops both bias vectors.
  EulerRnn(Index input_size, Index hidden_size, double dt = 0.1, bool bias = true)
      : EulerRnn(input_size, hidden_size, EulerForm::ctrnn(dt), bias) {}
  /// A cell of any form (step > 0 and finite, leak 0 or 1, gamma >= 0 and finite).
  EulerRnn(Index input_size, Index hidden_size, EulerForm form, bool bias = true);

  const EulerForm& form() const { return form_; }
  /// The Euler step (dt, 1 or eps).
  double dt() const { return form_.step; }

  /// M, the matrix that multiplies x_{t-1}: weight_hh, or the antisymmetric
  /// cell's W - W^T - gamma I (in double, for bounds and spectra).
  Mat<double> recurrent_matrix() const;

 private:
  EulerForm form_;
};

extern template class EulerRnn<float>;
extern template class EulerRnn<double>;
extern template class RecurrentCellBase<EulerRnn<float>, float, EulerRnnCache<float>>;
extern template class RecurrentCellBase<EulerRnn<double>, double, EulerRnnCache<double>>;

}  // namespace rnnscope
