#include "rnnscope/cells/gru.hpp"

#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
GRU<S>::GRU(Index input_size, Index hidden_size, bool bias) {
  require(input_size > 0 && hidden_size > 0, "GRU: input and hidden sizes must be positive");
  params.weight_ih = Mat<S>::Zero(3 * hidden_size, input_size);
  params.weight_hh = Mat<S>::Zero(3 * hidden_size, hidden_size);
  if (bias) {
    params.bias_ih = Vec<S>::Zero(3 * hidden_size);
    params.bias_hh = Vec<S>::Zero(3 * hidden_size);
  }
}

template <Scalar S>
void GRU<S>::init_uniform(Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(state_size()));
  params.for_each([&](const char*, auto& t) { t = rng.uniform_matrix<S>(t.rows(), t.cols(), -k, k); });
}

template <Scalar S>
void GRU<S>::validate() const {
  const Index H = params.weight_hh.cols(), I = params.weight_ih.cols();
  check_shape("weight_hh", params.weight_hh, 3 * H, H);
  check_shape("weight_ih", params.weight_ih, 3 * H, I);
  require((params.bias_ih.size() > 0) == (params.bias_hh.size() > 0),
          "GRU: bias_ih and bias_hh must both be present or both absent");
  if (params.bias_ih.size() > 0) {
    check_shape("bias_ih", params.bias_ih, 3 * H, 1);
    check_shape("bias_hh", params.bias_hh, 3 * H, 1);
  }
  params.for_each([](const char* name, const auto& t) { check_finite(name, t); });
}

template <Scalar S>
void GRU<S>::forward(const Mat<S>& x, Index batch, const Mat<S>& h0, Cache& c) const {
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
  c.hidden_n.resize(H, T * B);
  // b_hr and b_hz add to b_ir and b_iz; b_hn cannot, it is scaled by r.
  c.gates.resize(3 * H, T * B);
  Vec<S> bias, b_hn = Vec<S>::Zero(H);
  if (params.bias_ih.size() > 0) {
    bias = params.bias_ih;
    bias.head(2 * H) += params.bias_hh.head(2 * H);
    b_hn = params.bias_hh.tail(H);
  }
  Mat<S> hidden_pre_all(3 * H, B);  // W_hh h_{t-1} of one step; each slice its own columns
  // Blocks of steps (cell.hpp): the input projections of a block in one GEMM,
  // written where the gates will be, then the hidden side step by step.
  forward_in_blocks(
      c.gates, params.weight_ih, x, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        auto hidden_pre = hidden_pre_all.middleCols(b0, nb);
        for (Index t = t0; t < t1; ++t) {
          gemm(hidden_pre, params.weight_hh, c.states.middleCols(t * B + b0, nb), false);
          // All gates of a column in one pass while it is in L1. Eigen's logistic is
          // finite for every finite argument (no exp overflow into NaN).
          for (Index j = 0; j < nb; ++j) {
            const Index col = t * B + b0 + j;
            auto gate = c.gates.col(col);
            const auto pre = hidden_pre.col(j);
            auto r = gate.head(H).array();
            auto z = gate.segment(H, H).array();
            auto n = gate.tail(H).array();
            auto m = c.hidden_n.col(col).array();
            r = (r + pre.head(H).array()).logistic();
            z = (z + pre.segment(H, H).array()).logistic();
            m = pre.tail(H).array() + b_hn.array();
            n = (n + r * m).tanh();
            c.states.col(col + B).array() = (S(1) - z) * n + z * c.states.col(col).array();
          }
        }
      });
}

template <Scalar S>
typename GRU<S>::Gradients GRU<S>::zero_gradients(const Cache& c) const {
  Gradients g;
  g.params = params;
  g.params.for_each([](const char*, auto& t) { t.setZero(); });
  g.d_input = Mat<S>::Zero(input_size(), c.steps * c.batch);
  g.d_state0 = Mat<S>::Zero(state_size(), c.batch);
  return g;
}

template <Scalar S>
Mat<S> GRU<S>::backward_range(const Cache& c, const OutputCotangent<S>& d_output, const Mat<S>& d_state,
                              Index t0, Index t1, Gradients& grads) const {
  const Index H = state_size(), B = c.batch;
  require(0 <= t0 && t0 < t1 && t1 <= c.steps, "GRU::backward_range: bad step range");
  Mat<S> g = d_state.size() > 0 ? d_state : Mat<S>::Zero(H, B);
  check_shape("d_state", g, H, B);
  check_input_gradient(grads, input_size(), c.steps * B);
  // Blocks of steps (cell.hpp): the cotangents of one block, (6H, block*B),
  // feed that block's weight-gradient GEMMs. Their rows are
  // dL/d(W_ih x_t + b_ih) = [d_ar; d_az; d_an] and, below them,
  // dL/d(W_hh h_{t-1} + b_hh) = [d_ar; d_az; r d_an].
  backward_in_blocks(
      d_output, H, 6 * H, t0, t1, B, grads,
      [&](Index begin, Index end, Index b0, Index nb, auto& scratch, const auto& dy) {
        auto d_input_pre = scratch.topRows(3 * H);
        auto d_hidden_pre = scratch.bottomRows(3 * H);
        auto g_slice = g.middleCols(b0, nb);
        for (Index t = end - 1; t >= begin; --t) {
          if (dy.size() > 0) g_slice += dy.middleCols((t - begin) * B + b0, nb);
          for (Index b = b0; b < b0 + nb; ++b) {
            const Index col = t * B + b, k = (t - begin) * B + b;
            const auto gate = c.gates.col(col);
            const auto r = gate.head(H).array();
            const auto z = gate.segment(H, H).array();
            const auto n = gate.tail(H).array();
            const auto m_t = c.hidden_n.col(col).array();
            const auto h_prev = c.states.col(col).array();
            auto g_b = g.col(b).array();
            auto d_in = d_input_pre.col(k);
            auto d_hid = d_hidden_pre.col(k);
            d_in.tail(H).array() = (S(1) - z) * (S(1) - n.square()) * g_b;
            d_in.head(H).array() = r * (S(1) - r) * m_t * d_in.tail(H).array();
            d_in.segment(H, H).array() = z * (S(1) - z) * (h_prev - n) * g_b;
            d_hid.head(2 * H) = d_in.head(2 * H);
            d_hid.tail(H).array() = r * d_in.tail(H).array();
            g_b *= z;  // the direct path h_t = ... + z h_{t-1}
          }
          gemm(g_slice, params.weight_hh.transpose(), d_hidden_pre.middleCols((t - begin) * B + b0, nb), true);
        }
      },
      [&](Index begin, Index end, const auto& scratch) {
        const Index m = (end - begin) * B;
        const auto d_in_block = scratch.topRows(3 * H), d_hid_block = scratch.bottomRows(3 * H);
        add_product_transposed(grads.params.weight_ih, d_in_block, c.input.middleCols(begin * B, m));
        add_product_transposed(grads.params.weight_hh, d_hid_block, c.states.middleCols(begin * B, m));
        if (params.bias_ih.size() > 0) {
          grads.params.bias_ih += d_in_block.rowwise().sum();
          grads.params.bias_hh += d_hid_block.rowwise().sum();
        }
        add_input_gradient(grads, begin * B, params.weight_ih, d_in_block);
      });
  return g;
}

template <Scalar S>
void GRU<S>::step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch, "step_jacobian: step or batch out of range");
  const Index H = state_size(), col = t * c.batch + b;
  const auto gate = c.gates.col(col);
  const auto r = gate.head(H).array();
  const auto z = gate.segment(H, H).array();
  const auto n = gate.tail(H).array();
  const auto m = c.hidden_n.col(col).array();
  const auto h_prev = c.states.col(col).array();
  const Vec<S> through_n = (S(1) - z) * (S(1) - n.square());  // dh_t/da_n
  const Vec<S> via_z = (h_prev - n) * z * (S(1) - z);
  const Vec<S> via_n = through_n.array() * r;
  const Vec<S> via_r = through_n.array() * m * r * (S(1) - r);
  J.resize(H, H);
  J.noalias() = via_z.asDiagonal() * params.weight_hh.middleRows(H, H);
  J.noalias() += via_n.asDiagonal() * params.weight_hh.bottomRows(H);
  J.noalias() += via_r.asDiagonal() * params.weight_hh.topRows(H);
  J.diagonal() += gate.segment(H, H);
}

template class GRU<float>;
template class GRU<double>;

}  // namespace rnnscope
