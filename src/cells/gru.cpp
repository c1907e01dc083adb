// The GRU's equations (gru.hpp): forward, backward and step Jacobian, called
// by RecurrentCellBase once it has checked their arguments.
#include "rnnscope/cells/gru.hpp"

#include "recurrent_cell.hpp"
#include "rnnscope/cells/batch_schedule.hpp"

namespace rnnscope {

template <Scalar S>
void forward_steps(const GRU<S>& cell, const Mat<S>& x, GRUCache<S>& c) {
  const auto& params = cell.params;
  const Index T = c.steps, H = cell.state_size(), B = c.batch;
  // b_hr and b_hz add to b_ir and b_iz; b_hn cannot, it is scaled by r.
  Vec<S> bias, b_hn = Vec<S>::Zero(H);
  if (params.bias_ih.size() > 0) {
    bias = params.bias_ih;
    bias.head(2 * H) += params.bias_hh.head(2 * H);
    b_hn = params.bias_hh.tail(H);
  }
  c.gates.resize(3 * H, T * B);
  c.hidden_n.resize(H, T * B);
  Mat<S> hidden_pre_all(3 * H, B);  // W_hh h_{t-1} of one step; each slice its own columns
  // Blocks of steps (batch_schedule.hpp): the input projections of a block in one GEMM,
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

namespace {
/// Column col of the cache (step t of one batch element) as the gates of
///   n_t = tanh(a_n),  a_n = W_in x_t + b_in + r_t * m_t,  h_t = (1 - z_t) n_t + z_t h_{t-1},
/// with the local derivatives of that step, which backward_range applies to
/// the cotangent g of h_t (and d_an) and step_jacobian to ones, which gives
/// each coefficient itself to the bit.
template <class Gate, class Column>
struct GruStep {
  using S = typename Gate::Scalar;
  Gate r, z, n;   // reset, update, candidate
  Column m;       // m_t = W_hn h_{t-1} + b_hn
  Column h_prev;  // h_{t-1}

  /// h_t = (1 - z) n + ... with n = tanh(a_n): d_an = (1 - z)(1 - n^2) g.
  template <class D> auto candidate(const D& g) const { return (S(1) - z) * (S(1) - n.square()) * g; }
  /// a_n = ... + r m with r = sigmoid(a_r): d_ar = r (1 - r) m d_an.
  template <class D> auto reset(const D& d_an) const { return r * (S(1) - r) * m * d_an; }
  /// h_t = (1 - z) n + z h_{t-1} with z = sigmoid(a_z): d_az = z (1 - z) (h_{t-1} - n) g.
  template <class D> auto update(const D& g) const { return z * (S(1) - z) * (h_prev - n) * g; }
  /// a_n = ... + r (W_hn h_{t-1} + b_hn): the cotangent of W_hn h_{t-1} + b_hn is r d_an.
  template <class D> auto through_reset(const D& d_an) const { return r * d_an; }
};
// Spelled out for compilers without C++20's deduction for aggregates (clang 14, the fuzz build).
template <class Gate, class Column>
GruStep(Gate, Gate, Gate, Column, Column) -> GruStep<Gate, Column>;

template <class S>
auto gru_step(const GRUCache<S>& c, Index col, Index H) {
  const auto gate = c.gates.col(col);
  return GruStep{gate.head(H).array(), gate.segment(H, H).array(), gate.tail(H).array(),
                 c.hidden_n.col(col).array(), c.states.col(col).array()};
}
}  // namespace

template <Scalar S>
void backward_steps(const GRU<S>& cell, const GRUCache<S>& c, const OutputCotangent<S>& d_output, Mat<S>& g,
                    Index t0, Index t1, RecurrentGradients<S>& grads) {
  const auto& params = cell.params;
  const Index H = cell.state_size(), B = c.batch;
  // Blocks of steps (batch_schedule.hpp): the cotangents of one block,
  // (6H, block*B), feed that block's weight-gradient GEMMs. Their rows are
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
            const auto step = gru_step(c, col, H);
            auto g_b = g.col(b).array();
            auto d_in = d_input_pre.col(k);
            auto d_hid = d_hidden_pre.col(k);
            d_in.tail(H).array() = step.candidate(g_b);
            d_in.head(H).array() = step.reset(d_in.tail(H).array());
            d_in.segment(H, H).array() = step.update(g_b);
            d_hid.head(2 * H) = d_in.head(2 * H);
            d_hid.tail(H).array() = step.through_reset(d_in.tail(H).array());
            g_b *= step.z;  // the direct path h_t = ... + z h_{t-1}
          }
          // [a_r; a_z; r m] = ... + W_hh h_{t-1} + b_hh: dL/dh_{t-1} += W_hh^T d_hid
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
}

template <Scalar S>
void step_jacobian_of(const GRU<S>& cell, const GRUCache<S>& c, Index t, Index b, Mat<S>& J) {
  const Index H = cell.state_size();
  const auto step = gru_step(c, t * c.batch + b, H);
  const auto one = Eigen::Array<S, Eigen::Dynamic, 1>::Ones(H);
  const Vec<S> through_n = step.candidate(one);  // dh_t/da_n
  const Vec<S> via_z = step.update(one);
  const Vec<S> via_n = step.through_reset(through_n.array());
  const Vec<S> via_r = step.reset(through_n.array());
  J.resize(H, H);
  J.noalias() = via_z.asDiagonal() * cell.params.weight_hh.middleRows(H, H);
  J.noalias() += via_n.asDiagonal() * cell.params.weight_hh.bottomRows(H);
  J.noalias() += via_r.asDiagonal() * cell.params.weight_hh.topRows(H);
  J.diagonal() += step.z.matrix();
}

template class RecurrentCellBase<GRU<float>, float, GRUCache<float>>;
template class RecurrentCellBase<GRU<double>, double, GRUCache<double>>;

}  // namespace rnnscope
