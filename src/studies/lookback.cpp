#include "rnnscope/studies/lookback.hpp"

#include <cmath>

#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/sequence/forward_check.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope {

std::vector<SeedTask> LookbackStudy::tasks(const Spec& spec) {
  spec.validate();
  return seed_tasks(spec);
}

LookbackStudy::Partial LookbackStudy::run(const Spec& spec, const Task& task) {
  Partial p;
  p.task = task.task;
  Rng rng = seed_rng(spec, task.task);
  const DrawnNetwork d = draw_network(spec, rng);
  std::visit(
      [&](const auto& stack) {
        const auto stack_cache = stack.forward(d.x, spec.batch);
        require_finite_forward(stack, stack_cache);
        const auto& cell = stack.layer(0);
        const auto& cache = stack.layer_cache(stack_cache, 0);
        for (Index b = 0; b < spec.batch; ++b) {
          Vec<double> g = Vec<double>::Zero(cell.state_size());
          g.head(cell.output_size()) = rng.normal_matrix<double>(cell.output_size(), 1);
          p.curves.push_back(lookback_log10_ratios(cell, cache, b, g));
        }
        if (const auto c = step_bound(cell)) p.bound_factor.push_back(*c);
        p.lyapunov_top = lyapunov_spectrum(cell, cache, 0, 1)[0];
        if (stack.num_layers() > 1) p.end_to_end = end_to_end_samples(stack, stack_cache, rng, spec.batch);
      },
      d.model);
  return p;
}

LookbackResult LookbackStudy::reduce(const Spec& spec, std::vector<Partial> parts) {
  order_by_task(parts, static_cast<std::size_t>(spec.seeds));
  std::vector<std::vector<double>> curves;  // one per (seed, batch element)
  std::vector<double> bound_factors;
  std::vector<EndToEndSamples> end_to_end;
  LookbackResult r;
  r.bound = bound_kind(spec.model.cell);
  for (auto& p : parts) {
    for (auto& c : p.curves) curves.push_back(std::move(c));
    bound_factors.insert(bound_factors.end(), p.bound_factor.begin(), p.bound_factor.end());
    r.lyapunov_top.push_back(p.lyapunov_top);
    if (!p.end_to_end.curves.empty()) end_to_end.push_back(std::move(p.end_to_end));
  }
  if (!end_to_end.empty()) r.end_to_end = reduce_end_to_end(end_to_end);
  CurveStatistics s = curve_statistics(curves);
  r.mean_log10 = std::move(s.mean);
  r.std_log10 = std::move(s.std);
  r.min_log10 = std::move(s.min);
  r.max_log10 = std::move(s.max);
  r.median_log10 = std::move(s.median);
  r.zero_share = std::move(s.zero_share);
  for (Index L = 0; L <= spec.steps; ++L) {
    r.distance.push_back(L);
    if (!bound_factors.empty()) {
      double b = 0;
      for (const double c : bound_factors) b += static_cast<double>(L) * std::log10(c);
      r.bound_log10.push_back(b / static_cast<double>(bound_factors.size()));
    }
  }
  r.theory = network_theory(spec);
  r.theory_log10 = predicted_lookback(r.theory, spec.steps);
  for (const double v : r.lyapunov_top) r.lyapunov_top_mean += v / static_cast<double>(r.lyapunov_top.size());
  return r;
}

Cost LookbackStudy::cost(const Spec& spec) {
  Cost c = network_cost(spec);
  const double T = static_cast<double>(spec.steps), B = static_cast<double>(spec.batch);
  const double runs = static_cast<double>(spec.seeds) * B, S = jacobian_size(spec.model);
  // Every trajectory's curve is held until reduce, which sorts a copy of each distance's values; a stack adds
  // the end-to-end curves (the input and each layer, two losses).
  double curves = 2 * runs * (T + 1);
  if (spec.model.num_layers > 1) curves += 4 * (static_cast<double>(spec.model.num_layers) + 1) * runs * (T + 1);
  const double extra = values(curves + 3 * S * S);
  if (extra > c.bytes) c.sizes.emplace_back("seeds", spec.seeds);
  c.bytes += extra;
  const double ratios = B * T * step_jacobian_flops(spec.model),
               lyapunov = T * (step_jacobian_flops(spec.model) + 8 * S);
  c.flops += static_cast<double>(spec.seeds) * (ratios + lyapunov);
  if (spec.model.num_layers > 1) {
    const Cost e2e = bptt_cost(spec.model, spec.steps, spec.batch);
    c.flops += 2 * static_cast<double>(spec.seeds) * e2e.flops;
    c.products += 2 * static_cast<double>(spec.seeds) * e2e.products;
  }
  return c;
}

}  // namespace rnnscope
