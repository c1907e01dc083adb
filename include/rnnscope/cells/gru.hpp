// The gated recurrent unit (PyTorch nn.GRU with one layer).
//
//   r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
//   z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
//   n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))     candidate
//   h_t = (1 - z_t) * n_t + z_t * h_{t-1}
//
// b_hn sits inside the reset product, so it is not interchangeable with b_in
// (PyTorch's form, unlike the original paper's r * h inside W_hn).
//
// Step Jacobian, with m_t = W_hn h_{t-1} + b_hn:
//   dh_t/dh_{t-1} = diag(z) + diag(h_{t-1} - n) diag(z(1-z)) W_hz
//                 + diag(1-z) diag(1-n^2) [diag(r) W_hn + diag(m) diag(r(1-r)) W_hr]
// Backward, with g = dL/dh_t:
//   d_n = (1-z) g            d_an = (1-n^2) d_n           (a_n the tanh argument)
//   d_az = z(1-z) (h_{t-1} - n) g                          d_ar = r(1-r) m d_an
//   dL/d(W_ih x + b_ih) = [d_ar; d_az; d_an]               dL/d(W_hh h + b_hh) = [d_ar; d_az; r d_an]
//   dL/dh_{t-1} = z g + W_hh^T [d_ar; d_az; r d_an]
//
// T steps, B batch, I inputs, H hidden units, G = 3H gate rows. The gate
// blocks of every (3H, .) tensor are stacked in PyTorch's order r, z, n, so
// W_ir = weight_ih rows [0, H), W_iz rows [H, 2H), W_in rows [2H, 3H), and the
// same for weight_hh, bias_ih, bias_hh. PyTorch names: weight_ih_l0 (3H, I),
// weight_hh_l0 (3H, H), bias_ih_l0 (3H), bias_hh_l0 (3H).
//
// Cache: per (step, batch element) r, z, n, m (4H), the state h_t (H) and the
// input x_t (I): (5H + I) scalars, 4(5H + I) bytes in float and 8(5H + I) in
// double, plus the initial state (H per batch element).
#pragma once

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/cells/recurrent_params.hpp"

namespace rnnscope {

/// RecurrentCache (its states h_{-1}, the initial state, then h_0 .. h_{T-1},
/// (H, (T+1)*B)) and the gates.
template <Scalar S>
struct GRUCache : RecurrentCache<S> {
  Mat<S> gates;     // (3H, T*B): r_t, z_t, n_t stacked
  Mat<S> hidden_n;  // (H, T*B): m_t = W_hn h_{t-1} + b_hn, the term the reset gate scales
};

/// Params (recurrent_params.hpp): weight_ih (3H, I) = [W_ir; W_iz; W_in],
/// weight_hh (3H, H) = [W_hr; W_hz; W_hn], bias_ih (3H) = [b_ir; b_iz; b_in],
/// bias_hh (3H) = [b_hr; b_hz; b_hn]. The step Jacobian is the formula above.
template <Scalar S>
class GRU : public RecurrentCellBase<GRU<S>, S, GRUCache<S>> {
 public:
  static constexpr RecurrentLayout kLayout{"GRU", 3, 1, "h0"};

  /// GRU(input_size, hidden_size, bias = true): zero weights; `bias` false drops both bias vectors.
  using RecurrentCellBase<GRU<S>, S, GRUCache<S>>::RecurrentCellBase;
};

extern template class RecurrentCellBase<GRU<float>, float, GRUCache<float>>;
extern template class RecurrentCellBase<GRU<double>, double, GRUCache<double>>;

}  // namespace rnnscope
