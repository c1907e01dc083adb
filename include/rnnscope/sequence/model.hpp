// A recurrent model as files and the command line name it: a cell kind, its
// sizes, and a stack of num_layers layers (PyTorch's nn.RNN / nn.LSTM / nn.GRU,
// plus the sigmoid Elman cell and the Euler CT-RNN). Every model is a Stack,
// one layer or more, so everything downstream handles one shape of thing.
#pragma once

#include <string_view>
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

/// A model with zero weights; throws InvalidInput on non-positive sizes or a bad dt.
template <Scalar S>
Model<S> make_model(const ModelSpec& spec);

/// The activation bound gamma of the cell's recurrent nonlinearity (sup |f'|).
double activation_gamma(CellKind k);

}  // namespace rnnscope
