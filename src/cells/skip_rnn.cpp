// The skip cell's equations (skip_rnn.hpp): forward, backward and step
// Jacobian, called by RecurrentCellBase once it has checked their arguments.
#include "rnnscope/cells/skip_rnn.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "recurrent_cell.hpp"
#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
SkipRnn<S>::SkipRnn(Index inputs, Index hidden, Index skip, Activation f, bool bias)
    : Base(inputs, hidden, bias), skip_(skip), f_(f) {
  require(skip >= 1, fmt::format("SkipRnn: skip must be at least 1, got {}", skip));
}

template <Scalar S>
void SkipRnn<S>::initial_states(SkipRnnCache<S>& c, const Mat<S>& state0) const {
  const Index H = this->output_size(), K = skip_, B = c.batch;
  c.states.resize(H, (c.steps + K) * B);
  if (state0.size() == 0) {
    c.states.leftCols(K * B).setZero();
    return;
  }
  check_shape(kLayout.initial_state, state0, K * H, B);
  check_finite(kLayout.initial_state, state0);
  for (Index i = 0; i < K; ++i) c.states.middleCols((K - 1 - i) * B, B) = state0.middleRows(i * H, H);  // h_{-1-i}
}

template <Scalar S>
Mat<S> SkipRnn<S>::final_state(const SkipRnnCache<S>& c) const {
  const Index H = this->output_size(), K = skip_, B = c.batch, T = c.steps;
  Mat<S> s(K * H, B);
  for (Index i = 0; i < K; ++i) s.middleRows(i * H, H) = c.states.middleCols((T - 1 - i + K) * B, B);  // h_{T-1-i}
  return s;
}

template <Scalar S>
void forward_steps(const SkipRnn<S>& cell, const Mat<S>& x, SkipRnnCache<S>& c) {
  const auto& params = cell.params;
  const Activation f = cell.nonlinearity();
  const Index T = c.steps, B = c.batch, K = cell.skip();
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  // h_j is column block j + K. Blocks of steps (batch_schedule.hpp) of at
  // most K steps: a block's h_{t-K} are all known before it starts, so
  // W_skip h_{t-K} joins the input projections of the block as a second GEMM,
  // written where a_t will be; then W_hh h_{t-1} is added step by step.
  forward_in_blocks(
      c.states.rightCols(T * B), params.weight_ih, x, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
          // a_t = W_ih x_t + b_ih + W_skip h_{t-K} + W_hh h_{t-1} + b_hh,  h_t = f(a_t)
          auto a = c.states.middleCols((t + K) * B + b0, nb);
          gemm(a, params.weight_hh, c.states.middleCols((t + K - 1) * B + b0, nb), true);
          activate_inplace(f, a);
        }
      },
      K,
      [&](Index t0, Index t1) {
        const Index m = (t1 - t0) * B;
        assign_product(c.states.middleCols((t0 + K) * B, m), params.weight_skip, c.states.middleCols(t0 * B, m), true);
      });
}

template <Scalar S>
void backward_steps(const SkipRnn<S>& cell, const SkipRnnCache<S>& c, const OutputCotangent<S>& d_output, Mat<S>& g,
                    Index t0, Index t1, RecurrentGradients<S>& grads) {
  const auto& params = cell.params;
  const Activation f = cell.nonlinearity();
  const Index H = cell.output_size(), K = cell.skip(), B = c.batch;
  // The pending cotangent of h_j lives in the ring's columns of slot(j) = j mod
  // K: the K vectors a state holds. g's block i is that of h_{t1-1-i} on
  // entry, and of h_{t0-1-i} on return.
  const auto slot = [K](Index j) { return ((j % K) + K) % K; };
  Mat<S> ring(H, K * B);
  for (Index i = 0; i < K; ++i) ring.middleCols(slot(t1 - 1 - i) * B, B) = g.middleRows(i * H, H);
  // Blocks of at most K steps (batch_schedule.hpp): step t hands h_t's slot to
  // h_{t-K}, which lies before the block, and each block's products add
  // W_skip^T delta_t to those slots in one GEMM per run of consecutive slots.
  backward_in_blocks(
      d_output, H, H, t0, t1, B, grads,
      [&](Index begin, Index end, Index b0, Index nb, auto& delta, const auto& dy) {
        for (Index t = end - 1; t >= begin; --t) {
          auto g_t = ring.middleCols(slot(t) * B + b0, nb);  // h_t's, complete: steps t + 1 and t + K are done
          auto delta_t = delta.middleCols((t - begin) * B + b0, nb);
          delta_t = g_t;
          if (dy.size() > 0) delta_t += dy.middleCols((t - begin) * B + b0, nb);
          // h_t = f(a_t): delta_t = f'(a_t) (dL/dh_t + what steps t + 1 and t + K send back)
          multiply_by_derivative(f, delta_t, c.states.middleCols((t + K) * B + b0, nb));
          // The slot passes to h_{t-K} (W_skip^T delta_t comes with the block's products); h_{t-1} via W_hh
          g_t.setZero();
          gemm(ring.middleCols(slot(t - 1) * B + b0, nb), params.weight_hh.transpose(), delta_t, true);
        }
      },
      [&](Index begin, Index end, const auto& delta) {
        const Index m = (end - begin) * B;
        for (Index t = begin; t < end;) {  // a_t = ... + W_skip h_{t-K}: dL/dh_{t-K} += W_skip^T delta_t
          const Index s = slot(t), n = std::min(end - t, K - s);
          assign_product(ring.middleCols(s * B, n * B), params.weight_skip.transpose(),
                         delta.middleCols((t - begin) * B, n * B), true);
          t += n;
        }
        add_block_gradients(grads, params, begin * B, delta, c.input.middleCols(begin * B, m),
                            c.states.middleCols((begin + K - 1) * B, m));
        add_product_transposed(grads.params.weight_skip, delta, c.states.middleCols(begin * B, m));
      },
      K);
  for (Index i = 0; i < K; ++i) g.middleRows(i * H, H) = ring.middleCols(slot(t0 - 1 - i) * B, B);
}

template <Scalar S>
void step_jacobian_of(const SkipRnn<S>& cell, const SkipRnnCache<S>& c, Index t, Index b, Mat<S>& J) {
  const Index H = cell.output_size(), K = cell.skip();
  const auto h = c.states.col((t + K) * c.batch + b);
  Vec<S> fprime = Vec<S>::Ones(H);
  multiply_by_derivative(cell.nonlinearity(), fprime, h);
  J.setZero(K * H, K * H);
  J.topLeftCorner(H, H).noalias() = fprime.asDiagonal() * cell.params.weight_hh;
  J.block(0, (K - 1) * H, H, H).noalias() += fprime.asDiagonal() * cell.params.weight_skip;
  for (Index i = 1; i < K; ++i) J.block(i * H, (i - 1) * H, H, H).setIdentity();
}

template class SkipRnn<float>;
template class SkipRnn<double>;
template class RecurrentCellBase<SkipRnn<float>, float, SkipRnnCache<float>>;
template class RecurrentCellBase<SkipRnn<double>, double, SkipRnnCache<double>>;

}  // namespace rnnscope
