// The contract every recurrent cell meets, so that sequences, diagnostics,
// training and files work on all of them unchanged.
//
// A cell with input size I, output size H and state size S (H for all cells
// but the LSTM, whose state is [h; c], 2H) provides:
//   Params                         named tensors with PyTorch's names (for_each visits them)
//   Cache forward(x, B, state0)    x (I, T*B), state0 (S, B) or empty for zeros
//   forward(x, B, state0, cache)   the same into an existing cache, reusing its storage
//   output(cache)                  (H, T*B), the outputs h_0..h_{T-1}
//   final_state(cache)             (S, B)
//   backward_range(cache, d_out, d_state, t0, t1, grads) -> (S, B)
//       the vector-Jacobian product of steps t0..t1-1: d_out (H, (t1-t0)*B) is the
//       cotangent of those outputs (or empty), d_state that of the state after step
//       t1-1; parameter gradients and d_input columns accumulate (+=) into grads; the
//       return value is the cotangent of the state before step t0.
//   step_jacobian(cache, t, b)     (S, S): d state_t / d state_{t-1} for batch element b
//   step_jacobian(cache, t, b, J)  the same into J (optional; the chains use it to reuse J's storage)
// The output is the first H rows of the state (a stack of layers, which holds
// every layer's state, says where its top layer's output lies with output_offset()).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/gemm.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// Gradients of a cell: the parameters' (same struct as the parameters), the
/// input sequence's (I, T*B) and the initial state's (S, B).
template <class Params, class S>
struct CellGradients {
  Params params;
  Mat<S> d_input;
  Mat<S> d_state0;
  Mat<S> workspace;  // not a gradient: backward_range's scratch, kept so that a reused object allocates nothing
  std::array<Mat<S>, 2> output_chunks;  // not gradients: the output cotangent's chunks (OutputCotangent::chunk)
  /// false: backward leaves d_input empty and skips its product W_ih^T dz, a
  /// third of the input-side work of backward. For the first layer of a model
  /// trained on data, whose input needs no gradient (PyTorch skips it too for
  /// an input that does not require grad). Set it before bptt; bptt keeps it.
  bool input_gradient = true;
};

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
/// fork, join and moving the block to the other core's cache than it saved.
/// GRU, B = 8, T = 100, I = 16, H = 64, float: 1.02 ms with the products split
/// over two threads, 0.84 ms on one (docs/performance.md).
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
/// saves. Elman tanh, B = 8, I = 16, H = 64, float, Eigen's kernels, one
/// thread against two pipelined: T = 100 (4 blocks) 0.273 against 0.336 ms,
/// T = 200 (7 blocks) 0.730 against 0.591 ms, T = 10,000 31.1 against 27.9 ms
/// (docs/performance.md).
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

/// b_ih + b_hh, the bias of the input projections (forward_in_blocks) of a
/// cell whose two biases add, or empty for a cell without bias.
template <class V>
V summed_bias(const V& bias_ih, const V& bias_hh) {
  return bias_ih.size() > 0 ? V(bias_ih + bias_hh) : V();
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
template <class P, class W, class X, class V, class R>
void forward_in_blocks(P&& projections, const W& weight_ih, const X& x, const V& bias, Index B, R&& run) {
  using S = typename std::decay_t<P>::Scalar;
  const Index T = projections.cols() / std::max<Index>(1, B);
  const Index block = forward_block_steps(projections.rows(), B, sizeof(S));
  const Index blocks = (T + block - 1) / block;
  const auto project = [&](Index j) {
    const Index t0 = j * block, t1 = std::min(T, t0 + block);
    assign_affine(projections.middleCols(t0 * B, (t1 - t0) * B), weight_ih, x.middleCols(t0 * B, (t1 - t0) * B),
                  bias);
  };
  const auto steps = [&](Index j) {
    const Index t0 = j * block, t1 = std::min(T, t0 + block);
    for_batch_slices(B, [&](Index b0, Index nb) { run(b0, nb, t0, t1); });
  };
  if (pipelined_sweep(B, blocks)) {
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

/// The output cotangent dL/dy of a backward sweep over steps [t0, t1)
/// (backward_range): none, one matrix (rows, (t1 - t0) B) for the whole range,
/// or written block by block, last block first, when the sweep needs it:
/// chunk(begin, end, d) writes the columns of steps [begin, end) into d
/// (resized as needed). bptt_chunked evaluates the loss this way. In a
/// pipelined sweep the next block's chunk is written while this block's steps
/// run on another thread, so chunk must write only d and what it alone owns.
template <class S>
struct OutputCotangent {
  const Mat<S>* whole = nullptr;
  std::function<void(Index, Index, Mat<S>&)> chunk;

  /// The cotangent d over the whole range, or none if d is empty.
  static OutputCotangent of(const Mat<S>& d) {
    OutputCotangent c;
    if (d.size() > 0) c.whole = &d;
    return c;
  }
};

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
/// are the same.
template <class S, class G, class Steps, class Products>
void backward_in_blocks(const OutputCotangent<S>& dy, Index out_rows, Index delta_rows, Index t0, Index t1, Index B,
                        G& grads, Steps&& steps, Products&& products) {
  if (dy.whole) check_shape("d_output", *dy.whole, out_rows, (t1 - t0) * B);
  const Index block = backward_block_steps(B), width = std::min((t1 - t0) * B, block * B);
  const Index blocks = (t1 - t0 + block - 1) / block;
  const bool pipelined = pipelined_sweep(B, blocks);
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

/// Whether a gradients type can do without its input gradient (CellGradients
/// can; a convolution's gradients always carry theirs).
template <class G>
bool wants_input_gradient(const G& grads) {
  if constexpr (requires { grads.input_gradient; })
    return grads.input_gradient;
  else
    return true;
}

/// grads.d_input columns [col, col + delta.cols()) += W_ih^T delta, or nothing
/// when the input gradient was not asked for: the input-gradient product of
/// one backward block, shared by the cells.
template <class G, class W, class D>
void add_input_gradient(G& grads, Index col, const W& weight_ih, const D& delta) {
  if (!wants_input_gradient(grads)) return;
  assign_product(grads.d_input.middleCols(col, delta.cols()), weight_ih.transpose(), delta, true);
}

/// The weight gradients of one backward block of a cell whose two biases add
/// (Elman, CT-RNN, LSTM), one GEMM each: dW_ih += delta x^T,
/// dW_hh += delta h_prev^T, db_ih and db_hh += delta 1, and d_input += W_ih^T
/// delta from column `col` (the block's first) when the input gradient is wanted.
template <class G, class P, class D, class X, class Hp>
void add_block_gradients(G& grads, const P& params, Index col, const D& delta, const X& x, const Hp& h_prev) {
  using S = typename std::decay_t<D>::Scalar;
  add_product_transposed(grads.params.weight_ih, delta, x);
  add_product_transposed(grads.params.weight_hh, delta, h_prev);
  if (params.bias_ih.size() > 0) {
    const Vec<S> db = delta.rowwise().sum();
    grads.params.bias_ih += db;
    grads.params.bias_hh += db;
  }
  add_input_gradient(grads, col, params.weight_ih, delta);
}

/// The shape check of grads.d_input that backward_range does before it writes
/// into it: (I, T*B) when the input gradient is wanted.
template <class G>
void check_input_gradient(const G& grads, Index input_size, Index columns) {
  if (wants_input_gradient(grads)) check_shape("grads.d_input", grads.d_input, input_size, columns);
}

/// "weight_ih" in layer 2 is PyTorch's "weight_ih_l2".
inline std::string layer_name(const std::string& base, int layer) {
  return base + "_l" + std::to_string(layer);
}

/// Visits a model's parameters as f(name, tensor): a cell's `params` member, or
/// whatever a composite (a stack) exposes through its own for_each_param.
template <class Model, class F>
void for_each_param(Model& model, F&& f) {
  if constexpr (requires { model.for_each_param(f); })
    model.for_each_param(f);
  else
    model.params.for_each(f);
}

template <class C>
concept RecurrentCell = requires(const C& cell, const typename C::Cache& cache,
                                 typename C::Gradients& grads, const Mat<typename C::Scalar>& m) {
  typename C::Params;
  { cell.input_size() } -> std::convertible_to<Index>;
  { cell.output_size() } -> std::convertible_to<Index>;
  { cell.state_size() } -> std::convertible_to<Index>;
  { cell.forward(m, Index{}, m) } -> std::same_as<typename C::Cache>;
  cell.backward_range(cache, m, m, Index{}, Index{}, grads);
  { cell.step_jacobian(cache, Index{}, Index{}) } -> std::convertible_to<Mat<typename C::Scalar>>;
  cell.zero_gradients(cache);
};

}  // namespace rnnscope
