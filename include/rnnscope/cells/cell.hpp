// The contract every recurrent cell meets, so that sequences, diagnostics,
// training and files work on all of them unchanged.
//
// A cell with input size I, output size H and state size S (H for all cells
// but the LSTM, whose state is [h; c], 2H) provides:
//   Params                         named tensors with PyTorch's names (for_each visits them)
//   Cache forward(x, B, state0)    x (I, T*B), state0 (S, B) or empty for zeros
//   output(cache)                  (H, T*B), the outputs h_0..h_{T-1}
//   final_state(cache)             (S, B)
//   backward_range(cache, d_out, d_state, t0, t1, grads) -> (S, B)
//       the vector-Jacobian product of steps t0..t1-1: d_out (H, (t1-t0)*B) is the
//       cotangent of those outputs (or empty), d_state that of the state after step
//       t1-1; parameter gradients and d_input columns accumulate (+=) into grads; the
//       return value is the cotangent of the state before step t0.
//   step_jacobian(cache, t, b)     (S, S): d state_t / d state_{t-1} for batch element b
// The output is the first H rows of the state (a stack of layers, which holds
// every layer's state, says where its top layer's output lies with output_offset()).
#pragma once

#include <algorithm>
#include <string>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// Gradients of a cell: the parameters' (same struct as the parameters), the
/// input sequence's (I, T*B) and the initial state's (S, B).
template <class Params, class S>
struct CellGradients {
  Params params;
  Mat<S> d_input;
  Mat<S> d_state0;
};

/// Steps per block of a backward sweep. A cell's backward runs its steps in
/// blocks and does the weight-gradient GEMMs block by block: about 1024 columns
/// keep those GEMMs at full speed, while the cotangents held at once are one
/// block's, not the whole sequence's (memory), and still in cache for the GEMMs.
inline Index backward_block_steps(Index batch) { return std::max<Index>(1, 1024 / std::max<Index>(1, batch)); }

/// "weight_ih" in layer 2 is PyTorch's "weight_ih_l2".
inline std::string layer_name(const std::string& base, int layer) {
  return base + "_l" + std::to_string(layer);
}

/// Visits a model's parameters as f(name, tensor): a cell's `params` member, or
/// whatever a composite (a stack) exposes through its own for_each_param.
template <class Model, class F>
void for_each_param(Model& model, F&& f) {
  if constexpr (requires { model.for_each_param(f); })
    model.for_each_param(f);
  else
    model.params.for_each(f);
}

template <class C>
concept RecurrentCell = requires(const C& cell, const typename C::Cache& cache,
                                 typename C::Gradients& grads, const Mat<typename C::Scalar>& m) {
  typename C::Params;
  { cell.input_size() } -> std::convertible_to<Index>;
  { cell.output_size() } -> std::convertible_to<Index>;
  { cell.state_size() } -> std::convertible_to<Index>;
  { cell.forward(m, Index{}, m) } -> std::same_as<typename C::Cache>;
  cell.backward_range(cache, m, m, Index{}, Index{}, grads);
  { cell.step_jacobian(cache, Index{}, Index{}) } -> std::convertible_to<Mat<typename C::Scalar>>;
  cell.zero_gradients(cache);
};

}  // namespace rnnscope
