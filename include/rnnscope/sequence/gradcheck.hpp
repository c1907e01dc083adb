// A gradient checker: central finite differences in double against analytic
// gradients, returning a report per tensor (after Ceres' GradientChecker). It
// serves the tests and `rnnscope check`.
//
// The error of a tensor is normwise, ||analytic - numeric||_2 / max(||analytic||_2,
// ||numeric||_2, 1e-300): entrywise relative errors are meaningless on entries
// that are zero or nearly so.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/random.hpp"
#include "rnnscope/sequence/bptt.hpp"

namespace rnnscope {

struct CheckedTensor {
  std::string name;
  double* values;           // perturbed in place, restored afterwards
  Index size;
  const double* analytic;   // the gradient claimed for `values`
};

struct TensorCheck {
  std::string name;
  Index size = 0;
  double relative_error = 0;  // normwise, see above
  double max_abs_error = 0;
  Index worst_index = 0;      // entry with the largest absolute error
  double analytic_at_worst = 0;
  double numeric_at_worst = 0;
};

struct GradientCheckReport {
  std::vector<TensorCheck> tensors;
  double step = 0;
  double worst_relative_error() const;
  bool passed(double tolerance) const { return worst_relative_error() < tolerance; }
  /// One line per tensor: name, size, relative error, worst entry.
  std::string to_string() const;
};

/// Central differences (loss(v + h) - loss(v - h)) / 2h for every entry of every tensor.
GradientCheckReport check_gradients(const std::function<double()>& loss,
                                    const std::vector<CheckedTensor>& tensors, double step = 1e-5);

/// Visits a gradient struct's parameter tensors as f(name, tensor), in the
/// model's parameter order: its `params` member, or the struct itself where it
/// is the per-layer parameters (ConvStackGradients).
template <class Gradients, class F>
void for_each_param_gradient(Gradients& grads, F&& f) {
  if constexpr (requires { grads.params.for_each(f); })
    grads.params.for_each(f);
  else
    grads.for_each(f);
}

/// Every parameter tensor of `model` with its analytic gradient from `grads`, for check_gradients.
template <class Model, class Gradients>
std::vector<CheckedTensor> parameter_checks(Model& model, Gradients& grads) {
  std::vector<const double*> analytic;
  for_each_param_gradient(grads, [&](const char*, const auto& t) { analytic.push_back(t.data()); });
  std::vector<CheckedTensor> tensors;
  for_each_param(model, [&](const char* name, auto& t) {
    tensors.push_back({name, t.data(), t.size(), analytic.at(tensors.size())});
  });
  return tensors;
}

/// Checks a cell's BPTT gradients on the loss <R, y> + <r, state_T> with random
/// projections R and r (a uniform upstream gradient would hide bugs): every
/// parameter tensor, the input and the initial state.
template <class Cell>
GradientCheckReport check_cell_gradients(Cell& cell, Mat<double> x, Index batch, Mat<double> state0,
                                         Rng& rng, double step = 1e-5) {
  const Index T = x.cols() / batch;
  const Mat<double> R = rng.normal_matrix<double>(cell.output_size(), T * batch);
  const Mat<double> r = rng.normal_matrix<double>(cell.state_size(), batch);
  auto loss = [&] {
    const auto cache = cell.forward(x, batch, state0);
    return (cell.output(cache).array() * R.array()).sum() +
           (cell.final_state(cache).array() * r.array()).sum();
  };
  const auto cache = cell.forward(x, batch, state0);
  auto grads = bptt(cell, cache, R, r);
  std::vector<CheckedTensor> tensors = parameter_checks(cell, grads);
  tensors.push_back({"input", x.data(), x.size(), grads.d_input.data()});
  tensors.push_back({"state0", state0.data(), state0.size(), grads.d_state0.data()});
  return check_gradients(loss, tensors, step);
}

/// The same for a layer without state that maps a whole sequence at once (a
/// Conv1d, a ConvStack: forward(x, batch), backward(cache, dy, grads)), on the
/// loss <R, y> with a random projection R: every parameter tensor and the input.
template <class Layer>
GradientCheckReport check_layer_gradients(Layer& layer, Mat<double> x, Index batch, Rng& rng, double step = 1e-5) {
  const auto cache = layer.forward(x, batch);
  const Mat<double> R = rng.normal_matrix<double>(layer.output(cache).rows(), layer.output(cache).cols());
  auto loss = [&] { return (layer.output(layer.forward(x, batch)).array() * R.array()).sum(); };
  auto grads = layer.zero_gradients(cache);
  layer.backward(cache, R, grads);
  std::vector<CheckedTensor> tensors = parameter_checks(layer, grads);
  tensors.push_back({"input", x.data(), x.size(), grads.d_input.data()});
  return check_gradients(loss, tensors, step);
}

}  // namespace rnnscope
