// One LSTM training step without the loss and the update: forward over the
// sequence, then full BPTT from a fixed output cotangent. B batch, T steps,
// I inputs, H hidden units. Run with --benchmark_repetitions=5 for the median.
#include <benchmark/benchmark.h>

#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/sequence/bptt.hpp"

using namespace rnnscope;

template <class S>
static void BM_LSTMTrainStep(benchmark::State& state) {
  const Index B = state.range(0), T = state.range(1), I = state.range(2), H = state.range(3);
  Rng rng(1);
  LSTM<S> cell(I, H);
  cell.init_uniform(rng);
  const Mat<S> x = rng.normal_matrix<S>(I, T * B);
  const Mat<S> d_output = rng.normal_matrix<S>(H, T * B);
  for (auto _ : state) {
    const auto cache = cell.forward(x, B);
    const auto grads = bptt(cell, cache, d_output, Mat<S>());
    benchmark::DoNotOptimize(grads.params.weight_hh.data());
    benchmark::ClobberMemory();
  }
  // Matmul FLOPs: forward 2*B*4H*(I+H) per step; backward twice that (dz -> inputs, dz -> weights).
  state.counters["GFLOP/s"] = benchmark::Counter(
      3.0 * 2.0 * double(B * 4 * H * (I + H)) * double(T), benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.counters["GFLOP/s"].value /= 1e9;
}
BENCHMARK(BM_LSTMTrainStep<float>)->Args({32, 100, 32, 128})->Unit(benchmark::kMillisecond);
