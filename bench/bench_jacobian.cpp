// All Jacobian chains d h_{T-1} / d h_{T-1-L}, L = 0..T, with their spectral and
// Frobenius norms (diagnostics/jacobian_chain.hpp), for a tanh Elman RNN in
// double, one sequence: forward over the sequence, then jacobian_chain_norms.
//
// Name: jacobian_chain/elman_tanh/T:<T>/H:<H>. The weights and the input are
// random, or read from the safetensors file named by RNNSCOPE_BENCH_WEIGHTS
// (weight_ih (H, I), weight_hh (H, H), bias_ih (H), bias_hh (H), input (T, 1, I)),
// which bench/compare_pytorch.py writes so that PyTorch works on the same
// weights. The counter log10_norm_T is log10 ||d h_{T-1} / d h_{-1}||_2, for a
// cross-check of both sides.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "rnnscope/cells/elman.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/io/safetensors.hpp"

using namespace rnnscope;

namespace {

void jacobian_chain_case(benchmark::State& state) {
  const Index T = state.range(0), H = state.range(1), I = 32;
  Rng rng(3);
  Elman<double> cell(I, H, Activation::tanh);
  cell.init_uniform(rng);
  Mat<double> x = rng.normal_matrix<double>(I, T);
  if (const char* path = std::getenv("RNNSCOPE_BENCH_WEIGHTS")) {
    const TensorFile file = read_safetensors(path);
    cell = Elman<double>(file.at("weight_ih").shape.at(1), file.at("weight_hh").shape.at(0), Activation::tanh);
    cell.params.weight_ih = to_matrix<double>(file.at("weight_ih"));
    cell.params.weight_hh = to_matrix<double>(file.at("weight_hh"));
    cell.params.bias_ih = to_vector<double>(file.at("bias_ih"));
    cell.params.bias_hh = to_vector<double>(file.at("bias_hh"));
    x = to_sequence<double>(file.at("input"));
    if (cell.state_size() != H || x.cols() != T) {
      state.SkipWithError("RNNSCOPE_BENCH_WEIGHTS does not match the benchmark's T and H");
      return;
    }
  }
  double last = 0;
  ChainWorkspace workspace;  // kept from call to call, as a study over many sequences keeps it
  for (auto _ : state) {
    const auto cache = cell.forward(x, 1);
    const ChainNorms norms = jacobian_chain_norms(cell, cache, 0, false, &workspace);
    last = norms.log10_spectral.back();
    // Not DoNotOptimize(last): its "+m,r" constraint corrupts doubles with GCC 12.
    benchmark::DoNotOptimize(norms.log10_spectral.data());
  }
  state.counters["log10_norm_T"] = last;
}

BENCHMARK(jacobian_chain_case)
    ->Name("jacobian_chain/elman_tanh")
    ->ArgNames({"T", "H"})
    ->Args({100, 128})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
