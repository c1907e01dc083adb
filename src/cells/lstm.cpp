// The LSTM's equations (lstm.hpp): forward, backward and step Jacobian,
// called by RecurrentCellBase once it has checked their arguments.
#include "rnnscope/cells/lstm.hpp"

#include "recurrent_cell.hpp"
#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
void forward_steps(const LSTM<S>& cell, const Mat<S>& x, LSTMCache<S>& c) {
  const auto& params = cell.params;
  const Index T = c.steps, H = cell.output_size(), B = c.batch;
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  c.gates.resize(4 * H, T * B);
  c.tanh_cell.resize(H, T * B);
  // Blocks of steps (batch_schedule.hpp): the input projections of a block in
  // one GEMM, written where the gates will be, then W_hh h_{t-1} added step by step.
  forward_in_blocks(
      c.gates, params.weight_ih, x, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
          // z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
          gemm(c.gates.middleCols(t * B + b0, nb), params.weight_hh, c.states.middleCols(t * B + b0, nb).topRows(H),
               true);
          // One pass per column over its 4H gates (contiguous), then c_t, tanh(c_t), h_t.
          for (Index b = b0; b < b0 + nb; ++b) {
            const Index k = t * B + b;
            auto z = c.gates.col(k).array();
            z.head(2 * H) = z.head(2 * H).logistic();          // i, f
            z.segment(2 * H, H) = z.segment(2 * H, H).tanh();  // g
            z.tail(H) = z.tail(H).logistic();                  // o
            const auto i = z.head(H), f = z.segment(H, H), g = z.segment(2 * H, H), o = z.tail(H);
            const auto prev = c.states.col(k).array();  // [h_{t-1}; c_{t-1}]
            auto next = c.states.col(k + B).array();    // [h_t; c_t]
            auto tanh_c = c.tanh_cell.col(k).array();
            next.tail(H) = f * prev.tail(H) + i * g;  // c_t = f c_{t-1} + i g
            tanh_c = next.tail(H).tanh();
            next.head(H) = o * tanh_c;  // h_t = o tanh(c_t)
          }
        }
      });
}

namespace {
/// Column k of the cache (step t of one batch element) as the gates of
///   c_t = f c_{t-1} + i g,   h_t = o tanh(c_t),
/// with the local derivatives of that step, which backward_range applies to
/// the cotangents dh and dc of h_t and c_t, and step_jacobian to ones. Each
/// multiplies its cotangent first, so that ones give the coefficient itself,
/// to the bit.
template <class Gate, class TanhCell, class CellPrev>
struct LstmStep {
  using S = typename Gate::Scalar;
  Gate i, f, g, o;  // after their nonlinearities
  TanhCell tanh_c;  // tanh(c_t)
  CellPrev c_prev;  // c_{t-1}

  /// h_t = o tanh(c_t): dh reaches c_t as dh o (1 - tanh^2 c_t) (k_t in lstm.hpp).
  template <class D> auto cell_from_hidden(const D& dh) const { return dh * o * (S(1) - tanh_c.square()); }
  /// c_t = ... + i g with i = sigmoid(z_i): dz_i = dc g i (1 - i).
  template <class D> auto input_gate(const D& dc) const { return dc * g * i * (S(1) - i); }
  /// c_t = f c_{t-1} + ... with f = sigmoid(z_f): dz_f = dc c_{t-1} f (1 - f).
  template <class D> auto forget_gate(const D& dc) const { return dc * c_prev * f * (S(1) - f); }
  /// c_t = ... + i g with g = tanh(z_g): dz_g = dc i (1 - g^2).
  template <class D> auto cell_gate(const D& dc) const { return dc * i * (S(1) - g.square()); }
  /// h_t = o tanh(c_t) with o = sigmoid(z_o): dz_o = dh tanh(c_t) o (1 - o).
  template <class D> auto output_gate(const D& dh) const { return dh * tanh_c * o * (S(1) - o); }
};
// Spelled out for compilers without C++20's deduction for aggregates (clang 14, the fuzz build).
template <class Gate, class TanhCell, class CellPrev>
LstmStep(Gate, Gate, Gate, Gate, TanhCell, CellPrev) -> LstmStep<Gate, TanhCell, CellPrev>;

/// dc_t/dh_{t-1} = diag(g i(1-i)) W_hi + diag(c_{t-1} f(1-f)) W_hf + diag(i (1-g^2)) W_hg, into out (H, H).
template <class Step, class W, class Out>
void cell_from_previous_hidden(const Step& step, const W& w, Out&& out) {
  using S = typename Step::S;
  const Index H = w.cols();
  const auto one = Eigen::Array<S, Eigen::Dynamic, 1>::Ones(H);
  const Vec<S> di = step.input_gate(one), df = step.forget_gate(one), dg = step.cell_gate(one);
  out.noalias() = di.asDiagonal() * w.topRows(H);
  out.noalias() += df.asDiagonal() * w.middleRows(H, H);
  out.noalias() += dg.asDiagonal() * w.middleRows(2 * H, H);
}

template <class S>
auto lstm_step(const LSTMCache<S>& c, Index k, Index H) {
  const auto z = c.gates.col(k).array();
  return LstmStep{z.head(H),
                  z.segment(H, H),
                  z.segment(2 * H, H),
                  z.tail(H),
                  c.tanh_cell.col(k).array(),
                  c.states.col(k).tail(H).array()};
}
}  // namespace

template <Scalar S>
void backward_steps(const LSTM<S>& cell, const LSTMCache<S>& c, const OutputCotangent<S>& d_output, Mat<S>& d,
                    Index t0, Index t1, RecurrentGradients<S>& grads) {
  const auto& params = cell.params;
  const Index H = cell.output_size(), B = c.batch;  // d: [dh; dc] reaching s_t
  // Blocks of steps (batch_schedule.hpp): dz of one block (4H, block*B) feeds
  // the weight-gradient GEMMs of that block, so the extra memory of backward is
  // one block, not the whole range, and the block is still in cache for the GEMMs.
  backward_in_blocks(
      d_output, H, 4 * H, t0, t1, B, grads,
      [&](Index begin, Index end, Index b0, Index nb, auto& dz, const auto& dy) {
        for (Index t = end - 1; t >= begin; --t) {
          if (dy.size() > 0) d.middleCols(b0, nb).topRows(H) += dy.middleCols((t - begin) * B + b0, nb);
          for (Index b = b0; b < b0 + nb; ++b) {
            const auto step = lstm_step(c, t * B + b, H);
            auto dh = d.col(b).head(H).array();
            auto dc = d.col(b).tail(H).array();
            auto dz_k = dz.col((t - begin) * B + b).array();
            dc += step.cell_from_hidden(dh);  // c_t reaches the loss through h_t too
            dz_k.head(H) = step.input_gate(dc);
            dz_k.segment(H, H) = step.forget_gate(dc);
            dz_k.segment(2 * H, H) = step.cell_gate(dc);
            dz_k.tail(H) = step.output_gate(dh);
            dc *= step.f;  // dc_{t-1}, direct path; the path through h_{t-1} is the GEMM below
          }
          // z_t = ... + W_hh h_{t-1}: dh_{t-1} = W_hh^T dz_t
          gemm(d.middleCols(b0, nb).topRows(H), params.weight_hh.transpose(),
               dz.middleCols((t - begin) * B + b0, nb), false);
        }
      },
      [&](Index begin, Index end, const auto& dz) {
        const Index m = (end - begin) * B;
        add_block_gradients(grads, params, begin * B, dz, c.input.middleCols(begin * B, m),
                            c.states.middleCols(begin * B, m).topRows(H));
      });
}

template <Scalar S>
void step_jacobian_of(const LSTM<S>& cell, const LSTMCache<S>& c, Index t, Index b, Mat<S>& J) {
  const auto& W = cell.params.weight_hh;
  const Index H = cell.output_size();
  const auto step = lstm_step(c, t * c.batch + b, H);
  const auto one = Eigen::Array<S, Eigen::Dynamic, 1>::Ones(H);
  const Vec<S> dout = step.output_gate(one);
  const Vec<S> dh_dc = step.cell_from_hidden(one);  // k_t
  J.setZero(2 * H, 2 * H);
  auto dc_dh = J.bottomLeftCorner(H, H);
  cell_from_previous_hidden(step, W, dc_dh);
  J.bottomRightCorner(H, H).diagonal() = step.f.matrix();
  J.topLeftCorner(H, H).noalias() = dout.asDiagonal() * W.bottomRows(H);
  J.topLeftCorner(H, H).noalias() += dh_dc.asDiagonal() * dc_dh;
  J.topRightCorner(H, H).diagonal() = (dh_dc.array() * step.f).matrix();
}

template <Scalar S>
Vec<S> LSTM<S>::cell_path_jacobian(const LSTMCache<S>& c, Index t, Index b) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch, "cell_path_jacobian: step or batch out of range");
  const Index H = this->output_size();
  return c.gates.col(t * c.batch + b).segment(H, H);
}

template <Scalar S>
Mat<S> LSTM<S>::cell_to_cell_jacobian(const LSTMCache<S>& c, Index t, Index b) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch, "cell_to_cell_jacobian: step or batch out of range");
  const Index H = this->output_size(), B = c.batch;
  const auto step = lstm_step(c, t * B + b, H);
  Mat<S> J = Mat<S>::Zero(H, H);
  if (t > 0) {
    // h_{t-1} = o_{t-1} tanh(c_{t-1}): dh_{t-1}/dc_{t-1} = diag(o_{t-1} (1 - tanh^2 c_{t-1})) (k_{t-1}).
    const auto one = Eigen::Array<S, Eigen::Dynamic, 1>::Ones(H);
    const Vec<S> k_prev = lstm_step(c, (t - 1) * B + b, H).cell_from_hidden(one);
    cell_from_previous_hidden(step, this->params.weight_hh, J);
    J = J * k_prev.asDiagonal();
  }
  J.diagonal() += step.f.matrix();
  return J;
}

template class LSTM<float>;
template class LSTM<double>;
template class RecurrentCellBase<LSTM<float>, float, LSTMCache<float>>;
template class RecurrentCellBase<LSTM<double>, double, LSTMCache<double>>;

}  // namespace rnnscope
