// Losses on an output sequence y (F, T*B), each returning its value and its
// cotangent dL/dy with y's shape (zero at the steps the loss does not read).
//
//   mse_last           L = mean over (F, B) of (y_{T-1} - target)^2         target (F, B)
//   mse_all            L = mean over (F, T*B) of (y - target)^2              target (F, T*B)
//   cross_entropy_last L = mean over b of -log softmax(y_{T-1, b})[label_b]  labels B ints
// "mean" as PyTorch's default reduction.
#pragma once

#include <string_view>
#include <vector>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

enum class LossKind { mse_last, mse_all, cross_entropy_last };

/// "mse_last", "mse_all", "cross_entropy_last".
std::string_view to_string(LossKind k);
LossKind parse_loss(std::string_view name);

template <Scalar S>
struct LossResult {
  S value = 0;
  Mat<S> d_output;  // dL/dy, same shape as y
};

/// The outputs y (F, T*B) are taken by reference without a copy: a cell's
/// output(cache), a view of its state block, binds directly.
template <class S>
using MatRef = Eigen::Ref<const Mat<S>>;

template <Scalar S>
LossResult<S> mse_last(const MatRef<S>& y, Index batch, const Mat<S>& target);
template <Scalar S>
LossResult<S> mse_all(const MatRef<S>& y, Index batch, const Mat<S>& target);
/// mse_all into r, reusing the storage of r.d_output when the shape repeats.
template <Scalar S>
void mse_all(const MatRef<S>& y, Index batch, const Mat<S>& target, LossResult<S>& r);
/// mse_all's work on some of the columns: d = scale * (y - target) for y and
/// target (F, n), and the sum of (y - target)^2 over them, accumulated in
/// double; d is resized to (F, n) (its storage is kept when the size repeats).
/// It runs over the columns in blocks that stay in L1. A training step
/// (training/step.hpp) calls it for one backward chunk at a time.
template <Scalar S>
double scaled_difference(const MatRef<S>& y, const MatRef<S>& target, S scale, Mat<S>& d);
/// The mean squared error from the sum of squares `sum` of scaled_difference
/// over all of y (F, n) against target: sum / (F n). Inf and NaN propagate into
/// the sum, so only a non-finite mean needs the search that names the entry of
/// y or target (an overflow of finite values passes it and gives inf).
template <Scalar S>
S mean_squared_error(double sum, const MatRef<S>& y, const MatRef<S>& target);
template <Scalar S>
LossResult<S> cross_entropy_last(const MatRef<S>& y, Index batch, const std::vector<int>& labels);

}  // namespace rnnscope
