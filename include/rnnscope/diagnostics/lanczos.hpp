// The largest singular value of a matrix by Lanczos on its Gram matrix, with
// the symmetric tridiagonal eigenvalue and eigenvector solvers it needs
// (bisection on the Sturm count, inverse iteration). The Jacobian chains'
// spectral norms (jacobian_chain.hpp) are computed here.
#pragma once

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

namespace detail {
/// The k-th largest eigenvalue (k = 1: the largest) of the symmetric
/// tridiagonal matrix with diagonal d and subdiagonal e, by bisection on the
/// Sturm count (the number of eigenvalues below x is the number of negative
/// pivots of T - xI). Each bisection halves an interval that starts at the
/// Gershgorin bounds; it stops when the interval is one rounding wide, as
/// accurate as the QR iteration, at O(n) a step for the one eigenvalue wanted
/// instead of O(n^2) for all of them.
///
/// near (optional, finite) is a guess of the eigenvalue, such as the previous
/// Lanczos step's Ritz value: the bisection then starts from the narrowest of
/// [near (1 -+ 1e-8)], [near (1 -+ 1e-4)] and the Gershgorin interval whose
/// ends the Sturm count confirms on each side, and needs about half the steps
/// once the iteration has nearly converged. The result does not depend on
/// near beyond the last rounding step of the bisection.
template <class D, class E>
double tridiagonal_eigenvalue_from_top(const D& d, const E& e, Index k = 1,
                                       double near = std::numeric_limits<double>::quiet_NaN()) {
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
  if (std::isfinite(near) && near > lo && near < hi) {
    // Narrow the bracket around the guess where the Sturm count confirms it:
    // the k-th largest eigenvalue is >= x when fewer than n - k + 1 lie below x.
    for (const double width : {1e-8, 1e-4}) {
      const double a = near - width * std::abs(near), b = near + width * std::abs(near);
      if (a > lo && b < hi && below(a) < n - k + 1 && below(b) >= n - k + 1) {
        lo = a;
        hi = b;
        break;
      }
    }
  }
  while (hi - lo > 2.0 * eps * std::max(std::abs(lo), std::abs(hi)) && hi - lo > tiny) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (below(mid) >= n - k + 1)
      hi = mid;  // the k-th largest eigenvalue lies below mid
    else
      lo = mid;
  }
  return 0.5 * (lo + hi);
}

/// The largest eigenvalue of a symmetric tridiagonal matrix (see above).
template <class D, class E>
double largest_tridiagonal_eigenvalue(const D& d, const E& e) {
  return tridiagonal_eigenvalue_from_top(d, e, 1);
}

/// The factorisation's storage, kept from call to call (no allocation a Lanczos step).
struct TridiagonalWork {
  Vec<double> dd, du, dl, du2, fact;
  std::vector<char> swapped;
};

/// A unit eigenvector y of the symmetric tridiagonal matrix (d, e) for its
/// eigenvalue theta, by two steps of inverse iteration: solves of
/// (T - theta I) y' = y by Gaussian elimination with partial pivoting (the
/// algorithm of LAPACK's dgtsv), zero pivots replaced by eps ||T||; its
/// storage is kept in work.
template <class D, class E>
void tridiagonal_eigenvector(const D& d, const E& e, double theta, Vec<double>& y, TridiagonalWork& work) {
  const Index n = d.size();
  const double eps = std::numeric_limits<double>::epsilon();
  const double floor = eps * std::max(d.cwiseAbs().maxCoeff() + 2.0 * (n > 1 ? e.cwiseAbs().maxCoeff() : 0.0),
                                      std::numeric_limits<double>::min() / eps);
  y.setConstant(n, 1.0 / std::sqrt(static_cast<double>(n)));
  if (n == 1) return;
  Vec<double>&dd = work.dd, &du = work.du, &dl = work.dl, &du2 = work.du2, &fact = work.fact;
  dd.resize(n);
  du.resize(n);
  dl.resize(n);
  du2.resize(n);
  // Factor once: L U of P (T - theta I); the multipliers and swaps are kept to apply to each right side.
  dd = d.array() - theta;
  du.head(n - 1) = e;
  dl.head(n - 1) = e;
  du2.setZero();
  std::vector<char>& swapped = work.swapped;
  swapped.assign(static_cast<size_t>(n), 0);
  fact.setZero(n);
  for (Index i = 0; i + 1 < n; ++i) {
    if (std::abs(dd(i)) >= std::abs(dl(i))) {
      if (std::abs(dd(i)) < floor) dd(i) = floor;
      fact(i) = dl(i) / dd(i);
      dd(i + 1) -= fact(i) * du(i);
    } else {
      swapped[static_cast<size_t>(i)] = 1;
      fact(i) = dd(i) / dl(i);
      dd(i) = dl(i);
      const double tmp = dd(i + 1);
      dd(i + 1) = du(i) - fact(i) * tmp;
      if (i + 2 < n) {
        du2(i) = du(i + 1);
        du(i + 1) = -fact(i) * du2(i);
      }
      du(i) = tmp;
    }
  }
  if (std::abs(dd(n - 1)) < floor) dd(n - 1) = floor;
  for (int pass = 0; pass < 2; ++pass) {
    for (Index i = 0; i + 1 < n; ++i) {  // forward: apply the swaps and multipliers
      if (swapped[static_cast<size_t>(i)]) {
        const double tmp = y(i);
        y(i) = y(i + 1);
        y(i + 1) = tmp - fact(i) * y(i + 1);
      } else {
        y(i + 1) -= fact(i) * y(i);
      }
    }
    y(n - 1) /= dd(n - 1);
    y(n - 2) = (y(n - 2) - du(n - 2) * y(n - 1)) / dd(n - 2);
    for (Index i = n - 3; i >= 0; --i) y(i) = (y(i) - du(i) * y(i + 1) - du2(i) * y(i + 2)) / dd(i);
    y /= y.norm();
  }
}
}  // namespace detail

/// The largest singular value of a matrix, with its workspace kept from call
/// to call and an optional starting guess for the top left singular vector
/// (the previous chain's: a chain C_{L+1} = C_L J shares its left factors with
/// C_L, and its top left singular vector converges as L grows).
///
/// sigma_max(A)^2 is the largest eigenvalue of the Gram matrix G = A A^T (or
/// A^T A, the smaller), found by Lanczos with full reorthogonalisation, which
/// applies G as two matrix-vector products and never forms it. It stops when
/// the residual r = ||G x - theta x|| of the top Ritz pair (theta, x) is below
/// 1e-14 theta, which puts an eigenvalue of G within a relative 1e-14 of theta.
/// (The sharper r^2 / gap, with the gap to the next Ritz value, is not used: a
/// cluster at the top that the Krylov space has not yet resolved makes that gap
/// look wide and the estimate wrong.) A Ritz value that has not converged
/// within kMaxSteps steps is replaced by the exact route: Householder
/// reduction of G to tridiagonal form and bisection.
class SpectralNorm {
 public:
  static constexpr Index kMaxSteps = 48;

  /// log10 sigma_max(a), -inf for a = 0. guess (empty, or of the Gram
  /// matrix's size) starts the iteration.
  double log10_norm(const Mat<double>& a, const Vec<double>& guess = Vec<double>()) {
    const double scale = a.cwiseAbs().maxCoeff();
    steps_ = 0;
    if (!(scale > 0)) return scale == 0 ? -std::numeric_limits<double>::infinity() : std::nan("");
    left_ = a.rows() <= a.cols();
    const Index n = left_ ? a.rows() : a.cols();
    // Entries far from 1 are scaled into [-1, 1] first, so that G neither
    // overflows nor underflows; others are used as they are (a copy of a
    // chain a call is memory a fresh process page-faults on). G's entries
    // are scale^2 and the iteration squares them again: scale^4 must stay
    // inside a double (at 1e100 the norm came out as 0, the look-back bound
    // as -inf).
    const bool moderate = scale >= 1e-50 && scale <= 1e50;
    const double unit = moderate ? 1.0 : scale;
    if (!moderate) u_ = a / scale;
    m_ = moderate ? &a : &u_;
    double top = 0;
    if (n == 1) {
      vector_ = Vec<double>::Ones(1);
      top = m_->squaredNorm();
    } else {
      top = top_eigenvalue(guess);
    }
    m_ = nullptr;
    return top > 0 ? 0.5 * std::log10(top) + std::log10(unit) : -std::numeric_limits<double>::infinity();
  }

  /// The top left (or right, for a tall matrix) singular vector estimate of the last call.
  const Vec<double>& vector() const { return vector_; }
  /// Lanczos steps of the last call (kMaxSteps + 1 when it fell back to the exact route).
  Index steps() const { return steps_; }

 private:
  double top_eigenvalue(const Vec<double>& guess) {
    const Mat<double>& u = *m_;
    const Index n = left_ ? u.rows() : u.cols(), kmax = std::min(n, kMaxSteps);
    q_.resize(n, kmax + 1);
    alpha_.resize(kmax);
    beta_.resize(kmax);
    // The start: the guess plus a fixed spread vector (so that no direction is
    // missing from the Krylov space even when the guess is orthogonal to the answer).
    auto q0 = q_.col(0);
    for (Index i = 0; i < n; ++i) q0(i) = 0.5 + std::fmod(0.6180339887498949 * double(i + 1), 1.0);
    q0 /= q0.norm();
    if (guess.size() == n && guess.allFinite() && guess.norm() > 0) q0 = guess / guess.norm() + 1e-3 * q0;
    q0 /= q0.norm();
    const double tol = 1e-14;
    double theta = std::numeric_limits<double>::quiet_NaN();
    for (Index j = 0; j < kmax; ++j) {
      steps_ = j + 1;
      // w = G q_j without forming G: two matrix-vector products (4 n^2 flops against n^3 for G)
      if (left_) {
        // U U^T q in one pass over U: t = U^T q and w = U t column block by
        // column block, each block (about 16 KiB) still in the first-level
        // cache for its second product; two whole products read U twice.
        const Index cols = u.cols(), block = std::max<Index>(4, 2048 / std::max<Index>(1, u.rows()));
        t_.resize(cols);
        w_.setZero(u.rows());
        for (Index c = 0; c < cols; c += block) {
          const Index nc = std::min(block, cols - c);
          t_.segment(c, nc).noalias() = u.middleCols(c, nc).transpose() * q_.col(j);
          w_.noalias() += u.middleCols(c, nc) * t_.segment(c, nc);
        }
      } else {
        t_.noalias() = u * q_.col(j);
        w_.noalias() = u.transpose() * t_;
      }
      // alpha_j = q_j^T G q_j = ||t||^2 / ||q_j||^2: a sum of squares (exactly 1 for an orthogonal A, C_0 = I)
      alpha_(j) = t_.squaredNorm() / q_.col(j).squaredNorm();
      w_ -= alpha_(j) * q_.col(j);
      if (j > 0) w_ -= beta_(j - 1) * q_.col(j - 1);
      for (int pass = 0; pass < 2; ++pass) {  // full reorthogonalisation, twice ("twice is enough")
        h_.noalias() = q_.leftCols(j + 1).transpose() * w_;
        w_.noalias() -= q_.leftCols(j + 1) * h_;
      }
      beta_(j) = w_.norm();
      const auto d = alpha_.head(j + 1), e = beta_.head(j);
      // The top Ritz value grows with j (interlacing): the last one is a close guess.
      theta = detail::tridiagonal_eigenvalue_from_top(d, e, 1, theta);
      detail::tridiagonal_eigenvector(d, e, theta, y_, work_);
      const double r = beta_(j) * std::abs(y_(j));  // ||G x - theta x|| for the Ritz vector x = Q y
      if (r <= tol * theta) {
        vector_.noalias() = q_.leftCols(j + 1) * y_;
        return theta;
      }
      if (j + 1 < kmax) q_.col(j + 1) = w_ / beta_(j);
    }
    steps_ = kmax + 1;
    g_.setZero(n, n);
    if (left_)
      g_.selfadjointView<Eigen::Lower>().rankUpdate(u);
    else
      g_.selfadjointView<Eigen::Lower>().rankUpdate(u.transpose());
    const Eigen::Tridiagonalization<Mat<double>> tri(g_);
    vector_ = q_.col(0);
    return detail::largest_tridiagonal_eigenvalue(tri.diagonal(), tri.subDiagonal());
  }

  const Mat<double>* m_ = nullptr;  // the matrix of the current call: the argument, or u_
  Mat<double> u_, g_, q_;
  Vec<double> w_, t_, h_, alpha_, beta_, y_, vector_;
  detail::TridiagonalWork work_;
  Index steps_ = 0;
  bool left_ = true;  // G = U U^T (else U^T U, for a tall matrix)
};

/// log10 of the largest singular value of A (-inf for A = 0): SpectralNorm
/// with no starting guess.
inline double log10_spectral_norm(const Mat<double>& a) { return SpectralNorm().log10_norm(a); }

/// Largest singular value of A.
inline double spectral_norm(const Mat<double>& a) { return std::pow(10.0, log10_spectral_norm(a)); }

}  // namespace rnnscope
