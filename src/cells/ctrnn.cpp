// The CT-RNN cell's equations (ctrnn.hpp): forward, backward and step
// Jacobian, called by RecurrentCellBase once it has checked their arguments.
#include "rnnscope/cells/ctrnn.hpp"

#include <fmt/format.h>

#include <cmath>

#include "recurrent_cell.hpp"
#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
CtRnn<S>::CtRnn(Index inputs, Index hidden, double dt, bool bias)
    : RecurrentCellBase<CtRnn<S>, S, CtRnnCache<S>>(inputs, hidden, bias), dt_(dt) {
  require(std::isfinite(dt) && dt > 0, fmt::format("CtRnn: dt must be positive and finite, got {}", dt));
}

namespace {
/// The scalars of the Euler update x_t = keep x_{t-1} + dt y_t, keep = 1 - dt.
template <class S>
struct EulerStep {
  S dt, keep;
  explicit EulerStep(double step) : dt(static_cast<S>(step)), keep(static_cast<S>(1.0 - step)) {}
};

/// dx_t/da_t = dt (1 - y_t^2) for drive columns y: the cell's one local
/// derivative, by which backward scales the cotangent of x_t and the step
/// Jacobian the rows of W_hh.
template <class S, class Y>
auto drive_derivative(S dt, const Y& y) {
  return dt * (S(1) - y.array().square());
}
}  // namespace

template <Scalar S>
void forward_steps(const CtRnn<S>& cell, const Mat<S>& u, CtRnnCache<S>& c) {
  const auto& params = cell.params;
  const Index T = c.steps, H = cell.state_size(), B = c.batch;
  const EulerStep<S> euler(cell.dt());
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  c.drive.resize(H, T * B);
  // Blocks of steps (batch_schedule.hpp): the input projections of a block in
  // one GEMM, then W_hh x_{t-1} added step by step.
  forward_in_blocks(
      c.drive, params.weight_ih, u, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
          // y_t = tanh(W_ih u_t + b_ih + W_hh x_{t-1} + b_hh),  x_t = (1 - dt) x_{t-1} + dt y_t
          const auto x_prev = c.states.middleCols(t * B + b0, nb);
          auto y = c.drive.middleCols(t * B + b0, nb);
          gemm(y, params.weight_hh, x_prev, true);
          y = y.array().tanh().matrix();
          // With dt = 1 this is 0 * x_{t-1} + 1 * y_t = y_t exactly: the Elman update.
          c.states.middleCols((t + 1) * B + b0, nb) = euler.keep * x_prev + euler.dt * y;
        }
      });
}

template <Scalar S>
void backward_steps(const CtRnn<S>& cell, const CtRnnCache<S>& c, const OutputCotangent<S>& d_output, Mat<S>& g,
                    Index t0, Index t1, RecurrentGradients<S>& grads) {
  const EulerStep<S> euler(cell.dt());
  const Index B = c.batch;
  // Blocks of steps (batch_schedule.hpp): delta_t = dL/da_t of one block feeds
  // that block's weight-gradient GEMMs; delta_t starts as g_t, the total cotangent of x_t.
  one_state_backward(cell, c, d_output, g, t0, t1, grads, [&](Index t, Index b0, Index nb, auto& g_slice, auto& delta_t) {
    // x_t = (1 - dt) x_{t-1} + dt y_t: the leak path to x_{t-1}, and
    // delta_t = dL/da_t = dt (1 - y_t^2) g_t through y_t = tanh(a_t)
    g_slice = euler.keep * delta_t;
    delta_t.array() *= drive_derivative(euler.dt, c.drive.middleCols(t * B + b0, nb));
    // a_t = ... + W_hh x_{t-1}: dL/dx_{t-1} += W_hh^T delta_t
    gemm(g_slice, cell.params.weight_hh.transpose(), delta_t, true);
  });
}

template <Scalar S>
void step_jacobian_of(const CtRnn<S>& cell, const CtRnnCache<S>& c, Index t, Index b, Mat<S>& J) {
  const auto& W = cell.params.weight_hh;
  const EulerStep<S> euler(cell.dt());
  const Vec<S> scale = drive_derivative(euler.dt, c.drive.col(t * c.batch + b)).matrix();
  J.resize(W.rows(), W.cols());
  J.noalias() = scale.asDiagonal() * W;
  J.diagonal().array() += euler.keep;
}

template class CtRnn<float>;
template class CtRnn<double>;
template class RecurrentCellBase<CtRnn<float>, float, CtRnnCache<float>>;
template class RecurrentCellBase<CtRnn<double>, double, CtRnnCache<double>>;

}  // namespace rnnscope
