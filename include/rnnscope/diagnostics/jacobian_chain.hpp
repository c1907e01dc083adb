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
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>
#include <thread>
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

/// The matrices for_each_chain works in: the chain, the next one and the
/// step Jacobian (a float cell's in double). A caller that forms chains again
/// and again keeps them (ChainWorkspace): fresh matrices of 128 KiB (H = 128)
/// come from mmap and page-fault on every first touch, 280 times a call at
/// T = 100, H = 128 with the ring and the norms' storage.
struct ChainBuffers {
  Mat<double> chain, next, jacobian;
};

/// Calls visit(L, C_scaled, log10_scale) for L = 0..T with C_L = C_scaled * 10^log10_scale.
/// Each product C_L J is one GEMM on the calling thread (core/gemm.hpp).
/// buffers (optional) holds the matrices it works in, kept by the caller.
template <class Cell, class Visit>
void for_each_chain(const Cell& cell, const typename Cell::Cache& cache, Index b, Visit&& visit,
                    ChainBuffers* buffers = nullptr) {
  using S = typename Cell::Scalar;
  require(0 <= b && b < cache.batch, "jacobian chain: batch element out of range");
  const Index T = cache.steps, n = cell.state_size();
  ChainBuffers own;
  ChainBuffers& buf = buffers ? *buffers : own;
  Mat<double>& chain = buf.chain;
  chain.setIdentity(n, n);
  Mat<double>& next = buf.next;
  next.resize(n, n);
  // Reused from step to step: a fresh n x n matrix a step would page-fault each time.
  Mat<S> own_jacobian;
  Mat<S>& jacobian = [&]() -> Mat<S>& {
    if constexpr (std::is_same_v<S, double>)
      return buf.jacobian;
    else
      return own_jacobian;
  }();
  jacobian.resize(n, n);
  Mat<double>& jacobian_double = buf.jacobian;  // a float cell's step Jacobian in double
  double log10_scale = 0.0;
  visit(Index{0}, chain, log10_scale);
  for (Index t = T - 1; t >= 0; --t) {
    if constexpr (requires { cell.step_jacobian(cache, t, b, jacobian); })
      cell.step_jacobian(cache, t, b, jacobian);
    else
      jacobian = cell.step_jacobian(cache, t, b);
    const Mat<double>* J = &jacobian_double;
    if constexpr (std::is_same_v<S, double>)
      J = &jacobian;
    else
      jacobian_double = jacobian.template cast<double>();
    gemm(next, chain, *J, false);
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
    // chain a call is memory a fresh process page-faults on).
    const bool moderate = scale >= 1e-100 && scale <= 1e100;
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

/// What jacobian_chain_norms works in, for a caller that computes chains
/// again and again (several sequences, a benchmark): the chain matrices
/// (ChainBuffers), the ring of chains waiting for their norms, and the
/// norms' Lanczos storage. The results do not depend on what a workspace held
/// before.
struct ChainWorkspace {
  ChainBuffers buffers;
  std::vector<Mat<double>> ring;
  std::vector<SpectralNorm> solvers;
};

struct ChainNorms {
  std::vector<double> log10_spectral;   // index L: log10 ||C_L||_2
  std::vector<double> log10_frobenius;  // index L: log10 ||C_L||_F
  std::vector<std::vector<double>> log10_singular_values;  // on request: all, descending
};

/// Norms of every chain C_L, L = 0..T, for batch element b.
///
/// The chains are formed one after the other (each is the last times a step
/// Jacobian) by one thread, which puts each chain into a ring of kChainRing
/// slots; the norms, independent of each other, are computed by the other
/// threads as soon as a chain is in the ring (and by the forming thread while
/// it waits for a slot), so that forming the chains and their norms overlap.
/// Splitting each product between two threads as well cost more than it saved:
/// the chain and the step Jacobian crossed from one core's cache to the other's
/// every step (tanh RNN, T = 100, H = 128, two threads: 10.2 ms split against
/// 9.1 ms whole, docs/performance.md). A slot is refilled only once its
/// previous chain's norms are done, and the spectral norm of chain L starts
/// from the top singular vector found for chain L - kChainRing, its slot's
/// previous chain: the results are the same whatever the number of threads and
/// their timing.
template <class Cell>
ChainNorms jacobian_chain_norms(const Cell& cell, const typename Cell::Cache& cache, Index b,
                                bool all_singular_values = false, ChainWorkspace* workspace = nullptr) {
  require(0 <= b && b < cache.batch, "jacobian chain: batch element out of range");
  constexpr Index kChainRing = 4;
  const Index count = cache.steps + 1;
  ChainNorms n;
  n.log10_frobenius.resize(static_cast<size_t>(count));
  n.log10_spectral.resize(static_cast<size_t>(count));
  if (all_singular_values) n.log10_singular_values.resize(static_cast<size_t>(count));
  ChainWorkspace own;
  ChainWorkspace& ws = workspace ? *workspace : own;
  ws.ring.resize(kChainRing);
  ws.solvers.resize(kChainRing);
  std::vector<Mat<double>>& ring = ws.ring;
  std::vector<SpectralNorm>& solvers = ws.solvers;
  std::vector<double> scales(kChainRing);
  const auto evaluate = [&](Index L) {  // the norms of chain L, held in slot L % kChainRing
    const auto s = static_cast<size_t>(L % kChainRing), l = static_cast<size_t>(L);
    const Mat<double>& c = ring[s];
    n.log10_frobenius[l] = std::log10(c.norm()) + scales[s];
    // The guess is the slot's previous chain's vector; none for the first chains
    // (whatever a reused workspace's solver still holds).
    n.log10_spectral[l] =
        solvers[s].log10_norm(c, L < kChainRing ? Vec<double>() : solvers[s].vector()) + scales[s];
    if (all_singular_values) {
      const Eigen::BDCSVD<Mat<double>> svd(c);
      std::vector<double> sv;
      for (Index k = 0; k < svd.singularValues().size(); ++k) sv.push_back(std::log10(svd.singularValues()(k)) + scales[s]);
      n.log10_singular_values[l] = std::move(sv);
    }
  };
  const auto put = [&](Index L, const Mat<double>& c, double log10_scale) {
    ring[static_cast<size_t>(L % kChainRing)] = c;
    scales[static_cast<size_t>(L % kChainRing)] = log10_scale;
  };
  int threads = 1;
#ifdef _OPENMP
  if (!omp_in_parallel()) threads = std::min<int>(omp_get_max_threads(), static_cast<int>(count));
#endif
  if (threads < 2) {
    for_each_chain(
        cell, cache, b,
        [&](Index L, const Mat<double>& c, double log10_scale) {
          put(L, c, log10_scale);
          evaluate(L);
        },
        &ws.buffers);
    return n;
  }
  std::atomic<Index> produced{0}, taken{0};
  std::vector<std::atomic<Index>> finished(kChainRing);  // 1 + the last chain evaluated in the slot (0: none)
  for (auto& f : finished) f.store(0);
  const auto take = [&] {  // evaluates one chain that is ready; false when there is none
    Index L = taken.load(std::memory_order_relaxed);
    while (L < produced.load(std::memory_order_acquire)) {
      if (taken.compare_exchange_weak(L, L + 1, std::memory_order_acq_rel)) {
        evaluate(L);
        finished[static_cast<size_t>(L % kChainRing)].store(L + 1, std::memory_order_release);
        return true;
      }
    }
    return false;
  };
  const auto work_until = [&](auto&& done) {
    // Spin (with the CPU's pause hint) while the wait is short, which it is when
    // every thread has a core; yield to the scheduler only when it is not.
    for (int idle = 0; !done();) {
      if (take()) {
        idle = 0;
      } else if (++idle < 4096) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  };
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  {
    if (omp_get_thread_num() == 0) {
      for_each_chain(
          cell, cache, b,
          [&](Index L, const Mat<double>& c, double log10_scale) {
            const auto s = static_cast<size_t>(L % kChainRing);
            work_until([&] { return L < kChainRing || finished[s].load(std::memory_order_acquire) > L - kChainRing; });
            put(L, c, log10_scale);
            produced.store(L + 1, std::memory_order_release);
          },
          &ws.buffers);
    }
    work_until([&] { return taken.load(std::memory_order_relaxed) >= count; });
  }  // the region's end waits for every evaluation
#endif
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
