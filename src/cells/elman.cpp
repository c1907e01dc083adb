#include "rnnscope/cells/elman.hpp"

#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
Elman<S>::Elman(Index input_size, Index hidden_size, Activation f, bool bias) : f_(f) {
  require(input_size > 0 && hidden_size > 0, "Elman: input and hidden sizes must be positive");
  params.weight_ih = Mat<S>::Zero(hidden_size, input_size);
  params.weight_hh = Mat<S>::Zero(hidden_size, hidden_size);
  if (bias) {
    params.bias_ih = Vec<S>::Zero(hidden_size);
    params.bias_hh = Vec<S>::Zero(hidden_size);
  }
}

template <Scalar S>
void Elman<S>::init_uniform(Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(state_size()));
  params.for_each([&](const char*, auto& t) { t = rng.uniform_matrix<S>(t.rows(), t.cols(), -k, k); });
}

template <Scalar S>
void Elman<S>::validate() const {
  const Index H = params.weight_hh.rows(), I = params.weight_ih.cols();
  check_shape("weight_hh", params.weight_hh, H, H);
  check_shape("weight_ih", params.weight_ih, H, I);
  require((params.bias_ih.size() > 0) == (params.bias_hh.size() > 0),
          "Elman: bias_ih and bias_hh must both be present or both absent");
  if (params.bias_ih.size() > 0) {
    check_shape("bias_ih", params.bias_ih, H, 1);
    check_shape("bias_hh", params.bias_hh, H, 1);
  }
  params.for_each([](const char* name, const auto& t) { check_finite(name, t); });
}

template <Scalar S>
void Elman<S>::forward(const Mat<S>& x, Index batch, const Mat<S>& h0, Cache& c) const {
  validate();
  const Index H = state_size(), B = batch;
  const Index T = check_sequence("input", x, input_size(), B);
  c.steps = T;
  c.batch = B;
  c.input = x;
  c.states.resize(H, (T + 1) * B);
  if (h0.size() == 0) {
    c.states.leftCols(B).setZero();
  } else {
    check_shape("h0", h0, H, B);
    check_finite("h0", h0);
    c.states.leftCols(B) = h0;
  }
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  // Blocks of steps (cell.hpp): the input projections of a block in one GEMM,
  // written where a_t will be, then W_hh h_{t-1} added step by step.
  forward_in_blocks(
      c.states.rightCols(T * B), params.weight_ih, x, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
          auto a = c.states.middleCols((t + 1) * B + b0, nb);
          gemm(a, params.weight_hh, c.states.middleCols(t * B + b0, nb), true);
          activate_inplace(f_, a);
        }
      });
}

template <Scalar S>
typename Elman<S>::Gradients Elman<S>::zero_gradients(const Cache& c) const {
  Gradients g;
  g.params = params;
  g.params.for_each([](const char*, auto& t) { t.setZero(); });
  g.d_input = Mat<S>::Zero(input_size(), c.steps * c.batch);
  g.d_state0 = Mat<S>::Zero(state_size(), c.batch);
  return g;
}

template <Scalar S>
Mat<S> Elman<S>::backward_range(const Cache& c, const OutputCotangent<S>& d_output, const Mat<S>& d_state,
                                Index t0, Index t1, Gradients& grads) const {
  const Index H = state_size(), B = c.batch;
  require(0 <= t0 && t0 < t1 && t1 <= c.steps, "Elman::backward_range: bad step range");
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
          delta_t = g_slice;
          if (dy.size() > 0) delta_t += dy.middleCols((t - begin) * B + b0, nb);
          multiply_by_derivative(f_, delta_t, c.states.middleCols((t + 1) * B + b0, nb));
          gemm(g_slice, params.weight_hh.transpose(), delta_t, false);
        }
      },
      [&](Index begin, Index end, const auto& delta) {
        const Index m = (end - begin) * B;
        add_block_gradients(grads, params, begin * B, delta, c.input.middleCols(begin * B, m), c.states.middleCols(begin * B, m));
      });
  return g;
}

template <Scalar S>
void Elman<S>::step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch, "step_jacobian: step or batch out of range");
  const auto h = c.states.col((t + 1) * c.batch + b);
  Vec<S> fprime(h.size());
  for (Index i = 0; i < h.size(); ++i) fprime(i) = derivative_from_output(f_, h(i));
  J.resize(h.size(), h.size());
  J.noalias() = fprime.asDiagonal() * params.weight_hh;
}

template class Elman<float>;
template class Elman<double>;

}  // namespace rnnscope
