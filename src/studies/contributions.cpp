#include "rnnscope/studies/contributions.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "contribution_curve.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/sequence/forward_check.hpp"

namespace rnnscope {

void ContributionSpec::validate() const {
  NetworkSpec::validate();
  require(steps <= 5000, fmt::format("T must be <= 5000 for the contributions (O(T^2) cost), got {}", steps));
  require(!terms || steps <= 10,
          fmt::format("--terms lists all T (T + 1) / 2 terms (t, k): T must be <= 10 with it, got {}", steps));
  require(!terms || model.hidden_size <= 32,
          fmt::format("--terms writes every entry of every term of dL/dW_hh: hidden must be <= 32 with it, got {}",
                      model.hidden_size));
}

std::vector<SeedTask> ContributionStudy::tasks(const Spec& spec) {
  spec.validate();
  return seed_tasks(spec);
}

ContributionStudy::Partial ContributionStudy::run(const Spec& spec, const Task& task) {
  Partial p;
  p.task = task.task;
  with_seed_network(spec, task.task, [&](const auto& cell, const auto& cache, Rng& rng) {
    require_finite_output(cell, cache, spec.batch);
    const Mat<double> proj = rng.normal_matrix<double>(cell.output_size(), spec.steps * spec.batch);
    p.curve = detail::contribution_curve(cell, cache, proj, p.sum_error);
    if (spec.terms && task.task == 0) {
      p.terms.terms = weight_hh_terms(cell, cache, proj);
      p.terms.bptt = bptt(cell, cache, proj, Mat<double>()).params.weight_hh;
      Mat<double> sum = Mat<double>::Zero(p.terms.bptt.rows(), p.terms.bptt.cols());
      for (const auto& term : p.terms.terms) sum += term.weight_hh;
      p.terms.max_abs_error = (sum - p.terms.bptt).cwiseAbs().maxCoeff();
    }
  });
  return p;
}

ContributionResult ContributionStudy::reduce(const Spec& spec, std::vector<Partial> parts) {
  order_by_task(parts, static_cast<std::size_t>(spec.seeds));
  std::vector<std::vector<double>> curves;
  ContributionResult r;
  for (auto& p : parts) {
    if (p.task == 0) r.terms = std::move(p.terms);
    curves.push_back(std::move(p.curve));
    r.max_sum_error = std::max(r.max_sum_error, p.sum_error);
  }
  for (Index i = 0; i < spec.steps; ++i) r.distance.push_back(i);
  CurveStatistics s = curve_statistics(curves);
  r.mean_log10 = std::move(s.mean);
  r.std_log10 = std::move(s.std);
  r.zero_share = std::move(s.zero_share);
  r.theory = network_theory(spec);
  if (r.theory.available && std::isfinite(r.theory.slope_log10) && !r.mean_log10.empty() &&
      std::isfinite(r.mean_log10.front()))
    for (Index d = 0; d < spec.steps; ++d)
      r.theory_log10.push_back(r.mean_log10.front() + static_cast<double>(d) * r.theory.slope_log10);
  return r;
}

Cost ContributionStudy::cost(const Spec& spec) {
  Cost c = network_cost(spec);
  ModelSpec layer = spec.model;
  layer.num_layers = 1;
  const double T = static_cast<double>(spec.steps), B = static_cast<double>(spec.batch);
  const double P = parameter_values(layer);
  // One gradient of every parameter per distance d = 0..T-1 (contributions_by_distance), the full BPTT gradient,
  // the projections (H, T B) and BPTT's input gradient.
  const double H = static_cast<double>(layer.hidden_size), I = static_cast<double>(layer.input_size);
  double held = (T + 2) * P + (H + I) * T * B;
  if (spec.terms) held += (T * (T + 1) / 2 + 2) * P;
  c.bytes += values(held);
  c.sizes = {{"T", T}, {"hidden", H}};
  if ((H + I) * T * B > T * P) c.sizes.emplace_back("batch", B);
  // O(T^2) single-step backward passes of the batch: small products, at the vector rate.
  const Cost step = bptt_cost(layer, 1, spec.batch), full = bptt_cost(layer, spec.steps, spec.batch);
  c.flops += static_cast<double>(spec.seeds) * (T * (T + 1) / 2 * (step.flops + step.products) + full.flops);
  c.products += static_cast<double>(spec.seeds) * full.products;
  return c;
}

}  // namespace rnnscope
