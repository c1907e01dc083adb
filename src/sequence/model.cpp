#include "rnnscope/sequence/model.hpp"

#include <fmt/format.h>

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

template Model<float> make_model<float>(const ModelSpec&);
template Model<double> make_model<double>(const ModelSpec&);

}  // namespace rnnscope
