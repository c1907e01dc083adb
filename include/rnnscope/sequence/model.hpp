// A recurrent model as files and the command line name it: a cell kind, its
// sizes, and a stack of num_layers layers (PyTorch's nn.RNN / nn.LSTM / nn.GRU,
// plus the sigmoid Elman cell, the Euler cells (CT-RNN, residual,
// antisymmetric) and the skip cell). Every model is a Stack, one layer or more,
// so everything downstream handles one shape of thing.
#pragma once

#include <string_view>
#include <type_traits>
#include <variant>

#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/cells/skip_rnn.hpp"
#include "rnnscope/core/cost.hpp"
#include "rnnscope/sequence/stack.hpp"

namespace rnnscope {

enum class CellKind { rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru, ctrnn, rnn_residual, rnn_skip, rnn_antisymmetric };

/// "rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "ctrnn", "rnn_residual", "rnn_skip", "rnn_antisymmetric".
std::string_view to_string(CellKind k);
/// The cells' names as a list for messages and help: "rnn_tanh, rnn_relu, ..., or rnn_antisymmetric".
std::string cell_choices();
/// Whether the cell is one of the Euler family (EulerRnn: ctrnn, rnn_residual, rnn_antisymmetric).
bool is_euler(CellKind k);
/// Throws InvalidInput naming the unknown cell and the choices.
CellKind parse_cell(std::string_view name);

struct ModelSpec {
  CellKind cell = CellKind::rnn_tanh;
  Index input_size = 1;
  Index hidden_size = 1;
  Index num_layers = 1;
  bool bias = true;
  double dt = 0.1;      // ctrnn only
  Index skip = 10;      // rnn_skip only: K
  double eps = 0.1;     // rnn_antisymmetric only: the Euler step
  double gamma = 0.01;  // rnn_antisymmetric only: the diffusion
};

/// Throws InvalidInput unless the fields of the spec's cell kind are in range:
/// dt > 0 (ctrnn), skip in 1..1000 (rnn_skip), eps > 0 and gamma >= 0
/// (rnn_antisymmetric), all finite. The fields of other kinds are not read.
void check_cell_shape(const ModelSpec& spec);

/// The Euler form (euler_rnn.hpp) of an Euler-family cell kind.
EulerForm euler_form(const ModelSpec& spec);

template <Scalar S>
using Model = std::variant<Stack<Elman<S>>, Stack<LSTM<S>>, Stack<GRU<S>>, Stack<EulerRnn<S>>, Stack<SkipRnn<S>>>;

/// The cell type of kind K: Elman<S> for the three plain rnn_* kinds, EulerRnn<S> for the Euler family.
template <CellKind K, Scalar S>
using CellOf = std::conditional_t<
    K == CellKind::lstm, LSTM<S>,
    std::conditional_t<K == CellKind::gru, GRU<S>,
                       std::conditional_t<K == CellKind::rnn_skip, SkipRnn<S>,
                                          std::conditional_t<K == CellKind::ctrnn || K == CellKind::rnn_residual ||
                                                                 K == CellKind::rnn_antisymmetric,
                                                             EulerRnn<S>, Elman<S>>>>>;

/// One layer of the model `spec` describes, reading input_size features, with
/// zero weights: Cell is CellOf<spec.cell, S>; an Elman cell takes the
/// nonlinearity of spec.cell, an Euler cell its form (euler_form), a skip cell spec.skip.
template <class Cell>
Cell make_cell(const ModelSpec& spec, Index input_size) {
  using S = typename Cell::Scalar;
  if constexpr (std::is_same_v<Cell, Elman<S>>) {
    const Activation f = spec.cell == CellKind::rnn_tanh   ? Activation::tanh
                         : spec.cell == CellKind::rnn_relu ? Activation::relu
                                                           : Activation::sigmoid;
    return Cell(input_size, spec.hidden_size, f, spec.bias);
  } else if constexpr (std::is_same_v<Cell, EulerRnn<S>>) {
    return Cell(input_size, spec.hidden_size, euler_form(spec), spec.bias);
  } else if constexpr (std::is_same_v<Cell, SkipRnn<S>>) {
    return Cell(input_size, spec.hidden_size, spec.skip, Activation::tanh, spec.bias);
  } else {
    return Cell(input_size, spec.hidden_size, spec.bias);
  }
}

/// A model with zero weights; throws InvalidInput on non-positive sizes, a bad dt, eps, gamma or skip.
template <Scalar S>
Model<S> make_model(const ModelSpec& spec);

/// The activation bound gamma of the cell's recurrent nonlinearity (sup |f'|).
double activation_gamma(CellKind k);

/// The cost model's shapes (core/cost.hpp), from the caches' layouts in cells/*.hpp.
/// G: the gate blocks of weight_ih (G H rows): 4 for the LSTM, 3 for the GRU, else 1.
Index gate_blocks(CellKind k);
/// The values of the stack's parameters.
double parameter_values(const ModelSpec& spec);
/// The values the stack's forward cache holds for T steps of B sequences
/// (every layer's RecurrentCache and what its cell adds; the stack's input included).
double forward_cache_values(const ModelSpec& spec, Index steps, Index batch);
/// A forward pass over T steps of B sequences (values of `scalar_bytes`): the
/// parameters and the cache; its operations.
Cost forward_cost(const ModelSpec& spec, Index steps, Index batch, double scalar_bytes = 8);
/// The size S of a layer's step Jacobian (S, S): 2H for the LSTM, K H for the skip cell, else H.
double jacobian_size(const ModelSpec& spec);
/// The operations to form one step Jacobian and apply it to a vector.
double step_jacobian_flops(const ModelSpec& spec);
/// A forward pass and full BPTT: forward_cost, the gradients and backward's
/// largest block held on top; about three times the operations.
Cost bptt_cost(const ModelSpec& spec, Index steps, Index batch, double scalar_bytes = 8);

}  // namespace rnnscope
