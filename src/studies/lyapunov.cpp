#include "rnnscope/studies/lyapunov.hpp"

#include <fmt/format.h>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope {

void LyapunovSpec::validate() const {
  NetworkSpec::validate();
  const Index state = model.cell == CellKind::lstm ? 2 * model.hidden_size : model.hidden_size;
  require(top >= 0, fmt::format("top must be >= 0, got {}", top));
  require(top <= state, fmt::format("top must be at most the state size {}, got {}", state, top));
}

std::vector<SeedTask> LyapunovStudy::tasks(const Spec& spec) {
  spec.validate();
  return seed_tasks(spec);
}

LyapunovStudy::Partial LyapunovStudy::run(const Spec& spec, const Task& task) {
  Partial p;
  p.task = task.task;
  with_seed_network(spec, task.task, [&](const auto& cell, const auto& cache, Rng&) {
    for (Index b = 0; b < spec.batch; ++b)
      p.trajectories.push_back(lyapunov_spectrum(cell, cache, b, spec.top, spec.steps / 10));
  });
  return p;
}

LyapunovResult LyapunovStudy::reduce(const Spec& spec, std::vector<Partial> parts) {
  order_by_task(parts, static_cast<std::size_t>(spec.seeds));
  LyapunovResult r;
  for (auto& p : parts)
    for (auto& t : p.trajectories) r.trajectories.push_back(std::move(t));
  CurveStatistics s = curve_statistics(r.trajectories);
  r.mean = std::move(s.mean);
  r.std = std::move(s.std);
  return r;
}

}  // namespace rnnscope
