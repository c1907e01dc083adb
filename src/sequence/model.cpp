#include "rnnscope/sequence/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

namespace {
constexpr CellKind all_kinds[] = {CellKind::rnn_tanh,     CellKind::rnn_relu, CellKind::rnn_sigmoid,
                                  CellKind::lstm,         CellKind::gru,      CellKind::ctrnn,
                                  CellKind::rnn_residual, CellKind::rnn_skip, CellKind::rnn_antisymmetric};
}

std::string cell_choices() {
  std::string s;
  const size_t n = std::size(all_kinds);
  for (size_t i = 0; i < n; ++i) s += std::string(i == 0 ? "" : i + 1 == n ? " or " : ", ") + std::string(to_string(all_kinds[i]));
  return s;
}

bool is_euler(CellKind k) {
  return k == CellKind::ctrnn || k == CellKind::rnn_residual || k == CellKind::rnn_antisymmetric;
}

void check_cell_shape(const ModelSpec& spec) {
  if (spec.cell == CellKind::ctrnn)
    require(std::isfinite(spec.dt) && spec.dt > 0, fmt::format("dt must be a positive number, got {}", spec.dt));
  if (spec.cell == CellKind::rnn_skip)
    require(spec.skip >= 1 && spec.skip <= 1000, fmt::format("skip must be in 1..1000, got {}", spec.skip));
  if (spec.cell == CellKind::rnn_antisymmetric) {
    require(std::isfinite(spec.eps) && spec.eps > 0, fmt::format("eps must be a positive number, got {}", spec.eps));
    require(std::isfinite(spec.gamma) && spec.gamma >= 0,
            fmt::format("gamma must be a non-negative number, got {}", spec.gamma));
  }
}

EulerForm euler_form(const ModelSpec& spec) {
  switch (spec.cell) {
    case CellKind::rnn_residual: return EulerForm::residual();
    case CellKind::rnn_antisymmetric: return EulerForm::antisymmetric_rnn(spec.eps, spec.gamma);
    default: return EulerForm::ctrnn(spec.dt);
  }
}

std::string_view to_string(CellKind k) {
  switch (k) {
    case CellKind::rnn_tanh: return "rnn_tanh";
    case CellKind::rnn_relu: return "rnn_relu";
    case CellKind::rnn_sigmoid: return "rnn_sigmoid";
    case CellKind::lstm: return "lstm";
    case CellKind::gru: return "gru";
    case CellKind::ctrnn: return "ctrnn";
    case CellKind::rnn_residual: return "rnn_residual";
    case CellKind::rnn_skip: return "rnn_skip";
    case CellKind::rnn_antisymmetric: return "rnn_antisymmetric";
  }
  return "?";
}

CellKind parse_cell(std::string_view name) {
  for (CellKind k : all_kinds)
    if (name == to_string(k)) return k;
  throw InvalidInput(fmt::format("unknown cell '{}' (expected {})", name, cell_choices()));
}

double activation_gamma(CellKind k) { return k == CellKind::rnn_sigmoid ? 0.25 : 1.0; }

template <Scalar S>
Model<S> make_model(const ModelSpec& spec) {
  require(spec.input_size > 0 && spec.hidden_size > 0,
          fmt::format("input and hidden sizes must be positive, got {} and {}", spec.input_size, spec.hidden_size));
  require(spec.num_layers >= 1, fmt::format("num_layers must be >= 1, got {}", spec.num_layers));
  check_cell_shape(spec);
  auto build = [&]<class Cell>() {
    std::vector<Cell> layers;
    for (Index l = 0; l < spec.num_layers; ++l)
      layers.push_back(make_cell<Cell>(spec, l == 0 ? spec.input_size : spec.hidden_size));
    return Model<S>(Stack<Cell>(std::move(layers)));
  };
  switch (spec.cell) {
    case CellKind::rnn_tanh:
    case CellKind::rnn_relu:
    case CellKind::rnn_sigmoid: return build.template operator()<Elman<S>>();
    case CellKind::lstm: return build.template operator()<LSTM<S>>();
    case CellKind::gru: return build.template operator()<GRU<S>>();
    case CellKind::ctrnn:
    case CellKind::rnn_residual:
    case CellKind::rnn_antisymmetric: return build.template operator()<EulerRnn<S>>();
    case CellKind::rnn_skip: return build.template operator()<SkipRnn<S>>();
  }
  throw InvalidInput("unknown cell kind");
}

namespace {

/// State blocks of a cell kind: the LSTM's [h; c], else h.
Index state_blocks(CellKind k) { return k == CellKind::lstm ? 2 : 1; }

/// Values a layer reading `input` features caches per (step, sequence) column
/// beyond its input and states: the LSTM's gates and tanh(c_t), the GRU's gates
/// and W_hn h_{t-1} + b_hn, an Euler cell's drive (cells/*.hpp).
double extra_per_column(CellKind k, double H) {
  if (k == CellKind::lstm) return 5 * H;
  if (k == CellKind::gru) return 4 * H;
  if (is_euler(k)) return H;
  return 0;
}

}  // namespace

Index gate_blocks(CellKind k) { return k == CellKind::lstm ? 4 : k == CellKind::gru ? 3 : 1; }

double parameter_values(const ModelSpec& spec) {
  const double G = static_cast<double>(gate_blocks(spec.cell)), H = static_cast<double>(spec.hidden_size);
  double v = 0;
  for (Index l = 0; l < spec.num_layers; ++l) {
    const double I = static_cast<double>(l == 0 ? spec.input_size : spec.hidden_size);
    v += G * H * (I + H) + (spec.bias ? 2 * G * H : 0);
    if (spec.cell == CellKind::rnn_skip) v += H * H;
  }
  return v;
}

double forward_cache_values(const ModelSpec& spec, Index steps, Index batch) {
  const double T = static_cast<double>(steps), B = static_cast<double>(batch),
               H = static_cast<double>(spec.hidden_size);
  const double S = static_cast<double>(state_blocks(spec.cell)) * H;
  const double initial = spec.cell == CellKind::rnn_skip ? static_cast<double>(spec.skip) : 1.0;
  double v = 0;
  for (Index l = 0; l < spec.num_layers; ++l) {
    const double I = static_cast<double>(l == 0 ? spec.input_size : spec.hidden_size);
    v += I * T * B + S * (T + initial) * B + extra_per_column(spec.cell, H) * T * B;
    if (spec.cell == CellKind::rnn_antisymmetric) v += H * H;  // its recurrent matrix M
  }
  return v;
}

namespace {

double forward_flops(const ModelSpec& spec, Index steps, Index batch) {
  const double G = static_cast<double>(gate_blocks(spec.cell)), H = static_cast<double>(spec.hidden_size);
  const double TB = static_cast<double>(steps) * static_cast<double>(batch);
  double f = 0;
  for (Index l = 0; l < spec.num_layers; ++l) {
    const double I = static_cast<double>(l == 0 ? spec.input_size : spec.hidden_size);
    f += 2 * G * H * (I + H) * TB;  // the products
    if (spec.cell == CellKind::rnn_skip) f += 2 * H * H * TB;
  }
  return f;
}

std::vector<std::pair<std::string, double>> sequence_sizes(const ModelSpec& spec, Index steps, Index batch) {
  std::vector<std::pair<std::string, double>> sizes{{"T", static_cast<double>(steps)},
                                                    {"batch", static_cast<double>(batch)},
                                                    {"hidden", static_cast<double>(spec.hidden_size)}};
  if (spec.num_layers > 1) sizes.emplace_back("layers", static_cast<double>(spec.num_layers));
  return sizes;
}

}  // namespace

double jacobian_size(const ModelSpec& spec) {
  const double H = static_cast<double>(spec.hidden_size);
  return spec.cell == CellKind::rnn_skip ? static_cast<double>(spec.skip) * H
                                         : static_cast<double>(state_blocks(spec.cell)) * H;
}

double step_jacobian_flops(const ModelSpec& spec) {
  const double G = static_cast<double>(gate_blocks(spec.cell)), H = static_cast<double>(spec.hidden_size);
  const double S = jacobian_size(spec);
  return 2 * G * H * H + 4 * S * S;  // the gate blocks' products (for the gated cells) and filling and applying it
}

Cost forward_cost(const ModelSpec& spec, Index steps, Index batch, double scalar_bytes) {
  // The input projections are formed a cache-sized block of steps at a time (cells/batch_schedule.hpp), which
  // the cache dwarfs.
  Cost c;
  c.bytes = values(parameter_values(spec) + forward_cache_values(spec, steps, batch), scalar_bytes);
  c.products = forward_flops(spec, steps, batch) * scalar_bytes / 8;
  c.flops = 10 * static_cast<double>(gate_blocks(spec.cell)) * static_cast<double>(spec.hidden_size) *
            static_cast<double>(spec.num_layers) * static_cast<double>(steps) * static_cast<double>(batch);
  c.sizes = sequence_sizes(spec, steps, batch);
  return c;
}

Cost bptt_cost(const ModelSpec& spec, Index steps, Index batch, double scalar_bytes) {
  const double I = static_cast<double>(std::max(spec.input_size, spec.hidden_size));
  const double TB = static_cast<double>(steps) * static_cast<double>(batch);
  Cost c = forward_cost(spec, steps, batch, scalar_bytes);
  // The parameters' gradients and a layer's input gradient (I, T*B).
  c.bytes += values(parameter_values(spec) + I * TB, scalar_bytes);
  c.products *= 3;
  c.flops *= 3;
  return c;
}

template Model<float> make_model<float>(const ModelSpec&);
template Model<double> make_model<double>(const ModelSpec&);

}  // namespace rnnscope
