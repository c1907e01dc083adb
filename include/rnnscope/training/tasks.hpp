// What a network is trained on: the long-range benchmark tasks, generated from
// a seed, or the user's own tensors; the losses (PyTorch's mean reduction), the
// evaluation metric and each task's baseline and criterion of "solved".
//
//   adding  (Le, Jaitly and Hinton 2015; Arjovsky, Shah and Bengio 2016) input
//           (T, B, 2): channel 0 uniform on [0, 1), channel 1 zero except one
//           marker in each half; target the sum of the two marked values; MSE
//           on the last step. Baseline 1/6 (always predicting 1). Metric: the
//           share of sequences with |error| < 0.04 (Hochreiter and Schmidhuber
//           1997). Solved: evaluation MSE < 0.01.
//   copy    (Arjovsky et al. 2016) 10 categories, one-hot input of T + 20
//           steps: 10 symbols drawn from 0..7, T - 1 blanks (8), a delimiter
//           (9), 10 blanks; target T + 10 blanks, then the 10 symbols;
//           cross-entropy on every step. Baseline 10 ln 8 / (T + 20). Metric:
//           the share of sequences whose 10 recalled symbols are all right.
//           Solved: metric >= 0.99.
//   recall  (the look-back window made a task) input (T, B, 1) standard
//           normal; target at the last step x_(T-1-lag); MSE on the last step.
//           Baseline 1. Metric as adding. Solved: evaluation MSE < 0.01.
//   data    the user's input (T, N, I) and target, with a loss named by the user.
//
// Sequences are time-major as everywhere in the library: an input batch is
// (I, T*B) with column t*B + b; targets are (O, B) for the *_last losses and
// (O, T*B) for the *_all losses; class labels are B or T*B ints in the same order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rnnscope/core/random.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

enum class TaskKind { adding, copy, recall, data };
enum class TrainLoss { mse_last, mse_all, ce_last, ce_all };

std::string_view to_string(TaskKind k);
/// Throws InvalidInput naming the unknown task and the choices.
TaskKind parse_task(std::string_view name);
std::string_view to_string(TrainLoss k);
/// Throws InvalidInput naming the unknown loss and the choices.
TrainLoss parse_train_loss(std::string_view name);
inline bool is_cross_entropy(TrainLoss k) { return k == TrainLoss::ce_last || k == TrainLoss::ce_all; }
inline bool is_last_step(TrainLoss k) { return k == TrainLoss::mse_last || k == TrainLoss::ce_last; }

/// A generated task: its kind, T and lag (recall).
struct TaskSpec {
  TaskKind kind = TaskKind::adding;
  Index T = 100;    ///< adding, recall: sequence length; copy: the delay (sequences are T + 20 long)
  Index lag = -1;   ///< recall only; -1: T - 1 (recall the first input)
  /// Throws InvalidInput naming what is wrong (T, lag). Not for `data`.
  void validate() const;
  Index effective_lag() const { return lag < 0 ? T - 1 : lag; }
  Index sequence_length() const;
  Index input_size() const;
  Index output_size() const;
  TrainLoss loss() const;
  /// The loss of the trivial predictor named in the header.
  double baseline() const;
};

/// A batch of sequences: input (I, T*B), and the target as values (MSE) or labels (cross-entropy).
template <Scalar S>
struct Batch {
  Mat<S> input;
  Index batch = 0;
  Mat<S> target;            ///< MSE: (O, B) or (O, T*B)
  std::vector<int> labels;  ///< cross-entropy: B or T*B class indices
  Index steps() const { return batch > 0 ? input.cols() / batch : 0; }
};

/// B fresh sequences of the task drawn from rng.
template <Scalar S>
Batch<S> make_batch(const TaskSpec& task, Index batch, Rng& rng);

/// The sequences idx[0], idx[1], ... of a batch as one batch.
template <Scalar S>
Batch<S> select_batch(const Batch<S>& all, const std::vector<Index>& idx);

/// The user's data: N sequences and (cross-entropy) the number of classes.
template <Scalar S>
struct Dataset {
  Batch<S> all;  ///< every sequence, in the file's order
  Index classes = 0;  ///< cross-entropy: output size (labels are 0..classes-1)
  std::uint64_t fingerprint = 0;  ///< FNV-1a of the values, to recognise the same data at a resume
  Index size() const { return all.batch; }
  /// The sequences idx[0], idx[1], ... as one batch.
  Batch<S> select(const std::vector<Index>& idx) const;
};

/// The loss and the metric of a batch.
struct LossValue {
  double loss = 0;
  double metric = 0;
};

/// The loss of the scored outputs y on `batch` under `loss` (PyTorch's mean
/// reduction) and the task's metric (adding and recall: share with |error| <
/// 0.04; copy: share of sequences with all 10 recalled symbols right; data:
/// accuracy for cross-entropy, 1 - MSE / variance of the targets for MSE).
/// The scored outputs are the last step's (O, B) for the *_last losses and
/// all of them (O, T*B) for the *_all losses. When d_y is given it receives
/// dL/dy with y's shape.
template <Scalar S>
LossValue evaluate_outputs(TaskKind task, TrainLoss loss, const Mat<S>& y, const Batch<S>& batch, Mat<S>* d_y);

/// Whether an evaluation solves the task (never for `data`).
bool solves(TaskKind task, const LossValue& eval);

}  // namespace rnnscope
