#include "rnnscope/sequence/loss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

std::string_view to_string(LossKind k) {
  switch (k) {
    case LossKind::mse_last: return "mse_last";
    case LossKind::mse_all: return "mse_all";
    case LossKind::cross_entropy_last: return "cross_entropy_last";
  }
  return "?";
}

LossKind parse_loss(std::string_view name) {
  for (LossKind k : {LossKind::mse_last, LossKind::mse_all, LossKind::cross_entropy_last})
    if (name == to_string(k)) return k;
  throw InvalidInput(
      fmt::format("unknown loss '{}' (expected mse_last, mse_all or cross_entropy_last)", name));
}

template <Scalar S>
LossResult<S> mse_last(const MatRef<S>& y, Index batch, const Mat<S>& target) {
  const Index T = check_sequence("output", y, y.rows(), batch);
  check_shape("target", target, y.rows(), batch);
  check_finite("target", target);
  LossResult<S> r;
  r.d_output = Mat<S>::Zero(y.rows(), y.cols());
  const Mat<S> diff = y.middleCols((T - 1) * batch, batch) - target;
  const S n = static_cast<S>(diff.size());
  r.value = diff.squaredNorm() / n;
  r.d_output.middleCols((T - 1) * batch, batch) = (S(2) / n) * diff;
  return r;
}

template <Scalar S>
double scaled_difference(const MatRef<S>& y, const MatRef<S>& target, S scale, Mat<S>& d) {
  check_shape("target", target, y.rows(), y.cols());
  d.resize(y.rows(), y.cols());
  // One pass over the columns in blocks that stay in L1: the difference, its
  // squares summed, then scaled while still in cache. A pass over the whole of
  // d for each of the three went out to memory at T = 10,000.
  const Index block = std::max<Index>(1, 2048 / std::max<Index>(1, y.rows()));
  double sum = 0;
  for (Index c0 = 0; c0 < y.cols(); c0 += block) {
    const Index nc = std::min(block, y.cols() - c0);
    auto dc = d.middleCols(c0, nc);
    dc = y.middleCols(c0, nc) - target.middleCols(c0, nc);
    sum += static_cast<double>(dc.squaredNorm());
    dc *= scale;
  }
  return sum;
}

template <Scalar S>
void mse_all(const MatRef<S>& y, Index batch, const Mat<S>& target, LossResult<S>& r) {
  require(batch > 0 && y.cols() > 0 && y.cols() % batch == 0,
          fmt::format("output: expected shape ({}, T*{}), got ({}, {})", y.rows(), batch, y.rows(), y.cols()));
  const S scale = static_cast<S>(2.0 / static_cast<double>(y.size()));
  r.value = mean_squared_error<S>(scaled_difference<S>(y, target, scale, r.d_output), y, target);
}

template <Scalar S>
S mean_squared_error(double sum, const MatRef<S>& y, const MatRef<S>& target) {
  const S value = static_cast<S>(sum / static_cast<double>(y.size()));
  if (!std::isfinite(value)) {
    check_finite("output", y);
    check_finite("target", target);
  }
  return value;
}

template <Scalar S>
LossResult<S> mse_all(const MatRef<S>& y, Index batch, const Mat<S>& target) {
  LossResult<S> r;
  mse_all(y, batch, target, r);
  return r;
}

template <Scalar S>
LossResult<S> cross_entropy_last(const MatRef<S>& y, Index batch, const std::vector<int>& labels) {
  const Index T = check_sequence("output", y, y.rows(), batch);
  require(static_cast<Index>(labels.size()) == batch,
          fmt::format("labels: expected {} (one per batch element), got {}", batch, labels.size()));
  const Index C = y.rows();
  LossResult<S> r;
  r.d_output = Mat<S>::Zero(y.rows(), y.cols());
  double total = 0.0;
  for (Index b = 0; b < batch; ++b) {
    const int label = labels[static_cast<size_t>(b)];
    require(0 <= label && label < C, fmt::format("labels[{}] = {} is not a class in [0, {})", b, label, C));
    const auto logits = y.col((T - 1) * batch + b);
    // log-sum-exp shifted by the maximum, so large logits cannot overflow.
    const S m = logits.maxCoeff();
    const Vec<S> e = (logits.array() - m).exp().matrix();
    const S sum = e.sum();
    total += static_cast<double>(std::log(sum) + m - logits(label));
    auto d = r.d_output.col((T - 1) * batch + b);
    d = e / (sum * static_cast<S>(batch));
    d(label) -= S(1) / static_cast<S>(batch);
  }
  r.value = static_cast<S>(total / static_cast<double>(batch));
  return r;
}

#define RNNSCOPE_INSTANTIATE(S)                                                              \
  template LossResult<S> mse_last(const MatRef<S>&, Index, const Mat<S>&);                  \
  template LossResult<S> mse_all(const MatRef<S>&, Index, const Mat<S>&);                   \
  template void mse_all(const MatRef<S>&, Index, const Mat<S>&, LossResult<S>&);            \
  template double scaled_difference(const MatRef<S>&, const MatRef<S>&, S, Mat<S>&);         \
  template S mean_squared_error(double, const MatRef<S>&, const MatRef<S>&);                  \
  template LossResult<S> cross_entropy_last(const MatRef<S>&, Index, const std::vector<int>&);
RNNSCOPE_INSTANTIATE(float)
RNNSCOPE_INSTANTIATE(double)
#undef RNNSCOPE_INSTANTIATE

}  // namespace rnnscope
