// The Elman RNN cell (PyTorch nn.RNN with one layer).
//
//   a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      h_t = f(a_t)
//   step Jacobian  dh_t/dh_{t-1} = diag(f'(a_t)) W_hh
//   backward       delta_t = f'(a_t) * (dL/dh_t + W_hh^T delta_{t+1})
//                  dW_ih = sum_t delta_t x_t^T, dW_hh = sum_t delta_t h_{t-1}^T, db = sum_t delta_t
//
// T steps, B batch, I inputs, H hidden units. f is sigmoid, tanh or relu
// (identity too, for linear analyses). PyTorch names: weight_ih_l0 (H, I),
// weight_hh_l0 (H, H), bias_ih_l0 (H), bias_hh_l0 (H).
#pragma once

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/cells/cell.hpp"
#include "rnnscope/cells/recurrent_params.hpp"

namespace rnnscope {

/// RecurrentCache: the states are h_{-1} (the initial state) then h_0 .. h_{T-1}, (H, (T+1)*B).
template <Scalar S>
using ElmanCache = RecurrentCache<S>;

/// Params (recurrent_params.hpp): weight_ih (H, I), weight_hh (H, H), bias_ih
/// (H), bias_hh (H). The step Jacobian is diag(f'(a_t)) W_hh.
template <Scalar S>
class Elman : public RecurrentCellBase<Elman<S>, S, ElmanCache<S>> {
 public:
  static constexpr RecurrentLayout kLayout{"Elman", 1, 1, "h0"};

  /// A cell with zero weights and nonlinearity f; `bias` false drops both bias vectors.
  Elman(Index input_size, Index hidden_size, Activation f, bool bias = true)
      : RecurrentCellBase<Elman<S>, S, ElmanCache<S>>(input_size, hidden_size, bias), f_(f) {}

  Activation nonlinearity() const { return f_; }

 private:
  Activation f_;
};

extern template class RecurrentCellBase<Elman<float>, float, ElmanCache<float>>;
extern template class RecurrentCellBase<Elman<double>, double, ElmanCache<double>>;

}  // namespace rnnscope
