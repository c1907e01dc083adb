// The long short-term memory cell (PyTorch nn.LSTM with one layer), gate order i, f, g, o.
//
//   z_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh                 (4H pre-activations)
//   i_t = sigmoid(z_i)   f_t = sigmoid(z_f)   g_t = tanh(z_g)   o_t = sigmoid(z_o)
//   c_t = f_t * c_{t-1} + i_t * g_t                              cell
//   h_t = o_t * tanh(c_t)                                        hidden state and output
//
// The state is s_t = [h_t; c_t] (S = 2H), the output its top H rows.
//
// Step Jacobian ds_t/ds_{t-1} (2H, 2H), with k_t = o_t (1 - tanh^2 c_t) = dh_t/dc_t:
//   dc_t/dh_{t-1} = diag(g i(1-i)) W_hi + diag(c_{t-1} f(1-f)) W_hf + diag(i (1-g^2)) W_hg
//   dc_t/dc_{t-1} = diag(f_t)                       the direct cell path (constant error carousel)
//   dh_t/dh_{t-1} = diag(tanh(c_t) o(1-o)) W_ho + diag(k_t) dc_t/dh_{t-1}
//   dh_t/dc_{t-1} = diag(k_t f_t)
// Backward, with dh, dc the cotangents reaching h_t and c_t:
//   dc  += k_t dh                                    (c_t reaches the loss through h_t too)
//   dz   = [dc g i(1-i); dc c_{t-1} f(1-f); dc i (1-g^2); dh tanh(c_t) o(1-o)]
//   dh_{t-1} = W_hh^T dz        dc_{t-1} = f_t dc
//   dW_ih = sum_t dz_t x_t^T    dW_hh = sum_t dz_t h_{t-1}^T    db_ih = db_hh = sum_t dz_t
//
// T steps, B batch, I inputs, H hidden units, G = 4H gate rows. The gate blocks
// of every (4H, .) tensor are stacked in PyTorch's order i, f, g, o, so
// W_ii = weight_ih rows [0, H), W_if rows [H, 2H), W_ig rows [2H, 3H), W_io rows
// [3H, 4H), and the same for weight_hh (W_hi, W_hf, W_hg, W_ho), bias_ih and
// bias_hh. PyTorch names: weight_ih_l0 (4H, I), weight_hh_l0 (4H, H),
// bias_ih_l0 (4H), bias_hh_l0 (4H).
//
// Cache: per (step, batch element) the gates i, f, g, o (4H), the state
// [h_t; c_t] (2H), tanh(c_t) (H) and the input x_t (I): (7H + I) scalars,
// 4(7H + I) bytes in float and 8(7H + I) in double, plus the initial state
// (2H per batch element). tanh(c_t) is kept (H of the 7H) so that backward
// and the step Jacobian evaluate no transcendental function.
#pragma once

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/cells/recurrent_params.hpp"

namespace rnnscope {

/// RecurrentCache (its states [h; c], s_{-1} the initial state then s_0 ..
/// s_{T-1}, (2H, (T+1)*B)) and the gates.
template <Scalar S>
struct LSTMCache : RecurrentCache<S> {
  Mat<S> gates;      // (4H, T*B): i_t, f_t, g_t, o_t stacked (after their nonlinearities)
  Mat<S> tanh_cell;  // (H, T*B): tanh(c_t)
};

/// Params (recurrent_params.hpp): weight_ih (4H, I) = [W_ii; W_if; W_ig; W_io],
/// weight_hh (4H, H) = [W_hi; W_hf; W_hg; W_ho], bias_ih (4H) = [b_ii; b_if; b_ig; b_io],
/// bias_hh (4H) = [b_hi; b_hf; b_hg; b_ho]. The state and the step Jacobian,
/// (2H, 2H), are [h; c] with the blocks above; the output is h.
template <Scalar S>
class LSTM : public RecurrentCellBase<LSTM<S>, S, LSTMCache<S>> {
 public:
  static constexpr RecurrentLayout kLayout{"LSTM", 4, 2, "state0"};

  /// LSTM(input_size, hidden_size, bias = true): zero weights; `bias` false drops both bias vectors.
  using RecurrentCellBase<LSTM<S>, S, LSTMCache<S>>::RecurrentCellBase;

  /// The direct cell path dc_t/dc_{t-1} with h_{t-1} held fixed: diag(f_t), returned
  /// as the (H) vector f_t. It is the lower-right block of step_jacobian. A product
  /// f_t * ... * f_{k+1} is the carousel alone, not dc_t/dc_k: c_{t-1} also reaches
  /// c_t through h_{t-1}.
  Vec<S> cell_path_jacobian(const LSTMCache<S>& c, Index t, Index b) const;

  /// The cell-to-cell Jacobian dc_t/dc_{t-1} (H, H) with h_{t-1} = o_{t-1} tanh(c_{t-1}) following c_{t-1}
  /// (o_{t-1} fixed): the direct path diag(f_t) plus the path through h_{t-1} into the gates i, f, g,
  ///   dc_t/dc_{t-1} = diag(f_t) + (dc_t/dh_{t-1}) diag(o_{t-1} (1 - tanh^2 c_{t-1})),
  /// with dc_t/dh_{t-1} the lower-left block of step_jacobian. At t = 0 the initial h and c are given apart, so
  /// it is diag(f_0).
  Mat<S> cell_to_cell_jacobian(const LSTMCache<S>& c, Index t, Index b) const;
};

extern template class LSTM<float>;
extern template class LSTM<double>;
extern template class RecurrentCellBase<LSTM<float>, float, LSTMCache<float>>;
extern template class RecurrentCellBase<LSTM<double>, double, LSTMCache<double>>;

}  // namespace rnnscope
