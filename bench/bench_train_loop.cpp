// The library's training loop (training/trainer.hpp: train()) against the bare
// training step it is built around (bench/train_step.hpp), per training step,
// on the adding task's shapes (I = 2), float:
//
//   loop/<cell>/B:<B>/T:<T>/H:<H>  a step of train(): a fresh adding batch,
//        forward, readout on the last step, MSE, BPTT, the gradients' norm,
//        clipping by norm 1, Adam (lr 1e-3), the finiteness check and the
//        curve row; no evaluation inside the timed region
//   bare/<cell>/B:<B>/T:<T>/H:<H>  a TrainingStep on a fixed input (2, T*B):
//        forward, MSE on every step against a fixed (H, T*B) target, BPTT, SGD
//
// loop / bare is the loop's overhead beyond the bare training step. Both take
// their threads from OMP_NUM_THREADS. Run the two of a shape in one process,
// interleaved, and read the medians, e.g. (one line)
//
//   OMP_NUM_THREADS=2 build/bench/bench_train_loop
//     --benchmark_filter='^(loop|bare)/lstm/B:50/T:100/H:128$' --benchmark_repetitions=5
//     --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rnnscope/core/gemm.hpp"
#include "rnnscope/training/trainer.hpp"
#include "train_step.hpp"

using namespace rnnscope;
using namespace rnnscope::bench;

namespace {

constexpr Index kInputs = 2;  // the adding task's channels: value and marker

/// The spec of a run that never reaches its last step nor a scheduled evaluation.
TrainSpec loop_spec(CellKind k, Index B, Index T, Index H) {
  // The most steps a spec allows: the stop hook ends the run long before, so
  // there is no evaluation after step 0's, which is untimed, on one sequence.
  TrainSpec spec = adding_train_spec(k, B, T, H, 1'000'000'000);
  spec.eval_size = 1;
  return spec;
}

// One benchmark iteration is one training step of a single train() call, as
// `rnnscope train` makes one call for a whole run. The loop polls the
// stop_requested hook before every step; the hook advances the benchmark's
// KeepRunning() loop, whose timer starts at its first call and stops when it
// returns false, so the timed region is the steps between polls and nothing
// else. train() returns as interrupted once the benchmark has its iterations.
// Neither a new call per iteration nor raising spec.steps between calls would
// do: each call of train() builds its loop afresh (a first step that allocates
// and first touches the forward cache and the gradients, the evaluation set,
// and an evaluation at its last step), which a run pays once.
//
// The state (initial_state) is built before the call and step 0's evaluation
// runs before the first poll, both untimed; the first step is run untimed too
// (the hook's first poll does not count), so that what is timed is a step of
// a running loop whose buffers exist, as in bench_train_step.
template <CellKind K>
void loop_case(benchmark::State& state) {
  const Index B = state.range(0), T = state.range(1), H = state.range(2);
  const TrainSpec spec = loop_spec(K, B, T, H);
  TrainState<float> run = initial_state<float>(spec);
  TrainHooks<float> hooks;
  Index polls = 0;
  hooks.stop_requested = [&] { return ++polls > 1 && !state.KeepRunning(); };
  const TrainOutcome outcome = train(spec, run, Execution{}, hooks);
  if (outcome.end != TrainOutcome::End::interrupted) {
    state.SkipWithError(outcome.message.empty() ? "train() ended before the benchmark stopped it"
                                                : outcome.message.c_str());
    return;
  }
  benchmark::DoNotOptimize(run.readout.weight.data());
  state.counters["train_loss"] = run.curve.back().train_loss;  // a sanity check: the adding task's loss
}

// The bare step (bench/train_step.hpp) at the loop's shapes: I = 2, an input
// and a target of the same sizes as bench_train_step draws them.
template <CellKind K>
void bare_case(benchmark::State& state) {
  const Index B = state.range(0), T = state.range(1), H = state.range(2);
  Rng rng(1);
  auto cell = make_bench_cell<K, float>(kInputs, H, rng);
  const Mat<float> x = rng.normal_matrix<float>(kInputs, T * B);
  const Mat<float> target = rng.normal_matrix<float>(H, T * B);
  TrainingStep<decltype(cell)> step;
  step(cell, x, B, target, 1e-3f);  // untimed: the buffers exist before the timed steps
  for (auto _ : state) {
    step(cell, x, B, target, 1e-3f);
    benchmark::DoNotOptimize(cell.params.weight_hh.data());
    benchmark::ClobberMemory();
  }
}

// (B, T, H): the shapes of the whole-loop comparison in bench/compare_pytorch.py.
const std::vector<std::vector<int64_t>> kShapes = {{50, 100, 128}, {50, 400, 128}, {1, 100, 32}};

template <CellKind K>
void register_cell() {
  const std::string loop = "loop/" + cell_name(K), bare = "bare/" + cell_name(K);
  auto* l = benchmark::RegisterBenchmark(loop.c_str(), loop_case<K>);
  auto* b = benchmark::RegisterBenchmark(bare.c_str(), bare_case<K>);
  for (auto* r : {l, b}) {
    r->ArgNames({"B", "T", "H"})->Unit(benchmark::kMillisecond)->UseRealTime();
    for (const auto& s : kShapes) r->Args(s);
  }
}

const bool registered = [] {
  benchmark::AddCustomContext("matrix_kernel", gemm_kernel_description());
  register_cell<CellKind::lstm>();
  register_cell<CellKind::gru>();
  return true;
}();

}  // namespace
