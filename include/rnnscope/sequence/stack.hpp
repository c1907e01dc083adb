// A stack of L layers of one cell type (PyTorch's num_layers): layer 0 reads
// the input sequence, layer l reads the outputs of layer l-1, and the stack's
// output is the top layer's. Parameter names gain PyTorch's layer suffix
// (weight_hh_l1, ...). The stack's state is the layers' states stacked in
// layer order, [s^0; s^1; ...; s^{L-1}] ((L*S, B)), and its output lies at
// rows output_offset() .. + H of it (the top layer's first H rows).
//
// BPTT runs through all layers: the backward of layer l over a range of steps
// yields the cotangent of its input over that range, which is the output
// cotangent of layer l-1 over the same range. The stack meets the cell contract
// of cells/cell.hpp except step_jacobian: the diagnostics analyse a stack layer
// by layer (layer(l) with layer_cache(l)).
#pragma once

#include <string>
#include <vector>

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

/// The layers' parameters; a type of its own for each cell type.
template <class Cell>
struct StackParams : LayerParams<typename Cell::Params> {};

template <class Cell>
struct StackCache {
  Index steps = 0, batch = 0;
  std::vector<typename Cell::Cache> layers;
};

/// A cell's error message as the stack's: a leading parameter name gets the
/// layer's PyTorch suffix ("weight_hh has ..." in layer 1 becomes "weight_hh_l1
/// has ..."), anything else is prefixed with the layer.
inline std::string name_layer_in_message(const std::string& message, int layer) {
  for (const char* p : {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_skip"}) {
    const std::string name = p;
    if (message.rfind(name, 0) == 0 && message.size() > name.size() &&
        (message[name.size()] == ' ' || message[name.size()] == ':'))
      return layer_name(name, layer) + message.substr(name.size());
  }
  return "layer " + std::to_string(layer) + ": " + message;
}

template <class Cell>
class Stack {
 public:
  using Scalar = typename Cell::Scalar;
  using S = Scalar;
  using Params = StackParams<Cell>;
  using Cache = StackCache<Cell>;
  using Gradients = CellGradients<Params, S>;

  /// Takes the layers; layer l > 0 must read the output size of layer l-1.
  explicit Stack(std::vector<Cell> layers) : cells_(std::move(layers)) {
    require(!cells_.empty(), "a stack needs at least one layer");
    for (size_t l = 1; l < cells_.size(); ++l)
      require(cells_[l].input_size() == cells_[l - 1].output_size(),
              "layer " + std::to_string(l) + " reads " + std::to_string(cells_[l].input_size()) +
                  " inputs but layer " + std::to_string(l - 1) + " outputs " +
                  std::to_string(cells_[l - 1].output_size()));
  }

  Index num_layers() const { return static_cast<Index>(cells_.size()); }
  Index input_size() const { return cells_.front().input_size(); }
  Index output_size() const { return cells_.back().output_size(); }
  Index layer_state_size(Index l) const { return cells_[static_cast<size_t>(l)].state_size(); }
  Index state_size() const {
    Index n = 0;
    for (const auto& c : cells_) n += c.state_size();
    return n;
  }
  Index output_offset() const { return state_size() - cells_.back().state_size(); }

  Cell& layer(Index l) { return cells_[static_cast<size_t>(l)]; }
  const Cell& layer(Index l) const { return cells_[static_cast<size_t>(l)]; }
  const typename Cell::Cache& layer_cache(const Cache& c, Index l) const { return c.layers[static_cast<size_t>(l)]; }

  /// Visits every layer's parameters in place, with PyTorch's layer-suffixed names.
  template <class F> void for_each_param(F&& f) {
    for_each_layer_param(cells_, [](auto& cell) -> auto& { return cell.params; }, f);
  }

  /// The parameters of every layer (a copy; set them with set_params).
  Params params() const {
    Params p;
    for (const auto& c : cells_) p.layers.push_back(c.params);
    return p;
  }
  void set_params(const Params& p) {
    require(p.layers.size() == cells_.size(), "stack parameters: wrong number of layers");
    for (size_t l = 0; l < cells_.size(); ++l) cells_[l].params = p.layers[l];
  }

  /// x (I, T*B); state0 (L*S, B) in layer order, or empty for zeros.
  Cache forward(const Mat<S>& x, Index batch, const Mat<S>& state0 = {}) const {
    if (state0.size() > 0) check_shape("state0", state0, state_size(), batch);
    Cache c;
    Index row = 0;
    for (size_t l = 0; l < cells_.size(); ++l) {
      const Index sl = cells_[l].state_size();
      const Mat<S> s0 = state0.size() > 0 ? Mat<S>(state0.middleRows(row, sl)) : Mat<S>();
      try {
        if (l == 0) {
          c.layers.push_back(cells_[l].forward(x, batch, s0));
        } else {
          const Mat<S> below = cells_[l - 1].output(c.layers[l - 1]);
          c.layers.push_back(cells_[l].forward(below, batch, s0));
        }
      } catch (const InvalidInput& e) {
        throw InvalidInput(name_layer_in_message(e.what(), static_cast<int>(l)));
      }
      row += sl;
    }
    c.steps = c.layers.front().steps;
    c.batch = batch;
    return c;
  }

  auto output(const Cache& c) const { return cells_.back().output(c.layers.back()); }
  Mat<S> final_state(const Cache& c) const {
    Mat<S> s(state_size(), c.batch);
    Index row = 0;
    for (size_t l = 0; l < cells_.size(); ++l) {
      s.middleRows(row, cells_[l].state_size()) = cells_[l].final_state(c.layers[l]);
      row += cells_[l].state_size();
    }
    return s;
  }

  Gradients zero_gradients(const Cache& c) const {
    Gradients g;
    for (size_t l = 0; l < cells_.size(); ++l) g.params.layers.push_back(cells_[l].zero_gradients(c.layers[l]).params);
    g.d_input = Mat<S>::Zero(input_size(), c.steps * c.batch);
    g.d_state0 = Mat<S>::Zero(state_size(), c.batch);
    return g;
  }

  /// See cell.hpp: the range's backward through every layer, top to bottom.
  Mat<S> backward_range(const Cache& c, const Mat<S>& d_output, const Mat<S>& d_state, Index t0, Index t1,
                        Gradients& grads) const {
    const Index B = c.batch, n = (t1 - t0) * B;
    if (d_state.size() > 0) check_shape("d_state", d_state, state_size(), B);
    Mat<S> d_before(state_size(), B);
    Mat<S> d_out = d_output;  // cotangent of the current layer's outputs over the range
    Index row = state_size();
    for (Index l = num_layers() - 1; l >= 0; --l) {
      const Cell& cell = cells_[static_cast<size_t>(l)];
      const Index sl = cell.state_size();
      row -= sl;
      typename Cell::Gradients lg;
      std::swap(lg.params, grads.params.layers[static_cast<size_t>(l)]);
      std::swap(lg.workspace, grads.workspace);  // one scratch for every layer, kept in grads
      if (l == 0) {
        std::swap(lg.d_input, grads.d_input);
        lg.input_gradient = grads.input_gradient;
      } else {
        lg.d_input = Mat<S>::Zero(cell.input_size(), c.steps * B);  // the next layer down's d_output
      }
      const Mat<S> ds = d_state.size() > 0 ? Mat<S>(d_state.middleRows(row, sl)) : Mat<S>();
      d_before.middleRows(row, sl) = cell.backward_range(c.layers[static_cast<size_t>(l)], d_out, ds, t0, t1, lg);
      std::swap(lg.params, grads.params.layers[static_cast<size_t>(l)]);
      std::swap(lg.workspace, grads.workspace);
      if (l == 0) {
        std::swap(lg.d_input, grads.d_input);
      } else {
        d_out = lg.d_input.middleCols(t0 * B, n);
      }
    }
    return d_before;
  }

 private:
  std::vector<Cell> cells_;
};

}  // namespace rnnscope
