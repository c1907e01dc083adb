// How a cell's sweeps over a sequence use the threads: OpenMP slices of the
// batch for the time loop, of rows or columns for the big GEMMs, blocks of
// steps whose input projections or weight gradients are one GEMM each, and a
// two-thread pipeline for small batches. Every cell's forward and backward
// run through forward_in_blocks and backward_in_blocks.
//
// The thread count changes which thread computes a column, never the
// operations on it: results do not depend on it beyond the rounding of the
// GEMM kernels on slices of different widths.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <type_traits>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/gemm.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// The first `cols` columns of a (rows, >= cols) scratch matrix kept in buf,
/// which is resized only when it is too small: how a backward sweep that runs
/// again on the same gradients object reuses its memory (a fresh allocation of
/// megabytes costs page faults on every training step).
template <class S>
auto scratch_columns(Mat<S>& buf, Index rows, Index cols) {
  if (buf.rows() != rows || buf.cols() < cols) buf.resize(rows, cols);
  return buf.leftCols(cols);
}

/// The batches of fewer columns than this run their time loops on one thread
/// (for_batch_slices gives a thread at least 8), and their sweeps are
/// pipelined when a second thread is free (pipelined_sweep).
inline constexpr Index kPipelinedBatch = 16;

/// Steps per block of a backward sweep. A cell's backward runs its steps in
/// blocks and does the weight-gradient GEMMs block by block: about 1024 columns
/// keep those GEMMs at full speed, while the cotangents held at once are one
/// block's, not the whole sequence's (memory), and still in cache for the GEMMs.
/// A batch of fewer than kPipelinedBatch columns takes blocks of about 256
/// columns: its sweep overlaps one block's steps with another's GEMMs
/// (backward_in_blocks), which gains only when a sequence has several blocks
/// (kMinPipelinedBlocks; 4 at T = 100, B = 8, too few). The blocks do not
/// depend on the thread count.
inline Index backward_block_steps(Index batch) {
  const Index b = std::max<Index>(1, batch);
  return std::max<Index>(1, (b < kPipelinedBatch ? 256 : 1024) / b);
}

namespace detail {
/// How many OneThreadScope objects the calling thread has alive.
inline thread_local int one_thread_scopes = 0;
}  // namespace detail

/// While an active scope lives, for_slices runs on the calling thread alone.
/// A small batch's sweep that is not pipelined keeps its block products on the
/// thread that runs its steps (forward_in_blocks, backward_in_blocks): a
/// product of one block of 256 columns split over two threads cost more in
/// fork, join and moving the block to the other core's cache than it saved
/// (see docs/performance.md).
class OneThreadScope {
 public:
  explicit OneThreadScope(bool active) : active_(active) {
    if (active_) ++detail::one_thread_scopes;
  }
  ~OneThreadScope() {
    if (active_) --detail::one_thread_scopes;
  }
  OneThreadScope(const OneThreadScope&) = delete;
  OneThreadScope& operator=(const OneThreadScope&) = delete;

 private:
  bool active_;
};

/// Runs f(i0, n) on slices [i0, i0 + n) that together cover [0, count), one
/// slice per OpenMP thread and at least `min_slice` long, or f(0, count) alone
/// without OpenMP, inside a parallel region, inside a OneThreadScope or when
/// count is small. The slices
/// are independent: no thread waits for another before the end. This is how
/// rnnscope uses threads; Eigen's own parallel GEMM, whose threads wait on each
/// other for every packed block, is switched off (EIGEN_DONT_PARALLELIZE).
/// f must not throw.
template <class F>
void for_slices(Index count, Index min_slice, F&& f) {
#ifdef _OPENMP
  const Index threads = std::min<Index>(omp_get_max_threads(), count / std::max<Index>(1, min_slice));
  if (threads > 1 && !omp_in_parallel() && detail::one_thread_scopes == 0) {
#pragma omp parallel num_threads(static_cast<int>(threads))
    {
      const Index k = omp_get_thread_num(), n = omp_get_num_threads();
      const Index i0 = count * k / n, i1 = count * (k + 1) / n;
      f(i0, i1 - i0);
    }
    return;
  }
#else
  (void)min_slice;
#endif
  f(Index{0}, count);
}

/// Rounds j = 0 .. rounds - 1 of a two-stage pipeline: main(j) on one thread
/// beside helper(j) on a second, both calls of round j finished before round
/// j + 1 starts. How a sweep whose time loop runs on one thread (a batch of
/// fewer than 16 columns, for_batch_slices) keeps the second thread busy: the
/// helper does the work of the blocks before and after the one the time loop
/// is in (forward_in_blocks, backward_in_blocks). Without a second thread (no
/// OpenMP, one thread, or inside a parallel region) the rounds run in order on
/// this thread, main(j) then helper(j). An exception from either stage ends
/// the rounds and is rethrown here.
template <class Main, class Helper>
void pipeline_rounds(Index rounds, Main&& main, Helper&& helper) {
#ifdef _OPENMP
  if (omp_get_max_threads() >= 2 && !omp_in_parallel()) {
    std::exception_ptr error;
    std::atomic<Index> failed_in{rounds};  // the round of the first exception
    const auto guarded = [&](auto& stage, Index j) {
      try {
        stage(j);
      } catch (...) {
#pragma omp critical(rnnscope_pipeline_error)
        if (!error) {
          error = std::current_exception();
          failed_in = j;
        }
      }
    };
#pragma omp parallel num_threads(2)
    {
      const bool alone = omp_get_num_threads() == 1;
      const int me = omp_get_thread_num();
      for (Index j = 0; j < rounds; ++j) {
        if (me == 0) guarded(main, j);
        if (me == 1 || alone) guarded(helper, j);
#pragma omp barrier
        // Every thread sees the same answer here: an exception of round j + 1
        // cannot be thrown before all threads have passed this barrier.
        if (failed_in <= j) break;
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  for (Index j = 0; j < rounds; ++j) {
    main(j);
    helper(j);
  }
}

/// for_slices over the batch columns [0, B), at least 8 columns a thread. The
/// time loop of a cell is sequential in t but independent across batch
/// elements, so each thread runs the steps of a block (forward_in_blocks, a
/// backward block) on its slice on its own: one fork per block of steps, not
/// one per step. Every column is computed by the same
/// operations whatever the slicing, so results do not depend on the thread
/// count beyond the rounding of the GEMM kernels.
template <class F>
void for_batch_slices(Index B, F&& f) {
  for_slices(B, 8, std::forward<F>(f));
}

/// The fewest blocks a sweep is pipelined over (pipelined_sweep). A pipeline
/// leaves one block's side work exposed at each end, costs a barrier a block,
/// and moves each block's data from one core's cache to the other's; over a
/// short sequence that all fits in one core's cache this costs more than it
/// saves (see docs/performance.md).
inline constexpr Index kMinPipelinedBlocks = 6;

/// Whether a sweep of `blocks` blocks over a batch of B runs as a pipeline
/// (pipeline_rounds): when its time loop would run on one thread, another is
/// free, and there are at least kMinPipelinedBlocks blocks to overlap.
inline bool pipelined_sweep(Index B, Index blocks) {
#ifdef _OPENMP
  return blocks >= kMinPipelinedBlocks && B < kPipelinedBatch && omp_get_max_threads() >= 2 && !omp_in_parallel();
#else
  (void)B;
  (void)blocks;
  return false;
#endif
}

/// dst += a * b^T with the rows of dst (and a) split over the threads: the
/// weight-gradient GEMMs, sum over steps and batch of dz x^T.
template <class Dst, class A, class Bm>
void add_product_transposed(Dst&& dst, const A& a, const Bm& b) {
  for_slices(dst.rows(), 64, [&](Index r0, Index nr) {
    gemm(dst.middleRows(r0, nr), a.middleRows(r0, nr), b.transpose(), true);
  });
}

/// dst (+)= a * b with the columns of dst (and b) split over the threads: the
/// input projections W_ih x and the input gradients W_ih^T dz.
template <class Dst, class A, class Bm>
void assign_product(Dst&& dst, const A& a, const Bm& b, bool accumulate) {
  for_slices(dst.cols(), 64, [&](Index c0, Index nc) {
    gemm(dst.middleCols(c0, nc), a, b.middleCols(c0, nc), accumulate);
  });
}

/// dst = a * b + bias in every column (bias empty: no bias), with the columns
/// split over the threads as in assign_product. The bias is written first and
/// the product accumulated onto it, so the GEMM neither zeroes dst first (as a
/// BLAS does for beta = 0) nor is dst read back afterwards to add the bias.
template <class Dst, class A, class Bm, class V>
void assign_affine(Dst&& dst, const A& a, const Bm& b, const V& bias) {
  for_slices(dst.cols(), 64, [&](Index c0, Index nc) {
    auto d = dst.middleCols(c0, nc);
    if (bias.size() > 0) d.colwise() = bias;
    gemm(d, a, b.middleCols(c0, nc), bias.size() > 0);
  });
}

/// The blocks of a sweep whose block work reaches `reach` steps back (0:
/// none), and whether the sweep is pipelined: a block's products may then read
/// (forward) or write (backward) the columns of steps up to `reach` before it,
/// as the skip cell's W_skip h_{t-K} does with reach K. In order, a block of at
/// most `reach` steps reaches only steps before it; pipelined, where one
/// block's products run beside the next block's steps, a block of at most
/// (reach - 1) / 2 steps also stays clear of the steps running beside it (and
/// of their h_{t-1} cotangents). Blocks that short pay a barrier for little
/// work, so such a sweep is pipelined only when they still hold
/// kMinPipelinedColumns columns; the blocks then take the pipelined limit,
/// pipelined or not, so that they do not depend on the thread count, and
/// otherwise the limit in order. pipelined_for(blocks) says whether a sweep of
/// that many blocks would be pipelined (pipelined_sweep).
struct BlockPlan {
  Index steps;
  bool pipelined;
};
inline constexpr Index kMinPipelinedColumns = 64;
template <class Pipelined>
BlockPlan plan_blocks(Index T, Index B, Index block, Index reach, Pipelined&& pipelined_for) {
  const bool may_pipeline = reach == 0 || (reach - 1) / 2 * B >= kMinPipelinedColumns;
  if (reach > 0) block = std::min(block, may_pipeline ? (reach - 1) / 2 : reach);
  return {block, may_pipeline && pipelined_for((T + block - 1) / block)};
}

/// Steps per block of a forward sweep (forward_in_blocks) whose input
/// projections have `rows` rows of `scalar_bytes` each per column: about
/// 512 KiB of projections per block, so they are still in cache (L2) when the
/// time loop reads them, and at least 256 columns, so that the projection GEMM
/// runs at full speed. A batch of fewer than kPipelinedBatch columns takes
/// blocks of about 64 KiB (and still 256 columns): its sweep computes the next
/// block's projections beside this block's steps, which gains only when a
/// sequence has several blocks.
inline Index forward_block_steps(Index rows, Index batch, Index scalar_bytes) {
  const Index per_step = std::max<Index>(1, rows * batch * scalar_bytes);
  const Index batch1 = std::max<Index>(1, batch);
  const Index budget = (batch1 < kPipelinedBatch ? Index{64} : Index{512}) << 10;
  return std::max({Index{1}, budget / per_step, (256 + batch1 - 1) / batch1});
}

/// The forward sweep of a cell over the T steps of a batch of B, in blocks of
/// forward_block_steps. `projections` (rows, T*B) receives the input
/// projections weight_ih * x + bias; for each block of steps [t0, t1) its
/// columns are computed first (one GEMM, split over the threads), then
/// run(b0, nb, t0, t1) runs the block's steps on each slice of batch columns
/// (for_batch_slices). Projecting the whole sequence at once wrote the
/// projections out to memory and read them back in the time loop, so that a
/// step cost more at T = 10,000 than at T = 100; a block's projections are
/// still in cache when its steps read them. When the time loop runs on one
/// thread (pipelined_sweep), the next block's projections are computed on the
/// other while this block's steps run; the operations are the same.
///
/// A cell whose projections also read its own earlier outputs (the skip cell's
/// W_skip h_{t-K}) passes reach = K and extra(t0, t1), which adds that part to
/// the block's projections after the input GEMM (BlockPlan keeps it clear of
/// the steps that compute what it reads).
template <class P, class W, class X, class V, class R, class Extra>
void forward_in_blocks(P&& projections, const W& weight_ih, const X& x, const V& bias, Index B, R&& run, Index reach,
                       Extra&& extra) {
  using S = typename std::decay_t<P>::Scalar;
  const Index T = projections.cols() / std::max<Index>(1, B);
  const BlockPlan plan = plan_blocks(T, B, forward_block_steps(projections.rows(), B, sizeof(S)), reach,
                                     [B](Index blocks) { return pipelined_sweep(B, blocks); });
  const Index block = plan.steps;
  const Index blocks = (T + block - 1) / block;
  const auto project = [&](Index j) {
    const Index t0 = j * block, t1 = std::min(T, t0 + block);
    assign_affine(projections.middleCols(t0 * B, (t1 - t0) * B), weight_ih, x.middleCols(t0 * B, (t1 - t0) * B),
                  bias);
    extra(t0, t1);
  };
  const auto steps = [&](Index j) {
    const Index t0 = j * block, t1 = std::min(T, t0 + block);
    for_batch_slices(B, [&](Index b0, Index nb) { run(b0, nb, t0, t1); });
  };
  if (plan.pipelined) {
    // Round j: the steps of block j - 1 beside the projections of block j.
    pipeline_rounds(
        blocks + 1, [&](Index j) { if (j > 0) steps(j - 1); },
        [&](Index j) { if (j < blocks) project(j); });
    return;
  }
  const OneThreadScope alone(B < kPipelinedBatch);
  for (Index j = 0; j < blocks; ++j) {
    project(j);
    steps(j);
  }
}

/// The forward sweep of a cell whose projections are the input GEMM alone.
template <class P, class W, class X, class V, class R>
void forward_in_blocks(P&& projections, const W& weight_ih, const X& x, const V& bias, Index B, R&& run) {
  forward_in_blocks(projections, weight_ih, x, bias, B, run, 0, [](Index, Index) {});
}

/// The backward sweep of a cell over steps [t0, t1) of a batch of B, in
/// blocks of backward_block_steps(B), last block first. For a block [begin,
/// end) of m = (end - begin) B columns,
///   steps(begin, end, b0, nb, delta, dy) runs its steps end - 1 .. begin on
///     the batch columns [b0, b0 + nb) (for_batch_slices), writing into delta
///     (delta_rows, m) what its weight gradients need; dy (out_rows, m) is the
///     block's output cotangent, or empty;
///   products(begin, end, delta) then adds the block's weight gradients.
/// When the time loop runs on one thread (pipelined_sweep), the products of the
/// block after and the output cotangent of the block before are done on the
/// other thread while a block's steps run, with two delta buffers in
/// grads.workspace and two cotangent chunks in grads.output_chunks; the
/// products still run block after block in the same order, so the gradients
/// are the same. A cell whose products write cotangents of states up to
/// `reach` steps back (the skip cell's h_{t-K}) passes reach (BlockPlan).
template <class S, class G, class Steps, class Products>
void backward_in_blocks(const OutputCotangent<S>& dy, Index out_rows, Index delta_rows, Index t0, Index t1, Index B,
                        G& grads, Steps&& steps, Products&& products, Index reach = 0) {
  if (dy.whole) check_shape("d_output", *dy.whole, out_rows, (t1 - t0) * B);
  const BlockPlan plan = plan_blocks(t1 - t0, B, backward_block_steps(B), reach,
                                     [B](Index blocks) { return pipelined_sweep(B, blocks); });
  const Index block = plan.steps, width = std::min((t1 - t0) * B, block * B);
  const Index blocks = (t1 - t0 + block - 1) / block;
  const bool pipelined = plan.pipelined;
  scratch_columns(grads.workspace, delta_rows, (pipelined ? 2 : 1) * width);
  const Mat<S> none;
  // Block j (0 = the last) covers steps [begin(j), end(j)).
  const auto end_of = [&](Index j) { return t1 - j * block; };
  const auto begin_of = [&](Index j) { return std::max(t0, t1 - (j + 1) * block); };
  const auto delta_of = [&](Index j) {
    return grads.workspace.middleCols(pipelined ? (j % 2) * width : 0, (end_of(j) - begin_of(j)) * B);
  };
  const auto produce = [&](Index j) {
    if (!dy.chunk) return;
    Mat<S>& d = grads.output_chunks[static_cast<size_t>(j % 2)];
    dy.chunk(begin_of(j), end_of(j), d);
    check_shape("d_output", d, out_rows, (end_of(j) - begin_of(j)) * B);
  };
  const auto run_steps = [&](Index j) {
    const Index begin = begin_of(j), end = end_of(j), m = (end - begin) * B;
    const Eigen::Ref<const Mat<S>> d = dy.whole ? Eigen::Ref<const Mat<S>>(dy.whole->middleCols((begin - t0) * B, m))
                                       : dy.chunk ? Eigen::Ref<const Mat<S>>(grads.output_chunks[static_cast<size_t>(j % 2)])
                                                  : Eigen::Ref<const Mat<S>>(none);
    auto delta = delta_of(j);
    for_batch_slices(B, [&](Index b0, Index nb) { steps(begin, end, b0, nb, delta, d); });
  };
  const auto run_products = [&](Index j) { products(begin_of(j), end_of(j), delta_of(j)); };
  if (pipelined) {
    // Round j: the steps of block j - 1 beside the products of block j - 2
    // and the output cotangent of block j.
    pipeline_rounds(
        blocks + 2, [&](Index j) { if (j > 0 && j <= blocks) run_steps(j - 1); },
        [&](Index j) {
          if (j > 1) run_products(j - 2);
          if (j < blocks) produce(j);
        });
    return;
  }
  const OneThreadScope alone(B < kPipelinedBatch);
  for (Index j = 0; j < blocks; ++j) {
    produce(j);
    run_steps(j);
    run_products(j);
  }
}

}  // namespace rnnscope
