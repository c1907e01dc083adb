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
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "rnnscope/cells/cell.hpp"
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

namespace detail {
/// The largest eigenvalue of the symmetric tridiagonal matrix with diagonal d
/// and subdiagonal e, by bisection on the Sturm count (the number of
/// eigenvalues below x is the number of negative pivots of T - xI). Each
/// bisection halves an interval that starts at the Gershgorin bounds; it stops
/// when the interval is one rounding wide, as accurate as the QR iteration, at
/// O(n) a step for the one eigenvalue wanted instead of O(n^2) for all of them.
template <class D, class E>
double largest_tridiagonal_eigenvalue(const D& d, const E& e) {
  const Index n = d.size();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (Index i = 0; i < n; ++i) {
    const double r = (i > 0 ? std::abs(e(i - 1)) : 0.0) + (i + 1 < n ? std::abs(e(i)) : 0.0);
    lo = std::min(lo, d(i) - r);
    hi = std::max(hi, d(i) + r);
  }
  const double tiny = std::numeric_limits<double>::min() / std::numeric_limits<double>::epsilon();
  const auto below = [&](double x) {  // eigenvalues < x
    Index count = 0;
    double q = 1.0;
    for (Index i = 0; i < n; ++i) {
      q = d(i) - x - (i > 0 ? e(i - 1) * e(i - 1) / q : 0.0);
      if (std::abs(q) < tiny) q = -tiny;  // a zero pivot counts as negative (x is an eigenvalue's upper side)
      if (q < 0) ++count;
    }
    return count;
  };
  const double eps = std::numeric_limits<double>::epsilon();
  while (hi - lo > 2.0 * eps * std::max(std::abs(lo), std::abs(hi)) && hi - lo > tiny) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (below(mid) == n)
      hi = mid;  // every eigenvalue lies below mid
    else
      lo = mid;
  }
  return 0.5 * (lo + hi);
}
}  // namespace detail

/// log10 of the largest singular value of A (-inf for A = 0): half the log10
/// of the largest eigenvalue of AᵀA, which is reduced to tridiagonal form
/// (Householder) and whose top eigenvalue alone is found by bisection.
inline double log10_spectral_norm(const Mat<double>& a) {
  const double scale = a.cwiseAbs().maxCoeff();
  if (!(scale > 0)) return scale == 0 ? -std::numeric_limits<double>::infinity() : std::nan("");
  const Mat<double> u = a / scale;  // entries in [-1, 1]: AᵀA neither overflows nor underflows
  Mat<double> g = Mat<double>::Zero(u.cols(), u.cols());
  g.selfadjointView<Eigen::Lower>().rankUpdate(u.transpose());
  if (g.rows() == 1) return 0.5 * std::log10(g(0, 0)) + std::log10(scale);
  const Eigen::Tridiagonalization<Mat<double>> tri(g);
  const double top = detail::largest_tridiagonal_eigenvalue(tri.diagonal(), tri.subDiagonal());
  return top > 0 ? 0.5 * std::log10(top) + std::log10(scale) : -std::numeric_limits<double>::infinity();
}

/// Largest singular value of A.
inline double spectral_norm(const Mat<double>& a) { return std::pow(10.0, log10_spectral_norm(a)); }

struct ChainNorms {
  std::vector<double> log10_spectral;   // index L: log10 ||C_L||_2
  std::vector<double> log10_frobenius;  // index L: log10 ||C_L||_F
  std::vector<std::vector<double>> log10_singular_values;  // on request: all, descending
};

/// Norms of every chain C_L, L = 0..T, for batch element b. The chains are
/// formed one after the other (each is the last times a step Jacobian); their
/// norms, independent of each other, are computed in groups of kChainGroup
/// chains split over the threads (cells/cell.hpp, for_slices).
template <class Cell>
ChainNorms jacobian_chain_norms(const Cell& cell, const typename Cell::Cache& cache, Index b,
                                bool all_singular_values = false) {
  constexpr Index kChainGroup = 16;
  const auto count = static_cast<size_t>(cache.steps + 1);
  ChainNorms n;
  n.log10_frobenius.resize(count);
  n.log10_spectral.resize(count);
  if (all_singular_values) n.log10_singular_values.resize(count);
  std::vector<Mat<double>> group(kChainGroup);  // kept from group to group: no allocation after the first
  std::vector<double> scales(kChainGroup);
  Index held = 0, first = 0;
  const auto evaluate = [&] {
    for_slices(held, 1, [&](Index i0, Index ni) {
      for (Index i = i0; i < i0 + ni; ++i) {
        const Mat<double>& c = group[static_cast<size_t>(i)];
        const double log10_scale = scales[static_cast<size_t>(i)];
        const auto L = static_cast<size_t>(first + i);
        n.log10_frobenius[L] = std::log10(c.norm()) + log10_scale;
        n.log10_spectral[L] = log10_spectral_norm(c) + log10_scale;
        if (all_singular_values) {
          const Eigen::BDCSVD<Mat<double>> svd(c);
          std::vector<double> s;
          for (Index k = 0; k < svd.singularValues().size(); ++k)
            s.push_back(std::log10(svd.singularValues()(k)) + log10_scale);
          n.log10_singular_values[L] = std::move(s);
        }
      }
    });
    first += held;
    held = 0;
  };
  for_each_chain(cell, cache, b, [&](Index, const Mat<double>& c, double log10_scale) {
    group[static_cast<size_t>(held)] = c;
    scales[static_cast<size_t>(held)] = log10_scale;
    if (++held == kChainGroup) evaluate();
  });
  if (held > 0) evaluate();
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
