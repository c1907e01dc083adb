// Peak memory of training, float, measured as the growth of the resident set:
// VmHWM (the process's peak RSS) after the work minus VmRSS just before it,
// with everything the work reads already built. Printed as one JSON object
// next to the work's stated figure.
//
//   bench_memory <elman|lstm|gru|ctrnn> B T I H
//       one training step (bench/train_step.hpp) on a built cell, input and
//       target; stated: the cache (the bytes of every matrix of the forward's
//       cache, counted from the object, which matches the per-(step, batch
//       element) formula of each cell's header) plus the weights and their
//       gradients
//   bench_memory train <lstm|gru> B T H [eval_size]
//       a few steps of the library's train() (training/trainer.hpp) on the
//       adding task (I = 2) with Adam and clipping by norm, on a built
//       TrainState; evaluations at step 0 and the last step only, on eval_size
//       sequences (default 1). Stated: the cache of a training batch plus the
//       parameters (the cell's and the readout's), their gradients and Adam's
//       two buffers per parameter. The loop keeps its evaluation's cache,
//       eval_size / B times the training cache, beside the training cache for
//       the whole run; the stated figure leaves it out (at eval_size 1 it is
//       negligible; at `rnnscope train`'s default of 500 and B = 50 it is ten
//       times the training cache).
//
// Run one measurement per process: the peak resident set only ever grows.
// The weights exist before the measured work, so the growth does not hold
// them although the stated figure counts them.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "rnnscope/training/trainer.hpp"
#include "train_step.hpp"

using namespace rnnscope;
using namespace rnnscope::bench;

namespace {

/// A field of /proc/self/status ("VmRSS", "VmHWM") in bytes.
long long status_bytes(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':')
      return std::atoll(line.c_str() + field.size() + 1) * 1024;
  return -1;
}

template <class M>
long long bytes_of(const M& m) {
  return static_cast<long long>(m.size()) * static_cast<long long>(sizeof(typename M::Scalar));
}

template <class Cache>
long long cache_bytes(const Cache& c) {
  long long n = bytes_of(c.input) + bytes_of(c.states);
  if constexpr (requires { c.gates; }) n += bytes_of(c.gates);
  if constexpr (requires { c.tanh_cell; }) n += bytes_of(c.tanh_cell);
  if constexpr (requires { c.hidden_n; }) n += bytes_of(c.hidden_n);
  if constexpr (requires { c.drive; }) n += bytes_of(c.drive);
  return n;
}

template <CellKind K>
int run(Index B, Index T, Index I, Index H) {
  Rng rng(1);
  auto cell = make_bench_cell<K, float>(I, H, rng);
  const Mat<float> x = rng.normal_matrix<float>(I, T * B);
  const Mat<float> target = rng.normal_matrix<float>(H, T * B);
  long long params = 0;
  cell.params.for_each([&](const char*, const auto& t) { params += bytes_of(t); });

  const long long rss_before = status_bytes("VmRSS"), hwm_before = status_bytes("VmHWM");
  const float loss = train_step(cell, x, B, target, 1e-3f);
  const long long hwm_after = status_bytes("VmHWM");

  const long long cache = cache_bytes(cell.forward(x, B));  // measured after the peak: its own pages don't count
  const long long stated = cache + 2 * params;
  const long long step = hwm_after - rss_before;
  std::printf(
      "{\"cell\": \"%s\", \"B\": %ld, \"T\": %ld, \"I\": %ld, \"H\": %ld, \"loss\": %g, "
      "\"rss_before\": %lld, \"hwm_before\": %lld, \"hwm_after\": %lld, \"step_peak_bytes\": %lld, "
      "\"cache_bytes\": %lld, \"param_bytes\": %lld, \"stated_bytes\": %lld, \"ratio\": %.4f}\n",
      cell_name(K).c_str(), static_cast<long>(B), static_cast<long>(T), static_cast<long>(I),
      static_cast<long>(H), static_cast<double>(loss), rss_before, hwm_before, hwm_after, step, cache, params,
      stated, double(step) / double(stated));
  return 0;
}

constexpr Index kTrainSteps = 3;  // train(): steps 1..3, with step 0's and step 3's evaluation

template <CellKind K>
int run_train(Index B, Index T, Index H, Index eval_size) {
  TrainSpec spec = adding_train_spec(K, B, T, H, kTrainSteps);
  spec.eval_size = eval_size;
  TrainState<float> state = initial_state<float>(spec);
  long long params = 0, readout = 0;
  std::visit([&](auto& stack) { stack.for_each_param([&](const char*, const auto& t) { params += bytes_of(t); }); },
             state.model);
  state.readout.for_each([&](const char*, const auto& t) { readout += bytes_of(t); });

  const long long rss_before = status_bytes("VmRSS"), hwm_before = status_bytes("VmHWM");
  const TrainOutcome outcome = train(spec, state, Execution{});
  const long long hwm_after = status_bytes("VmHWM");
  if (outcome.end != TrainOutcome::End::finished) {
    std::fprintf(stderr, "bench_memory: train() did not finish: %s\n", outcome.message.c_str());
    return 1;
  }

  // The cache of one training batch, measured after the peak: its own pages don't count.
  Rng rng(1);
  const Batch<float> batch = make_batch<float>(spec.task, B, rng);
  const auto& cell = std::get<Stack<CellOf<K, float>>>(state.model).layer(0);
  const long long cache = cache_bytes(cell.forward(batch.input, B));
  const long long all_params = params + readout;
  const long long gradients = all_params, optimizer = 2 * all_params;
  const long long stated = cache + all_params + gradients + optimizer;
  const long long peak = hwm_after - rss_before;
  std::printf(
      "{\"mode\": \"train\", \"cell\": \"%s\", \"B\": %ld, \"T\": %ld, \"I\": %ld, \"H\": %ld, "
      "\"steps\": %ld, \"eval_size\": %ld, \"loss\": %g, \"rss_before\": %lld, \"hwm_before\": %lld, "
      "\"hwm_after\": %lld, \"train_peak_bytes\": %lld, \"cache_bytes\": %lld, \"param_bytes\": %lld, "
      "\"readout_bytes\": %lld, \"gradient_bytes\": %lld, \"optimizer_bytes\": %lld, \"stated_bytes\": %lld, "
      "\"ratio\": %.4f}\n",
      cell_name(K).c_str(), static_cast<long>(B), static_cast<long>(T), static_cast<long>(spec.task.input_size()),
      static_cast<long>(H), static_cast<long>(kTrainSteps), static_cast<long>(eval_size),
      state.curve.back().train_loss, rss_before, hwm_before, hwm_after, peak, cache, params, readout, gradients,
      optimizer, stated, double(peak) / double(stated));
  return 0;
}

int train_main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: bench_memory train <lstm|gru> B T H [eval_size]\n");
    return 2;
  }
  const std::string_view kind = argv[2];
  const Index B = std::atol(argv[3]), T = std::atol(argv[4]), H = std::atol(argv[5]);
  const Index eval_size = argc == 7 ? std::atol(argv[6]) : 1;
  if (B <= 0 || T < 2 || H <= 0 || eval_size <= 0) {
    std::fprintf(stderr, "bench_memory: B, H and eval_size must be positive and T at least 2\n");
    return 2;
  }
  if (kind == cell_name(CellKind::lstm)) return run_train<CellKind::lstm>(B, T, H, eval_size);
  if (kind == cell_name(CellKind::gru)) return run_train<CellKind::gru>(B, T, H, eval_size);
  std::fprintf(stderr, "bench_memory train: unknown cell '%s' (lstm or gru)\n", argv[2]);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "train") return train_main(argc, argv);
  if (argc != 6) {
    std::fprintf(stderr,
                 "usage: bench_memory <elman|lstm|gru|ctrnn> B T I H\n"
                 "       bench_memory train <lstm|gru> B T H [eval_size]\n");
    return 2;
  }
  const std::string_view kind = argv[1];
  const Index B = std::atol(argv[2]), T = std::atol(argv[3]), I = std::atol(argv[4]), H = std::atol(argv[5]);
  if (B <= 0 || T <= 0 || I <= 0 || H <= 0) {
    std::fprintf(stderr, "bench_memory: B, T, I and H must be positive\n");
    return 2;
  }
  if (kind == cell_name(CellKind::rnn_tanh)) return run<CellKind::rnn_tanh>(B, T, I, H);
  if (kind == cell_name(CellKind::lstm)) return run<CellKind::lstm>(B, T, I, H);
  if (kind == cell_name(CellKind::gru)) return run<CellKind::gru>(B, T, I, H);
  if (kind == cell_name(CellKind::ctrnn)) return run<CellKind::ctrnn>(B, T, I, H);
  std::fprintf(stderr, "bench_memory: unknown cell '%s'\n", argv[1]);
  return 2;
}
