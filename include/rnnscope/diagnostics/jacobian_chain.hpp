// Jacobian chains d s_{T-1} / d s_{T-1-L} of a cell's state over a sequence,
// for every look-back distance L = 0..T, by one backward accumulation:
//
//   C_0 = I,   C_{L+1} = C_L J_{T-1-L},   J_t = d s_t / d s_{t-1} (cell.step_jacobian)
//
// C_L is kept as a unit-Frobenius matrix times a separate log10 scale, so
// chains that vanish or explode over thousands of steps neither underflow nor
// overflow. Norms are reported as log10.
#pragma once

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <cmath>
#include <limits>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

namespace detail {
/// v <- v / ||v||, adding log10 ||v|| to log10_scale (-inf once v is exactly zero):
/// how a vector carried back over thousands of steps stays representable.
template <class V>
void renormalise(V& v, double& log10_scale) {
  const double n = v.norm();
  if (n > 0) {
    v /= n;
    log10_scale += std::log10(n);
  } else {
    log10_scale = -std::numeric_limits<double>::infinity();
  }
}
}  // namespace detail

/// Calls visit(L, C_scaled, log10_scale) for L = 0..T with C_L = C_scaled * 10^log10_scale.
template <class Cell, class Visit>
void for_each_chain(const Cell& cell, const typename Cell::Cache& cache, Index b, Visit&& visit) {
  require(0 <= b && b < cache.batch, "jacobian chain: batch element out of range");
  const Index T = cache.steps, S = cell.state_size();
  Mat<double> chain = Mat<double>::Identity(S, S);
  Mat<double> next(S, S);
  double log10_scale = 0.0;
  visit(Index{0}, chain, log10_scale);
  for (Index t = T - 1; t >= 0; --t) {
    next.noalias() = chain * cell.step_jacobian(cache, t, b).template cast<double>();
    chain.swap(next);
    const double f = chain.norm();
    if (f > 0 && std::isfinite(f)) {
      chain /= f;
      log10_scale += std::log10(f);
    } else if (f == 0) {
      log10_scale = -std::numeric_limits<double>::infinity();
    }
    visit(T - t, chain, log10_scale);
  }
}

/// log10 of the largest singular value of A (0 for... -inf for A = 0).
inline double log10_spectral_norm(const Mat<double>& a) {
  const Eigen::SelfAdjointEigenSolver<Mat<double>> eig(a.transpose() * a, Eigen::EigenvaluesOnly);
  const double top = eig.eigenvalues().maxCoeff();
  return top > 0 ? 0.5 * std::log10(top) : -std::numeric_limits<double>::infinity();
}

/// Largest singular value of A.
inline double spectral_norm(const Mat<double>& a) { return std::pow(10.0, log10_spectral_norm(a)); }

struct ChainNorms {
  std::vector<double> log10_spectral;   // index L: log10 ||C_L||_2
  std::vector<double> log10_frobenius;  // index L: log10 ||C_L||_F
  std::vector<std::vector<double>> log10_singular_values;  // on request: all, descending
};

/// Norms of every chain C_L, L = 0..T, for batch element b.
template <class Cell>
ChainNorms jacobian_chain_norms(const Cell& cell, const typename Cell::Cache& cache, Index b,
                                bool all_singular_values = false) {
  ChainNorms n;
  for_each_chain(cell, cache, b, [&](Index, const Mat<double>& c, double log10_scale) {
    n.log10_frobenius.push_back(std::log10(c.norm()) + log10_scale);
    n.log10_spectral.push_back(log10_spectral_norm(c) + log10_scale);
    if (all_singular_values) {
      const Eigen::BDCSVD<Mat<double>> svd(c);
      std::vector<double> s;
      for (Index i = 0; i < svd.singularValues().size(); ++i)
        s.push_back(std::log10(svd.singularValues()(i)) + log10_scale);
      n.log10_singular_values.push_back(std::move(s));
    }
  });
  return n;
}

/// The chain matrices themselves, C_0..C_T (unscaled: for short sequences and tests).
template <class Cell>
std::vector<Mat<double>> jacobian_chains(const Cell& cell, const typename Cell::Cache& cache, Index b) {
  std::vector<Mat<double>> chains;
  for_each_chain(cell, cache, b, [&](Index, const Mat<double>& c, double log10_scale) {
    chains.push_back(c * std::pow(10.0, log10_scale));
  });
  return chains;
}

/// ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}|| for L = 0..T, for a cotangent g (S) on the
/// final state of batch element b, carried back by g <- J_t^T g (log10).
template <class Cell>
std::vector<double> lookback_log10_ratios(const Cell& cell, const typename Cell::Cache& cache, Index b,
                                          const Vec<double>& g_final) {
  const Index T = cache.steps;
  check_shape("g_final", g_final, cell.state_size(), 1);
  Vec<double> g = g_final / g_final.norm();
  double log10_scale = 0.0;
  std::vector<double> out{0.0};
  for (Index t = T - 1; t >= 0; --t) {
    g = cell.step_jacobian(cache, t, b).template cast<double>().transpose() * g;
    detail::renormalise(g, log10_scale);
    out.push_back(log10_scale);
  }
  return out;
}

}  // namespace rnnscope
