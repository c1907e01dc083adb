// Peak memory of one training step (bench/train_step.hpp), float, measured as
// the growth of the resident set: VmHWM (the process's peak RSS) after the step
// minus VmRSS just before it, with the cell, the input and the target already
// built. Printed as one JSON object next to the step's stated figure: the cache
// (the bytes of every matrix of the forward's cache, counted from the object,
// which matches the per-(step, batch element) formula of each cell's header)
// plus the weights and their gradients.
//
//   bench_memory <elman|lstm|gru|ctrnn> B T I H
//
// Run one step per process: the peak resident set only ever grows.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: bench_memory <elman|lstm|gru|ctrnn> B T I H\n");
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
