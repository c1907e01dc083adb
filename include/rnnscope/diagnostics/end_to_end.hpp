// The end-to-end gradient of a stack: how much of a loss's gradient reaches
// the input, and every layer's output, t steps into the sequence, through the
// whole stack (docs/diagnostics.md, "End to end through a stack").
//
// T steps, B sequences, layers l = 0..N-1 (0 reads the input x), h^l_t the
// output of layer l at step t. For a cotangent d_output of the top layer's
// outputs (the loss L = sum_t <d_output_t, h^{N-1}_t>), per step and sequence b:
//
//   input:  ||dL/dx_t[:, b]||
//   h^l:    ||dL/dh^l_t[:, b]||, the total derivative: every path from h^l_t to
//           the loss, through layer l's own next steps and through the layers above
//
// This is what PyTorch's autograd gives for x.grad and for h^l_t.retain_grad()
// when the layers run step by step. The backward sweep goes one step at a
// time through every layer, top to bottom; at step t the cotangent reaching
// h^l_t is the state cotangent carried from step t+1 (its output rows) plus
// the cotangent of layer l+1's input at t (of the loss at t, for the top).
//
// Renormalised: each sequence's cotangents (every layer's state, and the
// loss's cotangent as it is added) are kept as a unit-scale vector and a log10
// scale, so a gradient far below the smallest double (1e-400 after 500 steps)
// keeps its digits, as in jacobian_chain.hpp. Only an exact zero is -inf.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/sequence/stack.hpp"

namespace rnnscope {

/// log10 of the norms, per step (rows, t = 0..T-1) and sequence (columns); -inf where exactly zero.
struct StackGradientNorms {
  Mat<double> input_log10;                // (T, B): log10 ||dL/dx_t[:, b]||
  std::vector<Mat<double>> hidden_log10;  // per layer l, (T, B): log10 ||dL/dh^l_t[:, b]||
};

/// The norms for the cotangent d_output (H, T*B) of the stack's outputs (the top layer's h).
template <class Cell>
StackGradientNorms stack_gradient_norms(const Stack<Cell>& stack, const StackCache<Cell>& cache,
                                        const Mat<double>& d_output) {
  using S = typename Cell::Scalar;
  const Index T = cache.steps, B = cache.batch, N = stack.num_layers();
  check_shape("d_output", d_output, stack.output_size(), T * B);
  const double inf = std::numeric_limits<double>::infinity();
  StackGradientNorms out;
  out.input_log10 = Mat<double>::Constant(T, B, -inf);
  out.hidden_log10.assign(static_cast<size_t>(N), Mat<double>::Constant(T, B, -inf));
  // Per layer: the state cotangent carried from the next step, in units of 10^scale[b]; the gradients object
  // receives the layer's input cotangent at column block t (the parameter gradients it sums are not read).
  std::vector<Mat<S>> d_state;
  std::vector<typename Cell::Gradients> grads;
  for (Index l = 0; l < N; ++l) {
    d_state.push_back(Mat<S>::Zero(stack.layer_state_size(l), B));
    grads.push_back(stack.layer(l).zero_gradients(stack.layer_cache(cache, l)));
  }
  std::vector<double> scale(static_cast<size_t>(B), -inf);  // -inf: nothing carried yet
  Mat<S> d_out;
  auto log10_norm = [&](const auto& v, Index b) {
    const double n = static_cast<double>(v.norm());
    return n > 0 ? std::log10(n) + scale[static_cast<size_t>(b)] : -inf;
  };
  for (Index t = T - 1; t >= 0; --t) {
    // The loss's cotangent at t joins the carried ones: both rescaled to the larger of the two scales.
    d_out = d_output.middleCols(t * B, B).template cast<S>();
    for (Index b = 0; b < B; ++b) {
      const double loss_norm = d_output.col(t * B + b).norm();
      if (loss_norm == 0) {
        d_out.col(b).setZero();
        continue;
      }
      double& s = scale[static_cast<size_t>(b)];
      const double m = std::max(s, std::log10(loss_norm));
      const S carried = static_cast<S>(std::isinf(s) ? 0.0 : std::pow(10.0, s - m));
      for (auto& d : d_state) d.col(b) *= carried;
      d_out.col(b) *= static_cast<S>(std::pow(10.0, -m));
      s = m;
    }
    for (Index l = N - 1; l >= 0; --l) {
      const auto& cell = stack.layer(l);
      const Index H = cell.output_size();
      Mat<double>& h = out.hidden_log10[static_cast<size_t>(l)];
      const Mat<S> total = d_state[static_cast<size_t>(l)].topRows(H) + d_out;  // dL/dh^l_t
      for (Index b = 0; b < B; ++b) h(t, b) = log10_norm(total.col(b), b);
      auto& g = grads[static_cast<size_t>(l)];
      d_state[static_cast<size_t>(l)] =
          cell.backward_range(stack.layer_cache(cache, l), d_out, d_state[static_cast<size_t>(l)], t, t + 1, g);
      d_out = g.d_input.middleCols(t * B, B);  // the cotangent of layer l-1's output (of x, for l = 0) at t
    }
    for (Index b = 0; b < B; ++b) out.input_log10(t, b) = log10_norm(d_out.col(b), b);
    // Renormalise every sequence's carried cotangents together (one scale per sequence across the layers).
    for (Index b = 0; b < B; ++b) {
      double n2 = 0;
      for (const auto& d : d_state) n2 += static_cast<double>(d.col(b).squaredNorm());
      if (!(n2 > 0)) continue;
      const double n = std::sqrt(n2);
      for (auto& d : d_state) d.col(b) /= static_cast<S>(n);
      scale[static_cast<size_t>(b)] += std::log10(n);
    }
  }
  return out;
}

}  // namespace rnnscope
