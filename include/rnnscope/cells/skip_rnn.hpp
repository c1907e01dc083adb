// The Elman cell with a temporal skip connection of K steps (the skip /
// clockwork family of remedies): h_t also reads the hidden vector K steps back.
//
//   a_t = W_ih x_t + b_ih + W_hh h_{t-1} + W_skip h_{t-K} + b_hh      h_t = f(a_t)
//
// The state is the last K hidden vectors, s_t = [h_t; h_{t-1}; ...; h_{t-K+1}]
// (S = K H), its top H rows the output. The step Jacobian is the block
// companion matrix
//
//   ds_t/ds_{t-1} = [ D W_hh  0  ...  0  D W_skip ]      D = diag(f'(a_t))
//                   [ I       0  ...  0  0        ]
//                   [ 0       I  ...  0  0        ]
//                   [ ...                         ]
//                   [ 0       0  ...  I  0        ]
//
// (for K = 1 the single block D (W_hh + W_skip): the Elman cell with W_skip
// added to W_hh), so a chain ds_T/ds_{T-L} has paths of about L/K factors D W_skip
// besides the L factors D W_hh of the Elman chain.
//
//   backward  delta_t = f'(a_t) * (total cotangent of h_t)
//             h_{t-1} gets W_hh^T delta_t, h_{t-K} gets W_skip^T delta_t
//             dW_ih = sum_t delta_t x_t^T, dW_hh = sum_t delta_t h_{t-1}^T,
//             dW_skip = sum_t delta_t h_{t-K}^T, db = sum_t delta_t
//
// The cache keeps each hidden vector once, not the K-fold state: its states are
// (H, (T+K)*B), h_{-K} .. h_{-1} (the initial state's blocks, last first) then
// h_0 .. h_{T-1}. Backward keeps the pending cotangents of the K hidden vectors
// in a ring, so a step moves no block. The sweeps run in blocks of at most K
// steps, so that W_skip h_{t-K} (forward) and W_skip^T delta_t (backward) are
// one GEMM per block beside the input GEMMs, not one small GEMM per step. PyTorch has no such layer: the names are
// nn.RNN's plus weight_skip (H, H), and tools/torch_reference.py spells the
// recurrence out in torch operations.
#pragma once

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/cells/cell.hpp"
#include "rnnscope/cells/recurrent_params.hpp"

namespace rnnscope {

/// RecurrentCache with states (H, (T+K)*B): column (j + K) B + b is h_j of batch element b, j = -K .. T-1.
template <Scalar S>
struct SkipRnnCache : RecurrentCache<S> {};

/// Params (recurrent_params.hpp): weight_ih (H, I), weight_hh (H, H), bias_ih
/// (H), bias_hh (H) and weight_skip (H, H).
template <Scalar S>
class SkipRnn : public RecurrentCellBase<SkipRnn<S>, S, SkipRnnCache<S>> {
  using Base = RecurrentCellBase<SkipRnn<S>, S, SkipRnnCache<S>>;

 public:
  static constexpr RecurrentLayout kLayout{"SkipRnn", 1, 1, "h0", true};

  /// A cell with zero weights, skip K >= 1 and nonlinearity f; `bias` false drops both bias vectors.
  SkipRnn(Index input_size, Index hidden_size, Index skip, Activation f = Activation::tanh, bool bias = true);

  Index skip() const { return skip_; }
  Activation nonlinearity() const { return f_; }

  /// The state holds K hidden vectors.
  Index state_blocks() const { return skip_; }
  /// Lays out h_{-1} .. h_{-K} from state0 (K H, B) = [h_{-1}; ...; h_{-K}], or zeros.
  void initial_states(SkipRnnCache<S>& c, const Mat<S>& state0) const;
  /// The outputs h_0 .. h_{T-1}, (H, T*B).
  auto output(const SkipRnnCache<S>& c) const { return c.states.rightCols(c.steps * c.batch); }
  /// [h_{T-1}; h_{T-2}; ...; h_{T-K}], (K H, B).
  Mat<S> final_state(const SkipRnnCache<S>& c) const;

 private:
  Index skip_;
  Activation f_;
};

extern template class SkipRnn<float>;
extern template class SkipRnn<double>;
extern template class RecurrentCellBase<SkipRnn<float>, float, SkipRnnCache<float>>;
extern template class RecurrentCellBase<SkipRnn<double>, double, SkipRnnCache<double>>;

}  // namespace rnnscope
