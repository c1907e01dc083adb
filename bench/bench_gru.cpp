// One GRU training step: forward over the sequence, MSE on every step, full
// BPTT, SGD update. B batch, T steps, I inputs, H hidden units, G = 3H gate rows.
#include <benchmark/benchmark.h>

#include "rnnscope/cells/gru.hpp"
#include "rnnscope/sequence/bptt.hpp"
#include "rnnscope/sequence/loss.hpp"
#include "rnnscope/training/sgd.hpp"

using namespace rnnscope;

template <class S>
static void BM_GRUTrainStep(benchmark::State& state) {
  const Index B = state.range(0), T = state.range(1), I = state.range(2), H = state.range(3);
  Rng rng(1);
  GRU<S> cell(I, H);
  cell.init_uniform(rng);
  const Mat<S> x = rng.normal_matrix<S>(I, T * B);
  const Mat<S> target = rng.normal_matrix<S>(H, T * B);
  for (auto _ : state) {
    const auto cache = cell.forward(x, B);
    const auto loss = mse_all<S>(cell.output(cache), B, target);
    const auto grads = bptt(cell, cache, loss.d_output, Mat<S>());
    sgd_update(cell.params, grads.params, S(1e-3));
    benchmark::DoNotOptimize(cell.params.weight_hh.data());
  }
  // Matmul FLOPs of a training step: forward 2*B*G*(I+H) per step, training 3x that.
  state.counters["GFLOP/s"] = benchmark::Counter(
      3.0 * 2.0 * double(B * 3 * H * (I + H)) * double(T), benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::kIs1000);
  state.counters["GFLOP/s"].value /= 1e9;
}
BENCHMARK(BM_GRUTrainStep<float>)->Args({32, 100, 32, 128})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GRUTrainStep<double>)->Args({32, 100, 32, 128})->Unit(benchmark::kMillisecond);
