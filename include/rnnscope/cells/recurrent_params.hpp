// What the Elman, CT-RNN, GRU and LSTM cells share: PyTorch's four tensors of
// the nn.RNN family (weight_ih, weight_hh, bias_ih, bias_hh), one struct for
// the parameters and their gradients, the cache's common part, and the cell
// contract (cell.hpp) as far as it does not depend on a cell's equations:
// zero construction, PyTorch's initialisation, the checks at the public edge
// (parameters, input, initial state, step range, cotangent and gradient
// shapes), zero gradients, and the overloads that return a fresh object.
//
// A cell derives from RecurrentCellBase<Cell, S, Cache>, states its layout
// (kLayout) and writes its equations in its source file as three functions
// the base calls once its checks are done:
//   forward_steps(cell, x, cache)            the states (and what backward needs) of steps 0..T-1
//   backward_steps(cell, cache, d_output, g, t0, t1, grads)
//                                            g, the state's cotangent after step t1 - 1, carried
//                                            back to before step t0; gradients accumulated
//   step_jacobian_of(cell, cache, t, b, J)   d state_t / d state_{t-1}
// The source instantiates RecurrentCellBase for its cell in float and double.
#pragma once

#include <cmath>
#include <string>

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/core/random.hpp"
#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// A cell's layout: its name in error messages, the gate blocks of H rows
/// stacked in each tensor (G = gates H rows), the blocks of H rows in its state
/// (2 for the LSTM's [h; c]; a cell whose count is set at run time says so with
/// its own state_blocks(), as rnn_skip's K), the initial state's name in error
/// messages, and whether it has a weight_skip (H, H).
struct RecurrentLayout {
  const char* name;
  Index gates;
  Index state_blocks;
  const char* initial_state;
  bool skip_weight = false;
};

/// What every cell of the family caches: T, B, the input (I, T*B) and the
/// states (S, (T+1)*B), the initial state then those after steps 0..T-1. A
/// cell's cache adds what its backward and step Jacobian need.
template <Scalar S>
struct RecurrentCache {
  Index steps = 0;  // T
  Index batch = 0;  // B
  Mat<S> input;     // (I, T*B)
  Mat<S> states;    // (S, (T+1)*B)
};

/// The parameters of a cell of the nn.RNN family, and its gradients (the same
/// struct). G = kGates H rows: the gate blocks stacked in the order the cell's
/// header gives.
template <Scalar S>
struct RecurrentParams {
  Mat<S> weight_ih;  // (G, I)
  Mat<S> weight_hh;  // (G, H)
  Vec<S> bias_ih;    // (G), or empty for a cell without bias
  Vec<S> bias_hh;    // (G), or empty
  Mat<S> weight_skip;  // (H, H): rnn_skip's weight on h_{t-K}; empty for every other cell

  /// Visits every tensor as f(name, tensor), in PyTorch's order, then
  /// weight_skip; empty biases and an empty weight_skip are skipped.
  template <class F> void for_each(F&& f) {
    f("weight_ih", weight_ih);
    f("weight_hh", weight_hh);
    if (bias_ih.size() > 0) f("bias_ih", bias_ih);
    if (bias_hh.size() > 0) f("bias_hh", bias_hh);
    if (weight_skip.size() > 0) f("weight_skip", weight_skip);
  }
  template <class F> void for_each(F&& f) const {
    const_cast<RecurrentParams*>(this)->for_each([&](const char* name, const auto& t) { f(name, t); });
  }
};

/// The gradients of a cell of the family (cell.hpp).
template <Scalar S>
using RecurrentGradients = CellGradients<RecurrentParams<S>, S>;

/// Throws InvalidInput unless every tensor of grads has the shape of its
/// parameter; the message names it ("grads.weight_hh: expected shape (16, 4), got (4, 4)").
template <Scalar S>
void check_gradient_shapes(const RecurrentParams<S>& params, const RecurrentParams<S>& grads) {
  check_shape("grads.weight_ih", grads.weight_ih, params.weight_ih.rows(), params.weight_ih.cols());
  check_shape("grads.weight_hh", grads.weight_hh, params.weight_hh.rows(), params.weight_hh.cols());
  check_shape("grads.bias_ih", grads.bias_ih, params.bias_ih.size(), 1);
  check_shape("grads.bias_hh", grads.bias_hh, params.bias_hh.size(), 1);
  check_shape("grads.weight_skip", grads.weight_skip, params.weight_skip.rows(), params.weight_skip.cols());
}

/// The part of a cell of the nn.RNN family that its equations do not change
/// (the file comment). Cell derives from it (CRTP).
template <class Cell, Scalar S, class CellCache>
class RecurrentCellBase {
 public:
  using Scalar = S;
  using Params = RecurrentParams<S>;
  using Cache = CellCache;
  using Gradients = CellGradients<Params, S>;

  /// PyTorch's default initialisation: every tensor uniform on [-1/sqrt(H), 1/sqrt(H)].
  void init_uniform(Rng& rng) {
    const double k = 1.0 / std::sqrt(static_cast<double>(output_size()));
    params.for_each([&](const char*, auto& t) { t = rng.uniform_matrix<S>(t.rows(), t.cols(), -k, k); });
  }

  Index input_size() const { return params.weight_ih.cols(); }
  /// H: the columns of weight_hh (G, H); the rows of a one-gate cell's square
  /// weight_hh, so that a non-square one is reported against its row count.
  Index output_size() const { return Cell::kLayout.gates == 1 ? params.weight_hh.rows() : params.weight_hh.cols(); }
  /// The blocks of H rows in the state; a cell whose count is set at run time hides it.
  Index state_blocks() const { return Cell::kLayout.state_blocks; }
  Index state_size() const { return cell().state_blocks() * output_size(); }

  /// Checks every parameter's shape and finiteness; throws InvalidInput naming the tensor.
  void validate() const {
    const Index G = Cell::kLayout.gates * output_size(), H = output_size(), I = input_size();
    check_shape("weight_hh", params.weight_hh, G, H);
    check_shape("weight_ih", params.weight_ih, G, I);
    require((params.bias_ih.size() > 0) == (params.bias_hh.size() > 0),
            std::string(Cell::kLayout.name) + ": bias_ih and bias_hh must both be present or both absent");
    if (params.bias_ih.size() > 0) {
      check_shape("bias_ih", params.bias_ih, G, 1);
      check_shape("bias_hh", params.bias_hh, G, 1);
    }
    if (Cell::kLayout.skip_weight) check_shape("weight_skip", params.weight_skip, H, H);
    params.for_each([](const char* name, const auto& t) { check_finite(name, t); });
  }

  /// Runs the sequence x (I, T*B) from state0 (S, B), or from zeros if it is
  /// empty, into c, whose storage is reused when the shapes repeat.
  void forward(const Mat<S>& x, Index batch, const Mat<S>& state0, Cache& c) const;
  /// The same into a new cache.
  Cache forward(const Mat<S>& x, Index batch, const Mat<S>& state0 = {}) const {
    Cache c;
    forward(x, batch, state0, c);
    return c;
  }
  /// The outputs h_0 .. h_{T-1}, (H, T*B): the top H rows of the states (a
  /// cell that keeps its states otherwise hides output and final_state).
  auto output(const Cache& c) const {
    if constexpr (Cell::kLayout.state_blocks == 1)
      return c.states.rightCols(c.steps * c.batch);
    else
      return c.states.topRows(output_size()).rightCols(c.steps * c.batch);
  }
  /// The state after the last step, (S, B).
  auto final_state(const Cache& c) const { return c.states.rightCols(c.batch); }

  /// Gradients with the right shapes, all zero.
  Gradients zero_gradients(const Cache& c) const {
    Gradients g;
    g.params = params;
    g.params.for_each([](const char*, auto& t) { t.setZero(); });
    g.d_input = Mat<S>::Zero(input_size(), c.steps * c.batch);
    g.d_state0 = Mat<S>::Zero(cell().state_size(), c.batch);
    return g;
  }
  /// See cell.hpp: the output cotangent whole, written block by block, or none;
  /// d_state and the result (S, B).
  Mat<S> backward_range(const Cache& c, const OutputCotangent<S>& d_output, const Mat<S>& d_state, Index t0,
                        Index t1, Gradients& grads) const;
  /// The same with the output cotangent d_output (H, (t1-t0)*B), or empty for none.
  Mat<S> backward_range(const Cache& c, const Mat<S>& d_output, const Mat<S>& d_state, Index t0, Index t1,
                        Gradients& grads) const {
    return backward_range(c, OutputCotangent<S>::of(d_output), d_state, t0, t1, grads);
  }
  /// d state_t / d state_{t-1} for batch element b, (S, S), into J (its storage
  /// reused when it has that shape).
  void step_jacobian(const Cache& c, Index t, Index b, Mat<S>& J) const;
  /// The same into a new matrix.
  Mat<S> step_jacobian(const Cache& c, Index t, Index b) const {
    Mat<S> J;
    step_jacobian(c, t, b, J);
    return J;
  }

  /// Zero weights for input_size inputs and hidden_size units; `bias` false drops both bias vectors.
  RecurrentCellBase(Index input_size, Index hidden_size, bool bias = true) {
    require(input_size > 0 && hidden_size > 0,
            std::string(Cell::kLayout.name) + ": input and hidden sizes must be positive");
    const Index G = Cell::kLayout.gates * hidden_size;
    params.weight_ih = Mat<S>::Zero(G, input_size);
    params.weight_hh = Mat<S>::Zero(G, hidden_size);
    if (bias) {
      params.bias_ih = Vec<S>::Zero(G);
      params.bias_hh = Vec<S>::Zero(G);
    }
    if (Cell::kLayout.skip_weight) params.weight_skip = Mat<S>::Zero(hidden_size, hidden_size);
  }

  Params params;

  /// How forward lays out the states before the cell's equations run: s_{-1} =
  /// state0 (or zeros) in the first B columns of (S, (T+1)*B). A cell that keeps
  /// its states otherwise hides it.
  void initial_states(Cache& c, const Mat<S>& state0) const {
    const Index n = cell().state_size(), B = c.batch;
    c.states.resize(n, (c.steps + 1) * B);
    if (state0.size() == 0) {
      c.states.leftCols(B).setZero();
    } else {
      check_shape(Cell::kLayout.initial_state, state0, n, B);
      check_finite(Cell::kLayout.initial_state, state0);
      c.states.leftCols(B) = state0;
    }
  }

 private:
  const Cell& cell() const { return static_cast<const Cell&>(*this); }
};

}  // namespace rnnscope
