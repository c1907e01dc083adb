// The gradient-flow diagnostics at the sizes of issue "diagnostics", double,
// one sequence of a tanh Elman RNN (and an LSTM, whose state is 2H) with
// PyTorch's default initialisation:
//   chains/<cell>/T:1000/H:128       forward + every chain d s_{T-1}/d s_{T-1-L},
//                                    L = 0..T, with spectral and Frobenius norms
//   lyapunov/<cell>/T:1000/H:128     forward + the full Lyapunov spectrum (QR every step)
//   contributions/elman_tanh/T:100/H:128   forward + BPTT contributions by distance
#include <benchmark/benchmark.h>

#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/diagnostics/contributions.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"

using namespace rnnscope;

namespace {

constexpr Index kInputs = 32;

template <class Cell>
Cell make(Index H, Rng& rng) {
  if constexpr (std::is_same_v<Cell, Elman<double>>) {
    Cell c(kInputs, H, Activation::tanh);
    c.init_uniform(rng);
    return c;
  } else {
    Cell c(kInputs, H);
    c.init_uniform(rng);
    return c;
  }
}

template <class Cell>
void chains(benchmark::State& state) {
  const Index T = state.range(0), H = state.range(1);
  Rng rng(1);
  const Cell cell = make<Cell>(H, rng);
  const Mat<double> x = rng.normal_matrix<double>(kInputs, T);
  for (auto _ : state) {
    const auto cache = cell.forward(x, 1);
    const ChainNorms n = jacobian_chain_norms(cell, cache, 0);
    benchmark::DoNotOptimize(n.log10_spectral.back());
  }
}

template <class Cell>
void lyapunov(benchmark::State& state) {
  const Index T = state.range(0), H = state.range(1);
  Rng rng(2);
  const Cell cell = make<Cell>(H, rng);
  const Mat<double> x = rng.normal_matrix<double>(kInputs, T);
  for (auto _ : state) {
    const auto cache = cell.forward(x, 1);
    const auto exps = lyapunov_spectrum(cell, cache, 0);
    benchmark::DoNotOptimize(exps.front());
  }
}

void contributions(benchmark::State& state) {
  const Index T = state.range(0), H = state.range(1);
  Rng rng(3);
  const auto cell = make<Elman<double>>(H, rng);
  const Mat<double> x = rng.normal_matrix<double>(kInputs, T);
  const Mat<double> dy = rng.normal_matrix<double>(H, T);
  for (auto _ : state) {
    const auto cache = cell.forward(x, 1);
    const auto buckets = contributions_by_distance(cell, cache, dy);
    benchmark::DoNotOptimize(buckets.back().weight_hh.data());
  }
}

BENCHMARK(chains<Elman<double>>)->Name("chains/elman_tanh")->ArgNames({"T", "H"})->Args({1000, 128})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(chains<LSTM<double>>)->Name("chains/lstm")->ArgNames({"T", "H"})->Args({1000, 128})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(lyapunov<Elman<double>>)->Name("lyapunov/elman_tanh")->ArgNames({"T", "H"})->Args({1000, 128})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(lyapunov<LSTM<double>>)->Name("lyapunov/lstm")->ArgNames({"T", "H"})->Args({1000, 128})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(contributions)->Name("contributions/elman_tanh")->ArgNames({"T", "H"})->Args({100, 128})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
