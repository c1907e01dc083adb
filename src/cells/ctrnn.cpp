#include "rnnscope/cells/ctrnn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
CtRnn<S>::CtRnn(Index input_size, Index hidden_size, double dt, bool bias) : dt_(dt) {
  require(input_size > 0 && hidden_size > 0, "CtRnn: input and hidden sizes must be positive");
  require(std::isfinite(dt) && dt > 0, fmt::format("CtRnn: dt must be positive and finite, got {}", dt));
  params.weight_ih = Mat<S>::Zero(hidden_size, input_size);
  params.weight_hh = Mat<S>::Zero(hidden_size, hidden_size);
  if (bias) {
    params.bias_ih = Vec<S>::Zero(hidden_size);
    params.bias_hh = Vec<S>::Zero(hidden_size);
  }
}

template <Scalar S>
void CtRnn<S>::init_uniform(Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(state_size()));
  params.for_each([&](const char*, auto& t) { t = rng.uniform_matrix<S>(t.rows(), t.cols(), -k, k); });
}

template <Scalar S>
void CtRnn<S>::validate() const {
  const Index H = params.weight_hh.rows(), I = params.weight_ih.cols();
  check_shape("weight_hh", params.weight_hh, H, H);
  check_shape("weight_ih", params.weight_ih, H, I);
  require((params.bias_ih.size() > 0) == (params.bias_hh.size() > 0),
          "CtRnn: bias_ih and bias_hh must both be present or both absent");
  if (params.bias_ih.size() > 0) {
    check_shape("bias_ih", params.bias_ih, H, 1);
    check_shape("bias_hh", params.bias_hh, H, 1);
  }
  params.for_each([](const char* name, const auto& t) { check_finite(name, t); });
}

template <Scalar S>
void CtRnn<S>::forward(const Mat<S>& u, Index batch, const Mat<S>& x0, Cache& c) const {
  validate();
  const Index H = state_size(), B = batch;
  const Index T = check_sequence("input", u, input_size(), B);
  const S dt = static_cast<S>(dt_), keep = static_cast<S>(1.0 - dt_);
  c.steps = T;
  c.batch = B;
  c.input = u;
  c.states.resize(H, (T + 1) * B);
  if (x0.size() == 0) {
    c.states.leftCols(B).setZero();
  } else {
    check_shape("x0", x0, H, B);
    check_finite("x0", x0);
    c.states.leftCols(B) = x0;
  }
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  c.drive.resize(H, T * B);
  // Blocks of steps (cell.hpp): the input projections of a block in one GEMM,
  // then W_hh x_{t-1} added step by step.
  forward_in_blocks(
      c.drive, params.weight_ih, u, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
          const auto x_prev = c.states.middleCols(t * B + b0, nb);
          auto y = c.drive.middleCols(t * B + b0, nb);
          gemm(y, params.weight_hh, x_prev, true);
          y = y.array().tanh().matrix();
          // With dt = 1 this is 0 * x_{t-1} + 1 * y_t = y_t exactly: the Elman update.
          c.states.middleCols((t + 1) * B + b0, nb) = keep * x_prev + dt * y;
        }
      });
}

template <Scalar S>
typename CtRnn<S>::Gradients CtRnn<S>::zero_gradients(const Cache& c) const {
  Gradients g;
  g.params = params;
  g.params.for_each([](const char*, auto& t) { t.setZero(); });
  g.d_input = Mat<S>::Zero(input_size(), c.steps * c.batch);
  g.d_state0 = Mat<S>::Zero(state_size(), c.batch);
  return g;
}

template <Scalar S>
Mat<S> CtRnn<S>::backward_range(const Cache& c, const OutputCotangent<S>& d_output, const Mat<S>& d_state,
                                Index t0, Index t1, Gradients& grads) const {
  const Index H = state_size(), B = c.batch;
  require(0 <= t0 && t0 < t1 && t1 <= c.steps, "CtRnn::backward_range: bad step range");
  const S dt = static_cast<S>(dt_), keep = static_cast<S>(1.0 - dt_);
  Mat<S> g = d_state.size() > 0 ? d_state : Mat<S>::Zero(H, B);
  check_shape("d_state", g, H, B);
  check_input_gradient(grads, input_size(), c.steps * B);
  // Blocks of steps (cell.hpp): delta_t = dL/da_t of one block feeds that
  // block's weight-gradient GEMMs.
  backward_in_blocks(
      d_output, H, H, t0, t1, B, grads,
      [&](Index begin, Index end, Index b0, Index nb, auto& delta, const auto& dy) {
        auto g_slice = g.middleCols(b0, nb);
        for (Index t = end - 1; t >= begin; --t) {
          auto delta_t = delta.middleCols((t - begin) * B + b0, nb);
          delta_t = g_slice;  // g_t, the total cotangent of x_t
          if (dy.size() > 0) delta_t += dy.middleCols((t - begin) * B + b0, nb);
          g_slice = keep * delta_t;  // the leak path x_t <- (1 - dt) x_{t-1}
          const auto y = c.drive.middleCols(t * B + b0, nb);
          delta_t.array() *= dt * (S(1) - y.array().square());
          gemm(g_slice, params.weight_hh.transpose(), delta_t, true);
        }
      },
      [&](Index begin, Index end, const auto& delta) {
        const Index m = (end - begin) * B;
        add_block_gradients(grads, params, begin * B, delta, c.input.middleCols(begin * B, m), c.states.middleCols(begin * B, m));
      });
  return g;
}

template <Scalar S>
void CtRnn<S>::step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch, "step_jacobian: step or batch out of range");
  const S dt = static_cast<S>(dt_), keep = static_cast<S>(1.0 - dt_);
  const Vec<S> scale = dt * (S(1) - c.drive.col(t * c.batch + b).array().square()).matrix();
  J.resize(params.weight_hh.rows(), params.weight_hh.cols());
  J.noalias() = scale.asDiagonal() * params.weight_hh;
  J.diagonal().array() += keep;
}

template class CtRnn<float>;
template class CtRnn<double>;

}  // namespace rnnscope
