#include "rnnscope/cells/lstm.hpp"

#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
LSTM<S>::LSTM(Index input_size, Index hidden_size, bool bias) {
  require(input_size > 0 && hidden_size > 0, "LSTM: input and hidden sizes must be positive");
  params.weight_ih = Mat<S>::Zero(4 * hidden_size, input_size);
  params.weight_hh = Mat<S>::Zero(4 * hidden_size, hidden_size);
  if (bias) {
    params.bias_ih = Vec<S>::Zero(4 * hidden_size);
    params.bias_hh = Vec<S>::Zero(4 * hidden_size);
  }
}

template <Scalar S>
void LSTM<S>::init_uniform(Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(output_size()));
  params.for_each([&](const char*, auto& t) { t = rng.uniform_matrix<S>(t.rows(), t.cols(), -k, k); });
}

template <Scalar S>
void LSTM<S>::validate() const {
  const Index H = params.weight_hh.cols(), I = params.weight_ih.cols();
  check_shape("weight_hh", params.weight_hh, 4 * H, H);
  check_shape("weight_ih", params.weight_ih, 4 * H, I);
  require((params.bias_ih.size() > 0) == (params.bias_hh.size() > 0),
          "LSTM: bias_ih and bias_hh must both be present or both absent");
  if (params.bias_ih.size() > 0) {
    check_shape("bias_ih", params.bias_ih, 4 * H, 1);
    check_shape("bias_hh", params.bias_hh, 4 * H, 1);
  }
  params.for_each([](const char* name, const auto& t) { check_finite(name, t); });
}

template <Scalar S>
void LSTM<S>::forward(const Mat<S>& x, Index batch, const Mat<S>& state0, Cache& c) const {
  validate();
  const Index H = output_size(), B = batch;
  const Index T = check_sequence("input", x, input_size(), B);
  c.steps = T;
  c.batch = B;
  c.states.resize(2 * H, (T + 1) * B);
  if (state0.size() == 0) {
    c.states.leftCols(B).setZero();
  } else {
    check_shape("state0", state0, 2 * H, B);
    check_finite("state0", state0);
    c.states.leftCols(B) = state0;
  }
  c.input = x;
  c.tanh_cell.resize(H, T * B);
  c.gates.resize(4 * H, T * B);
  const Vec<S> bias = summed_bias(params.bias_ih, params.bias_hh);
  // Blocks of steps (cell.hpp): the input projections of a block in one GEMM,
  // written where the gates will be, then W_hh h_{t-1} added step by step.
  forward_in_blocks(
      c.gates, params.weight_ih, x, bias, B,
      [&](Index b0, Index nb, Index t0, Index t1) {
        for (Index t = t0; t < t1; ++t) {
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
            next.tail(H) = f * prev.tail(H) + i * g;
            tanh_c = next.tail(H).tanh();
            next.head(H) = o * tanh_c;
          }
        }
      });
}

template <Scalar S>
typename LSTM<S>::Gradients LSTM<S>::zero_gradients(const Cache& c) const {
  Gradients g;
  g.params = params;
  g.params.for_each([](const char*, auto& t) { t.setZero(); });
  g.d_input = Mat<S>::Zero(input_size(), c.steps * c.batch);
  g.d_state0 = Mat<S>::Zero(state_size(), c.batch);
  return g;
}

template <Scalar S>
Mat<S> LSTM<S>::backward_range(const Cache& c, const OutputCotangent<S>& d_output, const Mat<S>& d_state,
                               Index t0, Index t1, Gradients& grads) const {
  const Index H = output_size(), B = c.batch;
  require(0 <= t0 && t0 < t1 && t1 <= c.steps, "LSTM::backward_range: bad step range");
  Mat<S> d = d_state.size() > 0 ? d_state : Mat<S>::Zero(2 * H, B);  // [dh; dc] reaching s_t
  check_shape("d_state", d, 2 * H, B);
  check_shape("grads.weight_ih", grads.params.weight_ih, params.weight_ih.rows(), params.weight_ih.cols());
  check_shape("grads.weight_hh", grads.params.weight_hh, params.weight_hh.rows(), params.weight_hh.cols());
  check_shape("grads.bias_ih", grads.params.bias_ih, params.bias_ih.size(), 1);
  check_shape("grads.bias_hh", grads.params.bias_hh, params.bias_hh.size(), 1);
  check_input_gradient(grads, input_size(), c.steps * B);
  // Blocks of steps (cell.hpp): dz of one block (4H, block*B) feeds the
  // weight-gradient GEMMs of that block, so the extra memory of backward is one
  // block, not the whole range, and the block is still in cache for the GEMMs.
  backward_in_blocks(
      d_output, H, 4 * H, t0, t1, B, grads,
      [&](Index begin, Index end, Index b0, Index nb, auto& dz, const auto& dy) {
        for (Index t = end - 1; t >= begin; --t) {
          if (dy.size() > 0) d.middleCols(b0, nb).topRows(H) += dy.middleCols((t - begin) * B + b0, nb);
          for (Index b = b0; b < b0 + nb; ++b) {
            const Index k = t * B + b;
            const auto z = c.gates.col(k).array();
            const auto i = z.head(H), f = z.segment(H, H), g = z.segment(2 * H, H), o = z.tail(H);
            const auto tanh_c = c.tanh_cell.col(k).array();
            const auto c_prev = c.states.col(k).tail(H).array();
            auto dh = d.col(b).head(H).array();
            auto dc = d.col(b).tail(H).array();
            auto dz_k = dz.col((t - begin) * B + b).array();
            dc += dh * o * (S(1) - tanh_c.square());
            dz_k.head(H) = dc * g * i * (S(1) - i);
            dz_k.segment(H, H) = dc * c_prev * f * (S(1) - f);
            dz_k.segment(2 * H, H) = dc * i * (S(1) - g.square());
            dz_k.tail(H) = dh * tanh_c * o * (S(1) - o);
            dc *= f;  // dc_{t-1}, direct path; the path through h_{t-1} is the GEMM below
          }
          gemm(d.middleCols(b0, nb).topRows(H), params.weight_hh.transpose(),
               dz.middleCols((t - begin) * B + b0, nb), false);
        }
      },
      [&](Index begin, Index end, const auto& dz) {
        const Index m = (end - begin) * B;
        add_block_gradients(grads, params, begin * B, dz, c.input.middleCols(begin * B, m), c.states.middleCols(begin * B, m).topRows(H));
      });
  return d;
}

template <Scalar S>
void LSTM<S>::step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch, "step_jacobian: step or batch out of range");
  const Index H = output_size(), k = t * c.batch + b;
  const auto z = c.gates.col(k).array();
  const auto i = z.head(H), f = z.segment(H, H), g = z.segment(2 * H, H), o = z.tail(H);
  const auto tanh_c = c.tanh_cell.col(k).array();
  const auto c_prev = c.states.col(k).tail(H).array();
  const auto& W = params.weight_hh;
  const Vec<S> di = g * i * (S(1) - i), df = c_prev * f * (S(1) - f), dg = i * (S(1) - g.square());
  const Vec<S> dout = tanh_c * o * (S(1) - o);
  const Vec<S> dh_dc = o * (S(1) - tanh_c.square());  // k_t
  J.setZero(2 * H, 2 * H);
  auto dc_dh = J.bottomLeftCorner(H, H);
  dc_dh.noalias() = di.asDiagonal() * W.topRows(H);
  dc_dh.noalias() += df.asDiagonal() * W.middleRows(H, H);
  dc_dh.noalias() += dg.asDiagonal() * W.middleRows(2 * H, H);
  J.bottomRightCorner(H, H).diagonal() = f.matrix();
  J.topLeftCorner(H, H).noalias() = dout.asDiagonal() * W.bottomRows(H);
  J.topLeftCorner(H, H).noalias() += dh_dc.asDiagonal() * dc_dh;
  J.topRightCorner(H, H).diagonal() = (dh_dc.array() * f).matrix();
}

template <Scalar S>
Vec<S> LSTM<S>::cell_path_jacobian(const Cache& c, Index t, Index b) const {
  require(0 <= t && t < c.steps && 0 <= b && b < c.batch,
          "cell_path_jacobian: step or batch out of range");
  const Index H = output_size();
  return c.gates.col(t * c.batch + b).segment(H, H);
}

template class LSTM<float>;
template class LSTM<double>;

}  // namespace rnnscope
