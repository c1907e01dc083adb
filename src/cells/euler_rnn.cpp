// The Euler family's equations (euler_rnn.hpp): forward, backward and step
// Jacobian, called by RecurrentCellBase once it has checked their arguments.
#include "rnnscope/cells/euler_rnn.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "recurrent_cell.hpp"
#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
EulerRnn<S>::EulerRnn(Index inputs, Index hidden, EulerForm form, bool bias)
    : RecurrentCellBase<EulerRnn<S>, S, EulerRnnCache<S>>(inputs, hidden, bias), form_(form) {
  require(std::isfinite(form.step) && form.step > 0, fmt::format("EulerRnn: {} must be positive and finite, got {}",
                                                                 form.antisymmetric ? "eps" : "dt", form.step));
  require(form.leak == 0 || form.leak == 1, fmt::format("EulerRnn: leak must be 0 or 1, got {}", form.leak));
  require(std::isfinite(form.gamma) && form.gamma >= 0,
          fmt::format("EulerRnn: gamma must be non-negative and finite, got {}", form.gamma));
}

namespace {
/// m = w - w^T - gamma I, the antisymmetric cell's M (m must not be w).
template <class T>
void form_antisymmetric(const Mat<T>& w, double gamma, Mat<T>& m) {
  m.resize(w.rows(), w.cols());
  m = w - w.transpose();
  m.diagonal().array() -= static_cast<T>(gamma);
}
}  // namespace

template <Scalar S>
Mat<double> EulerRnn<S>::recurrent_matrix() const {
  const Mat<double> w = this->params.weight_hh.template cast<double>();
  if (!form_.antisymmetric) return w;
  Mat<double> m;
  form_antisymmetric(w, form_.gamma, m);
  return m;
}

namespace {
/// The scalars of the Euler update x_t = keep x_{t-1} + step y_t.
template <class S>
struct EulerStep {
  S step, keep;
  explicit EulerStep(const EulerForm& form) : step(static_cast<S>(form.step)), keep(static_cast<S>(form.keep())) {}
};

/// dx_t/da_t = step (1 - y_t^2) for drive columns y: the cell's one local
/// derivative, by which backward scales the cotangent of x_t and the step
/// Jacobian the rows of M.
template <class S, class Y>
auto drive_derivative(S step, const Y& y) {
  return step * (S(1) - y.array().square());
}

/// M of this forward: weight_hh, or W - W^T - gamma I formed into the cache.
template <class S>
const Mat<S>& recurrent_of(const EulerRnn<S>& cell, const EulerRnnCache<S>& c) {
  return cell.form().antisymmetric ? c.recurrent : cell.params.weight_hh;
}
}  // namespace

template <Scalar S>
void forward_steps(const EulerRnn<S>& cell, const Mat<S>& u, EulerRnnCache<S>& c) {
  const auto& params = cell.params;
  const Index T = c.steps, H = cell.state_size(), B = c.batch;
  const EulerStep<S> euler(cell.form());
  if (cell.form().antisymmetric)
    form_antisymmetric(params.weight_hh, cell.form().gamma, c.recurrent);
  else
    c.recurrent.resize(0, 0);
  const Mat<S>& M = recurrent_of(cell, c);
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  c.drive.resize(H, T * B);
  // Blocks of steps (batch_schedule.hpp): the input projections of a block in
  // one GEMM, then M x_{t-1} added step by step.
  forward_in_blocks(
      c.drive, params.weight_ih, u, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
          // y_t = tanh(W_ih u_t + b_ih + M x_{t-1} + b_hh),  x_t = keep x_{t-1} + step y_t
          const auto x_prev = c.states.middleCols(t * B + b0, nb);
          auto y = c.drive.middleCols(t * B + b0, nb);
          gemm(y, M, x_prev, true);
          y = y.array().tanh().matrix();
          // With keep = 0 and step = 1 this is 0 * x_{t-1} + 1 * y_t = y_t exactly: the Elman update.
          c.states.middleCols((t + 1) * B + b0, nb) = euler.keep * x_prev + euler.step * y;
        }
      });
}

template <Scalar S>
void backward_steps(const EulerRnn<S>& cell, const EulerRnnCache<S>& c, const OutputCotangent<S>& d_output, Mat<S>& g,
                    Index t0, Index t1, RecurrentGradients<S>& grads) {
  const EulerStep<S> euler(cell.form());
  const Index B = c.batch;
  const Mat<S>& M = recurrent_of(cell, c);
  // The antisymmetric cell's sweep accumulates dM where dW_hh goes, into zeros:
  // dW_hh += dM - dM^T once the sweep is done.
  Mat<S> before;
  if (cell.form().antisymmetric) {
    before = Mat<S>::Zero(M.rows(), M.cols());
    std::swap(before, grads.params.weight_hh);
  }
  // Blocks of steps (batch_schedule.hpp): delta_t = dL/da_t of one block feeds
  // that block's weight-gradient GEMMs; delta_t starts as g_t, the total cotangent of x_t.
  one_state_backward(cell, c, d_output, g, t0, t1, grads,
                     [&](Index t, Index b0, Index nb, auto& g_slice, auto& delta_t) {
                       // x_t = keep x_{t-1} + step y_t: the direct path to x_{t-1}, and
                       // delta_t = dL/da_t = step (1 - y_t^2) g_t through y_t = tanh(a_t)
                       g_slice = euler.keep * delta_t;
                       delta_t.array() *= drive_derivative(euler.step, c.drive.middleCols(t * B + b0, nb));
                       // a_t = ... + M x_{t-1}: dL/dx_{t-1} += M^T delta_t
                       gemm(g_slice, M.transpose(), delta_t, true);
                     });
  if (cell.form().antisymmetric) {
    before += grads.params.weight_hh - grads.params.weight_hh.transpose();
    std::swap(before, grads.params.weight_hh);
  }
}

template <Scalar S>
void step_jacobian_of(const EulerRnn<S>& cell, const EulerRnnCache<S>& c, Index t, Index b, Mat<S>& J) {
  const Mat<S>& M = recurrent_of(cell, c);
  const EulerStep<S> euler(cell.form());
  const Vec<S> scale = drive_derivative(euler.step, c.drive.col(t * c.batch + b)).matrix();
  J.resize(M.rows(), M.cols());
  J.noalias() = scale.asDiagonal() * M;
  J.diagonal().array() += euler.keep;
}

template class EulerRnn<float>;
template class EulerRnn<double>;
template class RecurrentCellBase<EulerRnn<float>, float, EulerRnnCache<float>>;
template class RecurrentCellBase<EulerRnn<double>, double, EulerRnnCache<double>>;

}  // namespace rnnscope
