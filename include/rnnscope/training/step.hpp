// One training step of a recurrent cell, as a training loop runs it: forward
// over the sequence, MSE on every step (PyTorch's nn.MSELoss, mean reduction),
// full BPTT, plain SGD update.
//
// The object keeps the step's buffers (the forward cache, the loss cotangent,
// the gradients and backward's scratch) and reuses them when the next step has
// the same shapes, so a loop of steps allocates memory once. A fresh
// allocation of a few megabytes costs a page fault for every 4 KiB page on
// first touch, and on a 2-core machine that was 15% of an LSTM step at
// B = 32, T = 100, H = 128 (docs/performance.md).
#pragma once

#include "rnnscope/sequence/bptt.hpp"
#include "rnnscope/sequence/loss.hpp"
#include "rnnscope/training/sgd.hpp"

namespace rnnscope {

template <class Cell>
class TrainingStep {
 public:
  using S = typename Cell::Scalar;

  /// One step on input x (I, T*B) against target (H, T*B) from the zero
  /// state; updates cell.params and returns the loss before the update.
  S operator()(Cell& cell, const Mat<S>& x, Index batch, const Mat<S>& target, S learning_rate) {
    cell.forward(x, batch, Mat<S>(), cache_);
    grads_.input_gradient = false;  // the input is data: dL/dx is not needed
    mse_all<S>(cell.output(cache_), batch, target, loss_);
    bptt(cell, cache_, loss_.d_output, Mat<S>(), 0, grads_);
    sgd_update(cell.params, grads_.params, learning_rate);
    return loss_.value;
  }

  /// The gradients of the last step (before its update was applied); d_input
  /// is empty, as a training step does not need it.
  const typename Cell::Gradients& gradients() const { return grads_; }

 private:
  typename Cell::Cache cache_;
  LossResult<S> loss_;
  typename Cell::Gradients grads_;
};

}  // namespace rnnscope
