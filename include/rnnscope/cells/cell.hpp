// The contract every recurrent cell meets, so that sequences, diagnostics,
// training and files work on all of them unchanged.
//
// A cell with input size I, output size H and state size S (H for all cells
// but the LSTM, whose state is [h; c], 2H) provides:
//   Params                         named tensors with PyTorch's names (for_each visits them)
//   Cache forward(x, B, state0)    x (I, T*B), state0 (S, B) or empty for zeros
//   forward(x, B, state0, cache)   the same into an existing cache, reusing its storage
//   output(cache)                  (H, T*B), the outputs h_0..h_{T-1}
//   final_state(cache)             (S, B)
//   backward_range(cache, d_out, d_state, t0, t1, grads) -> (S, B)
//       the vector-Jacobian product of steps t0..t1-1: d_out (H, (t1-t0)*B) is the
//       cotangent of those outputs (or empty), d_state that of the state after step
//       t1-1; parameter gradients and d_input columns accumulate (+=) into grads; the
//       return value is the cotangent of the state before step t0.
//   step_jacobian(cache, t, b)     (S, S): d state_t / d state_{t-1} for batch element b
//   step_jacobian(cache, t, b, J)  the same into J (optional; the chains use it to reuse J's storage)
// The output is the first H rows of the state (a stack of layers, which holds
// every layer's state, says where its top layer's output lies with output_offset()).
//
// How the cells spread their work over threads is in batch_schedule.hpp; the
// parameters and checks the Elman, CT-RNN, GRU and LSTM cells share are in
// recurrent_params.hpp.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// What sequences, diagnostics and training require of a cell (the list above).
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

/// Gradients of a cell: the parameters' (same struct as the parameters), the
/// input sequence's (I, T*B) and the initial state's (S, B).
template <class Params, class S>
struct CellGradients {
  Params params;
  Mat<S> d_input;
  Mat<S> d_state0;
  Mat<S> workspace;  // not a gradient: backward_range's scratch, kept so that a reused object allocates nothing
  std::array<Mat<S>, 2> output_chunks;  // not gradients: the output cotangent's chunks (OutputCotangent::chunk)
  /// false: backward leaves d_input empty and skips its product W_ih^T dz, a
  /// third of the input-side work of backward. For the first layer of a model
  /// trained on data, whose input needs no gradient (PyTorch skips it too for
  /// an input that does not require grad). Set it before bptt; bptt keeps it.
  bool input_gradient = true;
};

/// The output cotangent dL/dy of a backward sweep over steps [t0, t1)
/// (backward_range): none, one matrix (rows, (t1 - t0) B) for the whole range,
/// or written block by block, last block first, when the sweep needs it:
/// chunk(begin, end, d) writes the columns of steps [begin, end) into d
/// (resized as needed). bptt_chunked evaluates the loss this way. In a
/// pipelined sweep the next block's chunk is written while this block's steps
/// run on another thread, so chunk must write only d and what it alone owns.
template <class S>
struct OutputCotangent {
  const Mat<S>* whole = nullptr;
  std::function<void(Index, Index, Mat<S>&)> chunk;

  /// The cotangent d over the whole range, or none if d is empty.
  static OutputCotangent of(const Mat<S>& d) {
    OutputCotangent c;
    if (d.size() > 0) c.whole = &d;
    return c;
  }
};

/// Whether a gradients type can do without its input gradient (CellGradients
/// can; a convolution's gradients always carry theirs).
template <class G>
bool wants_input_gradient(const G& grads) {
  if constexpr (requires { grads.input_gradient; })
    return grads.input_gradient;
  else
    return true;
}

/// The shape check of grads.d_input that backward_range does before it writes
/// into it: (I, T*B) when the input gradient is wanted.
template <class G>
void check_input_gradient(const G& grads, Index input_size, Index columns) {
  if (wants_input_gradient(grads)) check_shape("grads.d_input", grads.d_input, input_size, columns);
}

/// "weight_ih" in layer 2 is PyTorch's "weight_ih_l2".
inline std::string layer_name(const std::string& base, int layer) {
  return base + "_l" + std::to_string(layer);
}

/// Visits the tensors of a stack's layers as f(name, tensor) with PyTorch's
/// layer suffix (weight_l0, bias_l0, weight_l1, ...); params_of(layers[l]) is
/// layer l's parameter struct.
template <class Layers, class ParamsOf, class F>
void for_each_layer_param(Layers& layers, ParamsOf&& params_of, F&& f) {
  for (size_t l = 0; l < layers.size(); ++l)
    params_of(layers[l]).for_each([&](const char* name, auto& t) {
      const std::string full = layer_name(name, static_cast<int>(l));
      f(full.c_str(), t);
    });
}

/// The parameters (or gradients) of a stack of layers, one struct per layer,
/// visited with PyTorch's layer suffix.
template <class Params>
struct LayerParams {
  std::vector<Params> layers;

  template <class F> void for_each(F&& f) {
    for_each_layer_param(layers, [](auto& p) -> auto& { return p; }, f);
  }
  template <class F> void for_each(F&& f) const {
    const_cast<LayerParams*>(this)->for_each([&](const char* name, const auto& t) { f(name, t); });
  }
};

/// Visits a model's parameters as f(name, tensor): a cell's `params` member, or
/// whatever a composite (a stack) exposes through its own for_each_param.
template <class Model, class F>
void for_each_param(Model& model, F&& f) {
  if constexpr (requires { model.for_each_param(f); })
    model.for_each_param(f);
  else
    model.params.for_each(f);
}

}  // namespace rnnscope
