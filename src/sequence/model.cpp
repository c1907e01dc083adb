#include "rnnscope/sequence/model.hpp"

#include <fmt/format.h>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

namespace {
constexpr CellKind all_kinds[] = {CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::rnn_sigmoid,
                                  CellKind::lstm,     CellKind::gru,      CellKind::ctrnn};
}

std::string_view to_string(CellKind k) {
  switch (k) {
    case CellKind::rnn_tanh: return "rnn_tanh";
    case CellKind::rnn_relu: return "rnn_relu";
    case CellKind::rnn_sigmoid: return "rnn_sigmoid";
    case CellKind::lstm: return "lstm";
    case CellKind::gru: return "gru";
    case CellKind::ctrnn: return "ctrnn";
  }
  return "?";
}

CellKind parse_cell(std::string_view name) {
  for (CellKind k : all_kinds)
    if (name == to_string(k)) return k;
  throw InvalidInput(fmt::format(
      "unknown cell '{}' (expected rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru or ctrnn)", name));
}

double activation_gamma(CellKind k) { return k == CellKind::rnn_sigmoid ? 0.25 : 1.0; }

template <Scalar S>
Model<S> make_model(const ModelSpec& spec) {
  require(spec.input_size > 0 && spec.hidden_size > 0,
          fmt::format("input and hidden sizes must be positive, got {} and {}", spec.input_size, spec.hidden_size));
  require(spec.num_layers >= 1, fmt::format("num_layers must be >= 1, got {}", spec.num_layers));
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
    case CellKind::ctrnn: return build.template operator()<CtRnn<S>>();
  }
  throw InvalidInput("unknown cell kind");
}

template Model<float> make_model<float>(const ModelSpec&);
template Model<double> make_model<double>(const ModelSpec&);

}  // namespace rnnscope
