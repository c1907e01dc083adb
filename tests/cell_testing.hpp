// Test helpers that work on any cell through the cell contract (cells/cell.hpp),
// built from forward passes and finite differences only, so they check the
// cells' backward passes and Jacobians independently of them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "rnnscope/cells/cell.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/skip_rnn.hpp"
#include "rnnscope/sequence/bptt.hpp"

namespace rnnscope::check {

/// A cell with PyTorch's default initialisation: Elman cells are tanh, CT-RNNs
/// take dt = 0.3 (so that neither the leak nor the tanh term dominates), skip
/// cells K = 3 and U(-1/sqrt(H), 1/sqrt(H)) for weight_skip too;
/// `bias` false makes it without bias vectors.
template <class Cell>
Cell make_cell(Index input_size, Index hidden_size, Rng& rng, bool bias = true) {
  Cell c = [&] {
    if constexpr (std::is_same_v<Cell, Elman<double>>) return Cell(input_size, hidden_size, Activation::tanh, bias);
    else if constexpr (std::is_same_v<Cell, EulerRnn<double>>) return Cell(input_size, hidden_size, 0.3, bias);
    else if constexpr (std::is_same_v<Cell, SkipRnn<double>>) return Cell(input_size, hidden_size, 3, Activation::tanh, bias);
    else return Cell(input_size, hidden_size, bias);
  }();
  c.init_uniform(rng);
  return c;
}

/// All parameter gradients of a Gradients struct, flattened in for_each order.
template <class Params>
Vec<double> flatten(const Params& p) {
  std::vector<double> v;
  p.for_each([&](const char*, const auto& t) {
    for (Index i = 0; i < t.size(); ++i) v.push_back(static_cast<double>(t.data()[i]));
  });
  return Eigen::Map<Vec<double>>(v.data(), static_cast<Index>(v.size()));
}

/// Central-difference gradient of loss() with respect to every entry of `values`.
inline Vec<double> numeric_gradient(const std::function<double()>& loss, double* values, Index n,
                                    double h = 1e-6) {
  Vec<double> g(n);
  for (Index i = 0; i < n; ++i) {
    const double saved = values[i];
    values[i] = saved + h;
    const double up = loss();
    values[i] = saved - h;
    const double down = loss();
    values[i] = saved;
    g(i) = (up - down) / (2 * h);
  }
  return g;
}

/// Central-difference gradient with respect to all parameters, in for_each order.
template <class Cell>
Vec<double> numeric_param_gradient(Cell& cell, const std::function<double()>& loss) {
  std::vector<double> v;
  for_each_param(cell, [&](const char*, auto& t) {
    const Vec<double> g = numeric_gradient(loss, t.data(), t.size());
    v.insert(v.end(), g.data(), g.data() + g.size());
  });
  return Eigen::Map<Vec<double>>(v.data(), static_cast<Index>(v.size()));
}

/// One step of the cell from state_prev (S, B) on input x_t (I, B): the new state (S, B).
template <class Cell>
Mat<double> one_step(const Cell& cell, const Mat<double>& x_t, const Mat<double>& state_prev) {
  const auto c = cell.forward(x_t, x_t.cols(), state_prev);
  return cell.final_state(c);
}

/// d state_t / d state_{t-1} for batch element b by central differences of one step.
template <class Cell>
Mat<double> numeric_step_jacobian(const Cell& cell, const Mat<double>& x_t, Mat<double> state_prev,
                                  Index b) {
  const Index S = state_prev.rows();
  Mat<double> J(S, S);
  const double h = 1e-6;
  for (Index j = 0; j < S; ++j) {
    const double saved = state_prev(j, b);
    state_prev(j, b) = saved + h;
    const Mat<double> up = one_step(cell, x_t, state_prev);
    state_prev(j, b) = saved - h;
    const Mat<double> down = one_step(cell, x_t, state_prev);
    state_prev(j, b) = saved;
    J.col(j) = (up.col(b) - down.col(b)) / (2 * h);
  }
  return J;
}

struct BruteForceGradients {
  Vec<double> params;  // flattened, for_each order
  Mat<double> d_input;
  Mat<double> d_state0;
};

/// Truncated BPTT by its definition: dL/dtheta = sum_t sum_{t-K < k <= t}
/// v_t (dh_t/dh_k) (d+h_k/dtheta), with v_t the cotangent arriving at step t,
/// dh_t/dh_k a product of finite-difference step Jacobians and d+h_k/dtheta the
/// immediate partial (h_{k-1} held fixed), taken by finite differences of one step.
/// The initial state receives v_t dh_t/dh_{-1} for t < K. K = 0 gives full BPTT.
template <class Cell>
BruteForceGradients brute_force_bptt(Cell& cell, Mat<double> x, Index batch, const Mat<double>& state0,
                                     const Mat<double>& d_output, const Mat<double>& d_final, Index K) {
  const Index B = batch, T = x.cols() / B, S = cell.state_size(), H = cell.output_size();
  if (K == 0) K = T + 1;
  // States s_{-1} .. s_{T-1}, column block k+1 is s_k.
  std::vector<Mat<double>> states{state0};
  for (Index t = 0; t < T; ++t) states.push_back(one_step(cell, x.middleCols(t * B, B), states.back()));
  // u_k: the total cotangent each state s_k receives within the windows (S, B).
  std::vector<Mat<double>> u(static_cast<size_t>(T + 1), Mat<double>::Zero(S, B));
  for (Index b = 0; b < B; ++b) {
    for (Index t = 0; t < T; ++t) {
      Vec<double> r = Vec<double>::Zero(S);
      r.segment(output_offset(cell), H) = d_output.col(t * B + b);
      if (t == T - 1) r += d_final.col(b);
      for (Index k = t; k >= -1 && t - k <= K; --k) {
        if (k >= 0 && t - k >= K) break;
        u[static_cast<size_t>(k + 1)].col(b) += r;
        if (k >= 0) {
          const Mat<double> J = numeric_step_jacobian(cell, x.middleCols(k * B, B), states[static_cast<size_t>(k)], b);
          r = (r.transpose() * J).transpose();
        }
      }
    }
  }
  BruteForceGradients g;
  Index n_params = 0;
  for_each_param(cell, [&](const char*, const auto& t) { n_params += t.size(); });
  g.params = Vec<double>::Zero(n_params);
  g.d_input = Mat<double>::Zero(x.rows(), x.cols());
  for (Index k = 0; k < T; ++k) {
    Mat<double> x_k = x.middleCols(k * B, B);
    const Mat<double>& prev = states[static_cast<size_t>(k)];
    const Mat<double>& uk = u[static_cast<size_t>(k + 1)];
    auto loss = [&] { return (one_step(cell, x_k, prev).array() * uk.array()).sum(); };
    g.params += numeric_param_gradient(cell, loss);
    const Vec<double> dx = numeric_gradient(loss, x_k.data(), x_k.size());
    g.d_input.middleCols(k * B, B) = Eigen::Map<const Mat<double>>(dx.data(), x.rows(), B);
  }
  g.d_state0 = u[0];
  return g;
}

/// Whether backward_range rejects gradients of a wrong shape, one tensor at a
/// time (a row too many), with InvalidInput naming it and both shapes
/// ("grads.weight_hh: expected shape (4, 4), got (5, 4)"), and accepts the
/// gradients zero_gradients makes. Returns the first failure, or "" if none.
template <class Cell>
std::string gradient_shape_failure(const Cell& cell, const typename Cell::Cache& c) {
  const auto grads = cell.zero_gradients(c);
  const auto message = [&](typename Cell::Gradients wrong) {
    try {
      cell.backward_range(c, Mat<typename Cell::Scalar>(), Mat<typename Cell::Scalar>(), 0, c.steps, wrong);
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  if (message(grads) != "no error") return "zero gradients rejected: " + message(grads);
  std::string failure;
  grads.params.for_each([&](const char* name, const auto& t) {
    auto wrong = grads;
    bool done = false;
    wrong.params.for_each([&](const char* other, auto& w) {
      if (std::string(other) == name && !done) {
        w.resize(t.rows() + 1, t.cols());
        done = true;
      }
    });
    const std::string expected = "grads." + std::string(name) + ": expected shape (" + std::to_string(t.rows()) +
                                 ", " + std::to_string(t.cols()) + "), got (" + std::to_string(t.rows() + 1) +
                                 ", " + std::to_string(t.cols()) + ")";
    const std::string got = message(wrong);
    if (failure.empty() && got != expected) failure = "expected \"" + expected + "\", got \"" + got + "\"";
  });
  return failure;
}

/// Normwise relative difference ||a - b|| / max(||a||, ||b||, tiny).
template <class A, class Bm>
double relative_difference(const A& a, const Bm& b) {
  const double d = (a - b).norm();
  return d / std::max({a.norm(), b.norm(), 1e-300});
}

}  // namespace rnnscope::check
