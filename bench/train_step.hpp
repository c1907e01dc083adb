// One training step of a recurrent cell, as the benchmarks and the side-by-side
// comparison with PyTorch time it: forward over the sequence, MSE on every step
// (PyTorch's nn.MSELoss with mean reduction), full BPTT, plain SGD update.
//
// B batch, T steps, I inputs, H hidden units, G gate rows per hidden unit
// (1 for Elman and CT-RNN, 4 for the LSTM, 3 for the GRU).
#pragma once

#include <string>
#include <string_view>

#include "rnnscope/cells/ctrnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/training/step.hpp"

namespace rnnscope::bench {

/// The cells the benchmarks cover, by the names used in benchmark names and
/// by bench/compare_pytorch.py.
enum class CellKind { elman, lstm, gru, ctrnn };

inline std::string_view cell_name(CellKind k) {
  switch (k) {
    case CellKind::elman: return "elman";
    case CellKind::lstm: return "lstm";
    case CellKind::gru: return "gru";
    case CellKind::ctrnn: return "ctrnn";
  }
  return "?";
}

/// Gate rows per hidden unit.
inline int gate_count(CellKind k) { return k == CellKind::lstm ? 4 : k == CellKind::gru ? 3 : 1; }

/// Matmul FLOPs of one training step: forward 2*B*G*H*(I+H) per step, training 3x that.
inline double train_step_flops(CellKind k, Index B, Index T, Index I, Index H) {
  return 3.0 * 2.0 * double(B) * double(gate_count(k)) * double(H) * double(I + H) * double(T);
}

/// A cell of kind K with PyTorch's default initialisation (Elman: tanh; CT-RNN: dt = 0.1).
template <CellKind K, class S>
auto make_cell(Index I, Index H, Rng& rng) {
  if constexpr (K == CellKind::elman) {
    Elman<S> cell(I, H, Activation::tanh);
    cell.init_uniform(rng);
    return cell;
  } else if constexpr (K == CellKind::lstm) {
    LSTM<S> cell(I, H);
    cell.init_uniform(rng);
    return cell;
  } else if constexpr (K == CellKind::gru) {
    GRU<S> cell(I, H);
    cell.init_uniform(rng);
    return cell;
  } else {
    CtRnn<S> cell(I, H);
    cell.init_uniform(rng);
    return cell;
  }
}

/// One training step on input x (I, T*B) and target (H, T*B) with fresh
/// buffers; returns the loss. A loop of steps keeps a TrainingStep instead.
template <class Cell>
typename Cell::Scalar train_step(Cell& cell, const Mat<typename Cell::Scalar>& x, Index B,
                                 const Mat<typename Cell::Scalar>& target,
                                 typename Cell::Scalar learning_rate) {
  return TrainingStep<Cell>()(cell, x, B, target, learning_rate);
}

}  // namespace rnnscope::bench
