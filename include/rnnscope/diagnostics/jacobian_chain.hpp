// Jacobian chains d s_{T-1} / d s_{T-1-L} of a cell's state over a sequence,
// for every look-back distance L = 0..T, by one backward accumulation:
//
//   C_0 = I,   C_{L+1} = C_L J_{T-1-L},   J_t = d s_t / d s_{t-1} (cell.step_jacobian)
//
// C_L is kept as a unit-Frobenius matrix times a separate log10 scale, so
// chains that vanish or explode over thousands of steps neither underflow nor
// overflow. Norms are reported as log10: the spectral norm by Lanczos
// (lanczos.hpp), the chains formed on one thread while the others take their
// norms (thread_ring.hpp).
#pragma once

#include <Eigen/SVD>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/gemm.hpp"
#include "rnnscope/core/tensor.hpp"
#include "rnnscope/diagnostics/lanczos.hpp"
#include "rnnscope/diagnostics/thread_ring.hpp"

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
/// and again keeps them (ChainWorkspace): fresh matrices of this size come
/// from mmap and page-fault on first touch, call after call (docs/performance.md).
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
/// every step (see docs/performance.md). A slot is refilled only once its
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
  // Each chain is put into its slot by the forming thread and its norms are
  // evaluated by whichever thread takes it (thread_ring.hpp).
  produce_through_ring(
      count, kChainRing,
      [&](auto&& publish) {
        for_each_chain(
            cell, cache, b,
            [&](Index L, const Mat<double>& c, double log10_scale) { publish(L, [&] { put(L, c, log10_scale); }); },
            &ws.buffers);
      },
      evaluate);
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
