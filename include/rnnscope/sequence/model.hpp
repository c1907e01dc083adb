// A recurrent model as files and the command line name it: a cell kind, its
// sizes, and a stack of num_layers layers (PyTorch's nn.RNN / nn.LSTM / nn.GRU,
// plus the sigmoid Elman cell and the Euler CT-RNN). Every model is a Stack,
// one layer or more, so everything downstream handles one shape of thing.
#pragma once

#include <string_view>
#include <type_traits>
#include <variant>

#include "rnnscope/cells/ctrnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/sequence/stack.hpp"

namespace rnnscope {

enum class CellKind { rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru, ctrnn };

/// "rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "ctrnn".
std::string_view to_string(CellKind k);
/// Throws InvalidInput naming the unknown cell and the choices.
CellKind parse_cell(std::string_view name);

struct ModelSpec {
  CellKind cell = CellKind::rnn_tanh;
  Index input_size = 1;
  Index hidden_size = 1;
  Index num_layers = 1;
  bool bias = true;
  double dt = 0.1;  // ctrnn only
};

template <Scalar S>
using Model = std::variant<Stack<Elman<S>>, Stack<LSTM<S>>, Stack<GRU<S>>, Stack<CtRnn<S>>>;

/// The cell type of kind K: Elman<S> for the three rnn_* kinds.
template <CellKind K, Scalar S>
using CellOf = std::conditional_t<K == CellKind::lstm, LSTM<S>,
                                  std::conditional_t<K == CellKind::gru, GRU<S>,
                                                     std::conditional_t<K == CellKind::ctrnn, CtRnn<S>, Elman<S>>>>;

/// One layer of the model `spec` describes, reading input_size features, with
/// zero weights: Cell is CellOf<spec.cell, S>; an Elman cell takes the
/// nonlinearity of spec.cell, a CT-RNN spec.dt.
template <class Cell>
Cell make_cell(const ModelSpec& spec, Index input_size) {
  using S = typename Cell::Scalar;
  if constexpr (std::is_same_v<Cell, Elman<S>>) {
    const Activation f = spec.cell == CellKind::rnn_tanh   ? Activation::tanh
                         : spec.cell == CellKind::rnn_relu ? Activation::relu
                                                           : Activation::sigmoid;
    return Cell(input_size, spec.hidden_size, f, spec.bias);
  } else if constexpr (std::is_same_v<Cell, CtRnn<S>>) {
    return Cell(input_size, spec.hidden_size, spec.dt, spec.bias);
  } else {
    return Cell(input_size, spec.hidden_size, spec.bias);
  }
}

/// A model with zero weights; throws InvalidInput on non-positive sizes or a bad dt.
template <Scalar S>
Model<S> make_model(const ModelSpec& spec);

/// The activation bound gamma of the cell's recurrent nonlinearity (sup |f'|).
double activation_gamma(CellKind k);

}  // namespace rnnscope
