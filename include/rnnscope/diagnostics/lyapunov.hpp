// The Lyapunov spectrum of a trajectory (MATH.md): push an orthonormal Q_0
// through the step Jacobians and re-orthonormalise by QR at every step,
//
//   J_t Q_{t-1} = Q_t R_t,    lambda_i = (1/T) sum_t log |R_t[i, i]|
//
// The largest exponent is the asymptotic growth rate (per step, natural log)
// of the Jacobian chains: negative means vanishing gradients, positive exploding.
#pragma once

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// The top k exponents (k = 0: all S) for batch element b, largest first. The
/// first `warmup` steps align Q with the trajectory's directions and are not
/// averaged: without them the estimate carries an O(1/T) transient.
template <class Cell>
std::vector<double> lyapunov_spectrum(const Cell& cell, const typename Cell::Cache& cache, Index b,
                                      Index k = 0, Index warmup = 0) {
  const Index S = cell.state_size(), T = cache.steps;
  require(0 <= b && b < cache.batch, "lyapunov: batch element out of range");
  require(0 <= k && k <= S, "lyapunov: k must be between 1 and the state size (0 for all)");
  require(0 <= warmup && warmup < T, "lyapunov: warm-up must leave at least one step");
  if (k == 0) k = S;
  Mat<double> q = Mat<double>::Identity(S, k);
  Mat<double> z(S, k);
  std::vector<double> sum(static_cast<size_t>(k), 0.0);
  Eigen::HouseholderQR<Mat<double>> qr(S, k);
  for (Index t = 0; t < T; ++t) {
    z.noalias() = cell.step_jacobian(cache, t, b).template cast<double>() * q;
    // The QR's Householder norms square the entries: past 1e150 (or below 1e-150, a nonzero one) they would
    // overflow to inf and give NaN exponents (weights of 1e200). Such a z is scaled by a power of two, exactly,
    // and the logarithm of the scale added back; any other z is left as it is, bit for bit.
    double shift = 0;
    const double biggest = z.cwiseAbs().maxCoeff();
    if (biggest > 1e150 || (biggest > 0 && biggest < 1e-150)) {
      int e = 0;
      (void)std::frexp(biggest, &e);
      z *= std::ldexp(1.0, -e);
      shift = static_cast<double>(e) * std::log(2.0);
    }
    qr.compute(z);
    const auto& r = qr.matrixQR();
    q = qr.householderQ() * Mat<double>::Identity(S, k);
    if (t < warmup) continue;
    for (Index i = 0; i < k; ++i) sum[static_cast<size_t>(i)] += std::log(std::abs(r(i, i))) + shift;
  }
  for (auto& s : sum) s /= static_cast<double>(T - warmup);
  std::sort(sum.begin(), sum.end(), std::greater<>());
  return sum;
}

}  // namespace rnnscope
