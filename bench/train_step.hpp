// One training step of a recurrent cell, as the benchmarks and the side-by-side
// comparison with PyTorch time it: forward over the sequence, MSE on every step
// (PyTorch's nn.MSELoss with mean reduction), full BPTT, plain SGD update.
// The cells are the library's (CellKind and make_cell, sequence/model.hpp).
//
// B batch, T steps, I inputs, H hidden units, G gate rows per hidden unit
// (1 for Elman and CT-RNN, 4 for the LSTM, 3 for the GRU).
#pragma once

#include <string>

#include "rnnscope/sequence/model.hpp"
#include "rnnscope/training/step.hpp"
#include "rnnscope/training/trainer.hpp"

namespace rnnscope::bench {

/// A cell kind's name in benchmark names and in bench/compare_pytorch.py: the
/// library's name (to_string), except "elman" for the tanh Elman cell.
inline std::string cell_name(CellKind k) {
  return k == CellKind::rnn_tanh ? std::string("elman") : std::string(to_string(k));
}

/// Gate rows per hidden unit.
inline int gate_count(CellKind k) { return k == CellKind::lstm ? 4 : k == CellKind::gru ? 3 : 1; }

/// Matmul FLOPs of one training step: forward 2*B*G*H*(I+H) per step (the
/// skip cell's W_skip h_{t-K}: another H), training 3x that.
inline double train_step_flops(CellKind k, Index B, Index T, Index I, Index H) {
  const Index reads = I + H + (k == CellKind::rnn_skip ? H : 0);
  return 3.0 * 2.0 * double(B) * double(gate_count(k)) * double(H) * double(reads) * double(T);
}

/// A cell of kind K (make_cell, sequence/model.hpp) with PyTorch's default
/// initialisation; Elman: tanh, CT-RNN: dt = 0.1, skip: K = 10, antisymmetric:
/// eps 0.1 and gamma 0.01 (ModelSpec's defaults), both biases.
template <CellKind K, class S>
CellOf<K, S> make_bench_cell(Index I, Index H, Rng& rng) {
  ModelSpec spec;
  spec.cell = K;
  spec.input_size = I;
  spec.hidden_size = H;
  CellOf<K, S> cell = make_cell<CellOf<K, S>>(spec, I);
  cell.init_uniform(rng);
  return cell;
}

/// One training step on input x (I, T*B) and target (H, T*B) with fresh
/// buffers; returns the loss. A loop of steps keeps a TrainingStep instead.
template <class Cell>
typename Cell::Scalar train_step(Cell& cell, const Mat<typename Cell::Scalar>& x, Index B,
                                 const Mat<typename Cell::Scalar>& target,
                                 typename Cell::Scalar learning_rate) {
  return TrainingStep<Cell>()(cell, x, B, target, learning_rate);
}

/// The adding task of the training benchmarks (I = 2) with the loop of
/// `rnnscope train` on its Adam (lr 0.001) and --clip-norm 1: B sequences of
/// T steps, H hidden units, `steps` steps with evaluation and checkpoints
/// only at the end.
inline TrainSpec adding_train_spec(CellKind cell, Index B, Index T, Index H, Index steps) {
  TrainSpec spec;
  spec.task.kind = TaskKind::adding;
  spec.task.T = T;
  spec.model.cell = cell;
  spec.model.hidden_size = H;
  spec.optimizer.kind = OptimizerKind::adam;
  spec.optimizer.lr = 1e-3;
  spec.clip.norm = 1.0;
  spec.batch = B;
  spec.steps = steps;
  spec.eval_every = steps;
  spec.checkpoint_every = steps;
  return spec;
}

}  // namespace rnnscope::bench
