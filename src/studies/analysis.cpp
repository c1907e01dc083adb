#include "rnnscope/studies/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "contribution_curve.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/bounds.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/diagnostics/lanczos.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/sequence/forward_check.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope {

namespace {

// The theory from the layer's own blocks, fed inputs of the layer input's mean square (labelled "empirical").
template <class Cell>
void layer_theory(const Cell& cell, const typename Cell::Cache& cache, ModelSpec layer, LayerAnalysis& a) {
  layer.input_size = cache.input.rows();
  layer.hidden_size = cell.output_size();
  layer.num_layers = 1;
  const auto& p = cell.params;
  const EmpiricalBlocks e = empirical_variances(layer.cell, p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh);
  const double input_scale = std::sqrt(cache.input.squaredNorm() / static_cast<double>(cache.input.size()));
  a.theory = mean_field(layer, e.variances, input_scale, e.forget_bias, false);
  a.theory_log10 = predicted_lookback(a.theory, cache.steps);
}

// The forget gates of an LSTM layer and its exact cell-to-cell Jacobians against diag(f_t) (ForgetGateTrace).
template <class S>
ForgetGateTrace forget_gate_trace(const LSTM<S>& cell, const LSTMCache<S>& cache, Index nb) {
  ForgetGateTrace r;
  const Index T = cache.steps, B = cache.batch, H = cell.output_size();
  for (Index t = 0; t < T; ++t) {
    const auto f = cache.gates.middleCols(t * B, B).middleRows(H, H).template cast<double>();
    r.step.push_back(t);
    r.mean.push_back(f.mean());
    r.min.push_back(f.minCoeff());
    r.max.push_back(f.maxCoeff());
    double jac = 0, direct = 0, diff = 0;
    for (Index b = 0; b < nb; ++b) {
      const Mat<double> j = cell.cell_to_cell_jacobian(cache, t, b).template cast<double>();
      const Vec<double> fb = cell.cell_path_jacobian(cache, t, b).template cast<double>();
      const double nj = spectral_norm(j);
      Mat<double> d = j;
      d.diagonal() -= fb;
      jac += std::log10(nj);
      direct += std::log10(fb.maxCoeff());  // ||diag(f)||_2 = max f (f > 0)
      diff += d.isZero(0) ? 0.0 : spectral_norm(d) / nj;
    }
    r.jacobian_log10.push_back(jac / static_cast<double>(nb));
    r.direct_log10.push_back(direct / static_cast<double>(nb));
    r.relative_difference.push_back(diff / static_cast<double>(nb));
  }
  return r;
}

template <class Cell>
LayerAnalysis analyse_layer(const Cell& cell, const typename Cell::Cache& cache, CellKind kind,
                            const AnalysisOptions& o, Rng& rng) {
  LayerAnalysis a;
  const Index T = cache.steps, nb = std::min(cache.batch, o.max_batch);
  std::vector<std::vector<double>> chains, lyap;
  ChainWorkspace workspace;
  for (Index b = 0; b < nb; ++b) {
    auto c = jacobian_chain_norms(cell, cache, b, false, &workspace).log10_spectral;
    chains.push_back(std::move(c));
    lyap.push_back(lyapunov_spectrum(cell, cache, b, o.lyapunov_k, T / 10));
  }
  for (Index L = 0; L <= T; ++L) a.distance.push_back(L);
  CurveStatistics s = curve_statistics(chains);
  a.chain_mean_log10 = std::move(s.mean);
  a.chain_min_log10 = std::move(s.min);
  a.chain_max_log10 = std::move(s.max);
  a.chain_median_log10 = std::move(s.median);
  a.chain_zero_share = std::move(s.zero_share);
  if (const auto c = step_bound(cell))
    for (Index L = 0; L <= T; ++L) a.bound_log10.push_back(static_cast<double>(L) * std::log10(*c));
  a.lyapunov = curve_statistics(lyap).mean;
  a.spectra = analyse_blocks(recurrent_blocks(cell), conditions_gamma(kind), o.max_power);
  const Mat<double> proj = rng.normal_matrix<double>(cell.output_size(), T * cache.batch);
  a.contributions.mean_log10 = detail::contribution_curve(cell, cache, proj, a.contributions.max_sum_error);
  a.contributions.std_log10.assign(a.contributions.mean_log10.size(), 0.0);
  for (Index d = 0; d < T; ++d) a.contributions.distance.push_back(d);
  if constexpr (requires { cell.cell_to_cell_jacobian(cache, Index{}, Index{}); })
    a.forget = forget_gate_trace(cell, cache, nb);
  return a;
}

Index layers_of(const Model<double>& model) {
  return std::visit([](const auto& stack) { return stack.num_layers(); }, model);
}

}  // namespace

void AnalysisSpec::validate() const {
  require(batch >= 1 && x.cols() > 0 && x.cols() % batch == 0, "analyse_model: the input holds no whole sequence");
  require(options.max_batch >= 1, fmt::format("max-batch must be >= 1, got {}", options.max_batch));
  require(options.max_power >= 1 && options.max_power <= 100000,
          fmt::format("max-power must be in 1..100000, got {}", options.max_power));
  const Index state = std::visit([](const auto& stack) { return stack.layer(0).state_size(); }, model);
  require(options.lyapunov_k >= 0, fmt::format("top must be >= 0, got {}", options.lyapunov_k));
  require(options.lyapunov_k <= state,
          fmt::format("top must be at most the layer state size {}, got {}", state, options.lyapunov_k));
  check_finite("input", x);
}

std::vector<AnalysisStudy::Task> AnalysisStudy::tasks(const Spec& spec) {
  spec.validate();
  std::vector<Task> tasks;
  for (Index l = 0; l < layers_of(spec.model); ++l) tasks.push_back({static_cast<std::size_t>(l)});
  return tasks;
}

AnalysisStudy::Partial AnalysisStudy::run(const Spec& spec, const Task& task) {
  const Index l = static_cast<Index>(task.task);
  Partial p;
  p.task = task.task;
  std::visit(
      [&](const auto& stack) {
        const auto cache = stack.forward(spec.x, spec.batch, spec.state0);
        require_finite_forward(stack, cache);
        Rng rng(spec.options.seed);
        // The projections of the layers before this one, drawn and set aside.
        for (Index k = 0; k < l; ++k) (void)rng.normal_matrix<double>(stack.layer(k).output_size(), spec.x.cols());
        p.layer = analyse_layer(stack.layer(l), stack.layer_cache(cache, l), spec.kind, spec.options, rng);
        p.layer.layer = l;
        ModelSpec layer = spec.model_spec;
        layer.cell = spec.kind;
        layer_theory(stack.layer(l), stack.layer_cache(cache, l), layer, p.layer);
      },
      spec.model);
  return p;
}

EndToEndResult analyse_end_to_end(const AnalysisSpec& spec) {
  spec.validate();
  return model_end_to_end(spec.model, spec.x, spec.batch, spec.state0, std::min(spec.batch, spec.options.max_batch),
                          spec.options.seed);
}

std::vector<LayerAnalysis> AnalysisStudy::reduce(const Spec& spec, std::vector<Partial> parts) {
  order_by_task(parts, static_cast<std::size_t>(layers_of(spec.model)));
  std::vector<LayerAnalysis> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(std::move(p.layer));
  return out;
}

Cost AnalysisStudy::cost(const Spec& spec) {
  // The input is the caller's; each layer's task runs the stack forward, then analyses its layer.
  const Index T = spec.batch > 0 ? spec.x.cols() / spec.batch : 0;
  ModelSpec m = spec.model_spec;
  m.cell = spec.kind;
  m.num_layers = layers_of(spec.model);
  Cost c = forward_cost(m, T, spec.batch);
  ModelSpec layer = m;
  layer.num_layers = 1;
  layer.input_size = std::max(m.input_size, m.hidden_size);
  const double Td = static_cast<double>(T), B = static_cast<double>(spec.batch);
  const double nb = static_cast<double>(std::min(spec.batch, spec.options.max_batch));
  const double S = jacobian_size(layer), H = static_cast<double>(layer.hidden_size), P = parameter_values(layer);
  // The chains' ring and workspace, the Lyapunov Q and QR, the blocks' decompositions, one contribution per
  // distance and the projections, the curves.
  const double k = spec.options.lyapunov_k > 0 ? static_cast<double>(spec.options.lyapunov_k) : S;
  c.bytes += values(8 * S * S + 4 * S * k + 16 * H * H + (Td + 2) * P + H * Td * B + 4 * nb * (Td + 1));
  // Per layer: the chains (a product of (S, S) matrices a step) with their norms, the Lyapunov QRs, the
  // contributions' single-step backward passes, and the blocks' decompositions and powers.
  const Cost step = bptt_cost(layer, 1, spec.batch);
  const double vector_work =
      nb * Td * (40 * S * S + 4 * S * k * k) + Td * (Td + 1) / 2 * (step.flops + step.products);
  const double product_work = nb * Td * (2 * S * S * S + 2 * S * S * k) +
                              (static_cast<double>(gate_blocks(m.cell)) + 2) *
                                  (30 + 2 * static_cast<double>(spec.options.max_power)) * H * H * H;
  const double L = static_cast<double>(m.num_layers);
  c.flops = L * (c.flops + vector_work);
  c.products = L * (c.products + product_work);
  c.sizes = {{"T", Td}, {"hidden", H}};
  return c;
}

}  // namespace rnnscope
