#include "rnnscope/studies/lyapunov.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/sequence/forward_check.hpp"
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
    require_finite_output(cell, cache, spec.batch);
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
  // Exponents are not log10 ratios: a direction mapped exactly to zero has exponent -inf, which enters the mean
  // (the mean is then -inf and the spread NaN) rather than being counted apart.
  const size_t k = r.trajectories.front().size();
  const auto n = static_cast<double>(r.trajectories.size());
  for (size_t i = 0; i < k; ++i) {
    double sum = 0;
    for (const auto& t : r.trajectories) sum += t[i];
    const double m = sum / n;
    double centred = 0;
    for (const auto& t : r.trajectories) centred += (t[i] - m) * (t[i] - m);
    r.mean.push_back(m);
    r.std.push_back(std::isfinite(m) ? std::sqrt(centred / n) : std::numeric_limits<double>::quiet_NaN());
  }
  r.theory = network_theory(spec);
  return r;
}

Cost LyapunovStudy::cost(const Spec& spec) {
  Cost c = network_cost(spec);
  const double S = jacobian_size(spec.model), k = spec.top > 0 ? static_cast<double>(spec.top) : S;
  // The step Jacobian, Q, the product and the QR's factors.
  c.bytes += values(S * S + 3 * S * k + k);
  const double per_step = step_jacobian_flops(spec.model) + 2 * S * S * k + 4 * S * k * k;
  c.flops +=
      static_cast<double>(spec.seeds) * static_cast<double>(spec.batch) * static_cast<double>(spec.steps) * per_step;
  return c;
}

}  // namespace rnnscope
