// One training step of a recurrent cell, as a training loop runs it: forward
// over the sequence, MSE on every step (PyTorch's nn.MSELoss, mean reduction),
// full BPTT, plain SGD update.
//
// The object keeps the step's buffers (the forward cache, the gradients, and
// backward's scratch and chunks of the loss cotangent) and reuses them when the
// next step has the same shapes, so a loop of steps allocates memory once. A fresh
// allocation of a few megabytes costs a page fault for every 4 KiB page on
// first touch, a visible part of a step (see docs/performance.md).
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
  /// state; updates cell.params and returns the loss before the update. The
  /// loss and its cotangent are evaluated chunk by chunk inside the backward
  /// sweep (bptt_chunked): the same gradients as mse_all followed by bptt, and
  /// the same loss up to the order of its sum.
  S operator()(Cell& cell, const Mat<S>& x, Index batch, const Mat<S>& target, S learning_rate) {
    cell.forward(x, batch, Mat<S>(), cache_);
    grads_.input_gradient = false;  // the input is data: dL/dx is not needed
    const MatRef<S> y = cell.output(cache_);
    check_shape("target", target, y.rows(), y.cols());
    const double n = static_cast<double>(y.size());
    const S scale = static_cast<S>(2.0 / n);
    double sum = 0;
    bptt_chunked(
        cell, cache_,
        [&](Index t0, Index t1, Mat<S>& d) {
          const Index cols = (t1 - t0) * batch;
          sum += scaled_difference<S>(y.middleCols(t0 * batch, cols), target.middleCols(t0 * batch, cols), scale, d);
        },
        grads_);
    const S loss = mean_squared_error<S>(sum, y, target);  // throws, naming the entry, before any update
    sgd_update(cell.params, grads_.params, learning_rate);
    return loss;
  }

  /// The gradients of the last step (before its update was applied); d_input
  /// is empty, as a training step does not need it.
  const typename Cell::Gradients& gradients() const { return grads_; }

 private:
  typename Cell::Cache cache_;
  typename Cell::Gradients grads_;
};

}  // namespace rnnscope
