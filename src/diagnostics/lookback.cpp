#include "rnnscope/diagnostics/lookback.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"

namespace rnnscope {

template <Scalar S>
std::optional<double> step_bound(const Elman<S>& cell) {
  return derivative_bound(cell.nonlinearity()) * spectral_norm(cell.params.weight_hh.template cast<double>());
}

template <Scalar S>
std::optional<double> step_bound(const CtRnn<S>& cell) {
  return std::abs(1.0 - cell.dt()) + cell.dt() * spectral_norm(cell.params.weight_hh.template cast<double>());
}

template std::optional<double> step_bound(const Elman<float>&);
template std::optional<double> step_bound(const Elman<double>&);
template std::optional<double> step_bound(const CtRnn<float>&);
template std::optional<double> step_bound(const CtRnn<double>&);

template <Scalar S>
void initialise_model(Model<S>& model, Init init, double scale, double forget_bias, Rng& rng) {
  std::visit(
      [&](auto& stack) {
        for (Index l = 0; l < stack.num_layers(); ++l) {
          auto& cell = stack.layer(l);
          initialise(cell.params, init, scale, rng);
          if constexpr (std::is_same_v<std::decay_t<decltype(cell)>, LSTM<S>>) {
            const Index H = cell.output_size();
            if (cell.params.bias_ih.size() > 0) cell.params.bias_ih.segment(H, H).array() += static_cast<S>(forget_bias);
          }
        }
      },
      model);
}

template void initialise_model(Model<float>&, Init, double, double, Rng&);
template void initialise_model(Model<double>&, Init, double, double, Rng&);

LookbackResult lookback_study(const LookbackSpec& spec) {
  require(spec.steps >= 1, fmt::format("T must be >= 1, got {}", spec.steps));
  require(spec.batch >= 1, fmt::format("batch must be >= 1, got {}", spec.batch));
  require(spec.seeds >= 1, fmt::format("seeds must be >= 1, got {}", spec.seeds));
  require(std::isfinite(spec.scale) && std::isfinite(spec.forget_bias) && std::isfinite(spec.input_scale),
          "scale, forget bias and input scale must be finite");
  ModelSpec ms = spec.model;
  ms.num_layers = 1;
  const Index T = spec.steps, B = spec.batch;
  std::vector<std::vector<double>> curves;  // one per (seed, batch element)
  std::vector<double> bound_factors;
  LookbackResult r;
  for (int s = 0; s < spec.seeds; ++s) {
    Rng rng(spec.seed + static_cast<std::uint64_t>(s) * 0x9E3779B97F4A7C15ULL);
    Model<double> model = make_model<double>(ms);
    initialise_model(model, spec.init, spec.scale, spec.forget_bias, rng);
    const Mat<double> x = rng.normal_matrix<double>(ms.input_size, T * B, spec.input_scale);
    std::visit(
        [&](const auto& stack) {
          const auto& cell = stack.layer(0);
          const auto cache = cell.forward(x, B);
          for (Index b = 0; b < B; ++b) {
            Vec<double> g = Vec<double>::Zero(cell.state_size());
            g.head(cell.output_size()) = rng.normal_matrix<double>(cell.output_size(), 1);
            curves.push_back(lookback_log10_ratios(cell, cache, b, g));
          }
          if (const auto c = step_bound(cell)) bound_factors.push_back(*c);
          r.lyapunov_top.push_back(lyapunov_spectrum(cell, cache, 0, 1)[0]);
        },
        model);
  }
  const double n = static_cast<double>(curves.size());
  for (Index L = 0; L <= T; ++L) {
    const size_t i = static_cast<size_t>(L);
    double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
    for (const auto& c : curves) {
      // A gradient that died exactly (relu) is floored at the smallest double for the statistics.
      const double v = std::max(c[i], -324.0);
      sum += v;
      sum2 += v * v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const double mean = sum / n;
    r.distance.push_back(L);
    r.mean_log10.push_back(mean);
    r.std_log10.push_back(std::sqrt(std::max(0.0, sum2 / n - mean * mean)));
    r.min_log10.push_back(lo);
    r.max_log10.push_back(hi);
    if (!bound_factors.empty()) {
      double b = 0;
      for (double c : bound_factors) b += static_cast<double>(L) * std::log10(c);
      r.bound_log10.push_back(b / static_cast<double>(bound_factors.size()));
    }
  }
  return r;
}

}  // namespace rnnscope
