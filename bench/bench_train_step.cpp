// Training steps of every cell (bench/train_step.hpp) over the shapes of the
// side-by-side comparison with PyTorch, and Eigen's sgemm rate as a ceiling.
//
// Names: train/<cell>/B:<B>/T:<T>/I:<I>/H:<H> (float), sgemm/eigen/N:<N>.
// Run with --benchmark_repetitions=5 and read the medians; select with
// --benchmark_filter, e.g. '^train/lstm/B:32/T:100/I:32/H:128$'.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "rnnscope/cells/conv1d.hpp"
#include "train_step.hpp"

using namespace rnnscope;
using namespace rnnscope::bench;

namespace {

template <CellKind K>
void train_step_case(benchmark::State& state) {
  const Index B = state.range(0), T = state.range(1), I = state.range(2), H = state.range(3);
  Rng rng(1);
  auto cell = make_bench_cell<K, float>(I, H, rng);
  const Mat<float> x = rng.normal_matrix<float>(I, T * B);
  const Mat<float> target = rng.normal_matrix<float>(H, T * B);
  TrainingStep<decltype(cell)> step;  // a training loop's buffers, reused from step to step
  // One step before the timed ones: what is timed is a step of a running
  // training loop, whose buffers exist. Without it a repetition of one
  // iteration (T = 10,000 runs about one a repetition) would time the first
  // touch of every page of a fresh 150 MiB cache instead.
  step(cell, x, B, target, 1e-3f);
  for (auto _ : state) {
    step(cell, x, B, target, 1e-3f);
    benchmark::DoNotOptimize(cell.params.weight_hh.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(train_step_flops(K, B, T, I, H) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// The shapes of docs/performance.md: the diagnostic scale, two training scales,
// T = 100 against T = 10,000 at the same (B, I, H) for the linearity in T (at
// B = 32, and at B = 8 with T = 200 to 800 between, where a small batch's
// sweeps start to be pipelined: kMinPipelinedBlocks, cells/batch_schedule.hpp).
const std::vector<std::vector<int64_t>> kShapes = {
    {1, 100, 1, 32},   {32, 100, 32, 128}, {64, 200, 64, 256}, {8, 100, 16, 64},
    {8, 10000, 16, 64}, {8, 200, 16, 64},   {8, 400, 16, 64},   {8, 800, 16, 64},
    {32, 10000, 32, 128}};

// Batches from 1 to 64 at T = 100, I = 16, H = 64 and 128: run once with
// OMP_NUM_THREADS=1 and once with 2 to see where two threads start to pay
// (kPipelinedBatch, cells/batch_schedule.hpp; the table in docs/performance.md).
const std::vector<int64_t> kSweepBatches = {1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64};

template <CellKind K>
void register_cell() {
  const std::string name = "train/" + cell_name(K);
  auto* b = benchmark::RegisterBenchmark(name.c_str(), train_step_case<K>);
  b->ArgNames({"B", "T", "I", "H"})->Unit(benchmark::kMillisecond)->UseRealTime();
  for (const auto& s : kShapes) b->Args(s);
  if (K == CellKind::lstm) b->Args({128, 50, 256, 512});
  const std::string sweep = "batch_sweep/" + cell_name(K);
  auto* w = benchmark::RegisterBenchmark(sweep.c_str(), train_step_case<K>);
  w->ArgNames({"B", "T", "I", "H"})->Unit(benchmark::kMillisecond)->UseRealTime();
  for (const int64_t H : {64, 128})
    for (const int64_t B : kSweepBatches) w->Args({B, 100, 16, H});
}

// One training step of a causal Conv1d layer (C_in = I, C_out = H, kernel K):
// forward, MSE on every step, backward, SGD update; the convolution beside the
// recurrent cells at the same (B, T, I, H). FLOPs: forward 2*B*T*H*I*K, training 3x.
void conv1d_step_case(benchmark::State& state) {
  const Index B = state.range(0), T = state.range(1), I = state.range(2), H = state.range(3), K = state.range(4);
  Rng rng(1);
  Conv1dOptions o;
  o.causal = true;
  Conv1d<float> conv(I, H, K, o);
  conv.init_uniform(rng);
  const Mat<float> x = rng.normal_matrix<float>(I, T * B);
  const Mat<float> target = rng.normal_matrix<float>(H, T * B);
  for (auto _ : state) {
    const auto cache = conv.forward(x, B);
    const Mat<float> dy = (2.0f / static_cast<float>(target.size())) * (cache.output - target);
    auto grads = conv.zero_gradients(cache);
    conv.backward(cache, dy, grads);
    conv.params.weight -= 1e-3f * grads.params.weight;
    conv.params.bias -= 1e-3f * grads.params.bias;
    benchmark::DoNotOptimize(conv.params.weight.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(3.0 * 2.0 * double(B * T * H * I * K) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// C = A B for square float matrices, Eigen's own GEMM (or the BLAS it forwards to).
void sgemm_case(benchmark::State& state) {
  const Index N = state.range(0);
  Rng rng(2);
  const Mat<float> a = rng.normal_matrix<float>(N, N), b = rng.normal_matrix<float>(N, N);
  Mat<float> c(N, N);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(N) * double(N) * double(N) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  benchmark::AddCustomContext("matrix_kernel", gemm_kernel_description());
  register_cell<CellKind::rnn_tanh>();
  register_cell<CellKind::lstm>();
  register_cell<CellKind::gru>();
  register_cell<CellKind::ctrnn>();
  register_cell<CellKind::rnn_residual>();
  register_cell<CellKind::rnn_skip>();
  register_cell<CellKind::rnn_antisymmetric>();
  benchmark::RegisterBenchmark("train/conv1d_causal", conv1d_step_case)
      ->ArgNames({"B", "T", "I", "H", "K"})
      ->Args({32, 100, 32, 128, 3})
      ->Args({64, 200, 64, 256, 3})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("sgemm/eigen", sgemm_case)
      ->ArgName("N")
      ->Arg(2048)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  return true;
}();

}  // namespace
