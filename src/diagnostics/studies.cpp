#include "rnnscope/diagnostics/studies.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "rnnscope/cells/conv1d.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/contributions.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/diagnostics/lstm_paths.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/sequence/bptt.hpp"

namespace rnnscope {

namespace {

constexpr double kLog10Floor = -324.0;  // below the smallest subnormal double

Rng seed_rng(const LookbackSpec& spec, int s) {
  return Rng(spec.seed + static_cast<std::uint64_t>(s) * 0x9E3779B97F4A7C15ULL);
}

void check_spec(const LookbackSpec& spec) {
  require(spec.steps >= 1, fmt::format("T must be >= 1, got {}", spec.steps));
  require(spec.batch >= 1, fmt::format("batch must be >= 1, got {}", spec.batch));
  require(spec.seeds >= 1, fmt::format("seeds must be >= 1, got {}", spec.seeds));
  require(std::isfinite(spec.scale) && std::isfinite(spec.forget_bias) && std::isfinite(spec.input_scale),
          "scale, forget bias and input scale must be finite");
}

/// Seed s's single-layer model, initialised, and its input (I, T*B).
struct Drawn {
  Model<double> model;
  Mat<double> x;
};
Drawn draw(const LookbackSpec& spec, Rng& rng) {
  ModelSpec ms = spec.model;
  ms.num_layers = 1;
  Drawn d{make_model<double>(ms), {}};
  initialise_model(d.model, spec.init, spec.scale, spec.forget_bias, rng);
  d.x = rng.normal_matrix<double>(ms.input_size, spec.steps * spec.batch, spec.input_scale);
  return d;
}

double floored(double log10_value) { return std::max(log10_value, kLog10Floor); }

/// Mean and population standard deviation over curves of equal length, per index.
void curve_stats(const std::vector<std::vector<double>>& curves, std::vector<double>& mean, std::vector<double>& sd) {
  const size_t n = curves.front().size();
  mean.assign(n, 0.0);
  sd.assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    double s = 0, s2 = 0;
    for (const auto& c : curves) {
      s += c[i];
      s2 += c[i] * c[i];
    }
    const double m = s / static_cast<double>(curves.size());
    mean[i] = m;
    sd[i] = std::sqrt(std::max(0.0, s2 / static_cast<double>(curves.size()) - m * m));
  }
}

/// log10 ||contribution_d to dL/dW_hh|| / ||dL/dW_hh|| for the loss sum_t <r_t, out_t>,
/// and the relative error of sum_d contribution_d against the BPTT gradient.
template <class Cell>
std::vector<double> contribution_curve(const Cell& cell, const typename Cell::Cache& cache, const Mat<double>& r,
                                       double& sum_error) {
  const auto buckets = contributions_by_distance(cell, cache, r);
  const auto full = bptt(cell, cache, r, Mat<double>());
  Mat<double> sum = Mat<double>::Zero(full.params.weight_hh.rows(), full.params.weight_hh.cols());
  for (const auto& b : buckets) sum += b.weight_hh;
  const double total = full.params.weight_hh.norm();
  sum_error = total > 0 ? (sum - full.params.weight_hh).norm() / total : (sum - full.params.weight_hh).norm();
  std::vector<double> curve;
  for (const double n : contribution_norms(buckets, "weight_hh"))
    curve.push_back(total > 0 && n > 0 ? floored(std::log10(n / total)) : kLog10Floor);
  return curve;
}

template <class Cell>
constexpr bool is_lstm = std::is_same_v<Cell, LSTM<double>> || std::is_same_v<Cell, LSTM<float>>;
template <class Cell>
constexpr bool is_gru = std::is_same_v<Cell, GRU<double>> || std::is_same_v<Cell, GRU<float>>;

}  // namespace

template <class Cell>
std::vector<RecurrentBlock> recurrent_blocks(const Cell& cell) {
  const Mat<double> w = cell.params.weight_hh.template cast<double>();
  const Index H = w.cols();
  std::vector<RecurrentBlock> blocks;
  if constexpr (is_lstm<Cell> || is_gru<Cell>) {
    const char* gates = is_lstm<Cell> ? "ifgo" : "rzn";
    for (Index g = 0; gates[g] != '\0'; ++g)
      blocks.push_back({fmt::format("weight_hh[{}]", gates[g]), w.middleRows(g * H, H)});
  } else {
    blocks.push_back({"weight_hh", w});
  }
  return blocks;
}
template std::vector<RecurrentBlock> recurrent_blocks(const Elman<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const CtRnn<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const LSTM<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const GRU<double>&);

std::vector<BlockSpectrum> analyse_blocks(const std::vector<RecurrentBlock>& blocks, double gamma, int max_n) {
  std::vector<BlockSpectrum> out;
  for (const auto& b : blocks) {
    BlockSpectrum s;
    s.name = b.name;
    s.spectrum = analyse_spectrum(b.weight);
    s.powers = matrix_powers(b.weight, max_n);
    if (gamma > 0) {
      s.has_conditions = true;
      s.conditions = pascanu_conditions(b.weight, gamma);
    }
    out.push_back(std::move(s));
  }
  return out;
}

namespace {
/// gamma for the Pascanu conditions: the Elman cells only (the CT-RNN's and the
/// gated cells' step Jacobians are not diag(f') W_hh).
double conditions_gamma(CellKind k) {
  return k == CellKind::rnn_tanh || k == CellKind::rnn_relu || k == CellKind::rnn_sigmoid ? activation_gamma(k) : 0.0;
}
}  // namespace

std::vector<BlockSpectrum> spectrum_study(const LookbackSpec& spec, int max_n) {
  check_spec(spec);
  Rng rng = seed_rng(spec, 0);
  const Drawn d = draw(spec, rng);
  const auto blocks = std::visit([](const auto& stack) { return recurrent_blocks(stack.layer(0)); }, d.model);
  return analyse_blocks(blocks, conditions_gamma(spec.model.cell), max_n);
}

LyapunovResult lyapunov_study(const LookbackSpec& spec, Index k) {
  check_spec(spec);
  LyapunovResult r;
  for (int s = 0; s < spec.seeds; ++s) {
    Rng rng = seed_rng(spec, s);
    const Drawn d = draw(spec, rng);
    std::visit(
        [&](const auto& stack) {
          const auto& cell = stack.layer(0);
          const auto cache = cell.forward(d.x, spec.batch);
          for (Index b = 0; b < spec.batch; ++b)
            r.trajectories.push_back(lyapunov_spectrum(cell, cache, b, k, spec.steps / 10));
        },
        d.model);
  }
  curve_stats(r.trajectories, r.mean, r.std);
  return r;
}

ContributionResult contributions_study(const LookbackSpec& spec) {
  check_spec(spec);
  std::vector<std::vector<double>> curves;
  ContributionResult r;
  for (int s = 0; s < spec.seeds; ++s) {
    Rng rng = seed_rng(spec, s);
    const Drawn d = draw(spec, rng);
    std::visit(
        [&](const auto& stack) {
          const auto& cell = stack.layer(0);
          const auto cache = cell.forward(d.x, spec.batch);
          const Mat<double> proj = rng.normal_matrix<double>(cell.output_size(), spec.steps * spec.batch);
          double err = 0;
          curves.push_back(contribution_curve(cell, cache, proj, err));
          r.max_sum_error = std::max(r.max_sum_error, err);
        },
        d.model);
  }
  for (Index i = 0; i < spec.steps; ++i) r.distance.push_back(i);
  curve_stats(curves, r.mean_log10, r.std_log10);
  return r;
}

LstmPathResult lstm_path_study(const LookbackSpec& spec) {
  check_spec(spec);
  require(spec.model.cell == CellKind::lstm,
          fmt::format("the cell-path study needs an lstm, got {}", to_string(spec.model.cell)));
  std::vector<std::vector<double>> cell_c, hidden_c, total_c;
  for (int s = 0; s < spec.seeds; ++s) {
    Rng rng = seed_rng(spec, s);
    const Drawn d = draw(spec, rng);
    const auto& cell = std::get<Stack<LSTM<double>>>(d.model).layer(0);
    const auto cache = cell.forward(d.x, spec.batch);
    const Index H = cell.output_size();
    for (Index b = 0; b < spec.batch; ++b) {
      const Vec<double> u_h = rng.normal_matrix<double>(H, 1), u_c = rng.normal_matrix<double>(H, 1);
      const LstmPaths p = lstm_paths(cell, cache, b, u_h, u_c);
      auto fl = [](std::vector<double> v) {
        for (auto& x : v) x = floored(x);
        return v;
      };
      cell_c.push_back(fl(p.cell_path_log10));
      hidden_c.push_back(fl(p.hidden_path_log10));
      total_c.push_back(fl(p.total_log10));
    }
  }
  LstmPathResult r;
  for (Index L = 0; L <= spec.steps; ++L) r.distance.push_back(L);
  std::vector<double> sd;
  curve_stats(cell_c, r.cell_log10, sd);
  curve_stats(hidden_c, r.hidden_log10, sd);
  curve_stats(total_c, r.total_log10, sd);
  return r;
}

ConvResult conv_distance_study(const ConvSpec& spec) {
  require(spec.steps >= 1, fmt::format("conv study: T must be >= 1, got {}", spec.steps));
  require(!spec.dilations.empty(), "conv study: needs at least one layer (dilation)");
  std::vector<CausalConvSpec> layers;
  for (const Index dil : spec.dilations) layers.push_back({spec.channels, spec.kernel_size, dil});
  ConvStack<double> stack(spec.input_size, layers, spec.nonlinearity);
  Rng rng(spec.seed);
  stack.init_uniform(rng);
  const Index T = spec.steps;
  const Mat<double> x = rng.normal_matrix<double>(spec.input_size, T);
  const auto cache = stack.forward(x, 1);
  Mat<double> dy = Mat<double>::Zero(stack.out_channels(), T);
  dy.col(T - 1) = rng.normal_matrix<double>(stack.out_channels(), 1);
  auto grads = stack.zero_gradients(cache);
  stack.backward(cache, dy, grads);
  ConvResult r;
  r.receptive_field = stack.receptive_field();
  for (Index d = 0; d < T; ++d) {
    r.distance.push_back(d);
    r.norm.push_back(grads.d_input.col(T - 1 - d).norm());
  }
  return r;
}

namespace {

template <class Cell>
LayerAnalysis analyse_layer(const Cell& cell, const typename Cell::Cache& cache, CellKind kind,
                            const AnalysisOptions& o, Rng& rng) {
  LayerAnalysis a;
  const Index T = cache.steps, nb = std::min(cache.batch, o.max_batch);
  std::vector<std::vector<double>> chains, lyap;
  ChainWorkspace workspace;
  for (Index b = 0; b < nb; ++b) {
    auto c = jacobian_chain_norms(cell, cache, b, false, &workspace).log10_spectral;
    for (auto& v : c) v = floored(v);
    chains.push_back(std::move(c));
    lyap.push_back(lyapunov_spectrum(cell, cache, b, o.lyapunov_k, T / 10));
  }
  for (Index L = 0; L <= T; ++L) a.distance.push_back(L);
  std::vector<double> sd;
  curve_stats(chains, a.chain_mean_log10, sd);
  a.chain_min_log10 = a.chain_max_log10 = chains.front();
  for (const auto& c : chains)
    for (size_t i = 0; i < c.size(); ++i) {
      a.chain_min_log10[i] = std::min(a.chain_min_log10[i], c[i]);
      a.chain_max_log10[i] = std::max(a.chain_max_log10[i], c[i]);
    }
  if (const auto c = step_bound(cell))
    for (Index L = 0; L <= T; ++L) a.bound_log10.push_back(static_cast<double>(L) * std::log10(*c));
  curve_stats(lyap, a.lyapunov, sd);
  a.spectra = analyse_blocks(recurrent_blocks(cell), conditions_gamma(kind), o.max_power);
  const Mat<double> proj = rng.normal_matrix<double>(cell.output_size(), T * cache.batch);
  a.contributions.mean_log10 = contribution_curve(cell, cache, proj, a.contributions.max_sum_error);
  a.contributions.std_log10.assign(a.contributions.mean_log10.size(), 0.0);
  for (Index d = 0; d < T; ++d) a.contributions.distance.push_back(d);
  return a;
}

}  // namespace

std::vector<LayerAnalysis> analyse_model(const Model<double>& model, CellKind kind, const Mat<double>& x,
                                         Index batch, const Mat<double>& state0, const AnalysisOptions& options) {
  require(batch >= 1 && x.cols() > 0 && x.cols() % batch == 0, "analyse_model: the input holds no whole sequence");
  require(options.max_batch >= 1 && options.max_power >= 1, "analyse_model: max_batch and max_power must be >= 1");
  check_finite("input", x);
  Rng rng(options.seed);
  std::vector<LayerAnalysis> out;
  std::visit(
      [&](const auto& stack) {
        const auto cache = stack.forward(x, batch, state0);
        for (Index l = 0; l < stack.num_layers(); ++l) {
          out.push_back(analyse_layer(stack.layer(l), stack.layer_cache(cache, l), kind, options, rng));
          out.back().layer = l;
        }
      },
      model);
  return out;
}

}  // namespace rnnscope
