// A 1-D convolution layer with PyTorch's nn.Conv1d semantics, which is a
// cross-correlation, and a stack of causal ones (a temporal convolutional net).
//
//   y[co, t] = b[co] + sum_ci sum_k w[co, ci, k] x[ci, t*stride - padding + k*dilation]
//   with x = 0 outside 0 <= s < T, and T_out = floor((T + 2 padding - dilation (K-1) - 1) / stride) + 1
//   causal mode: dilation (K-1) zeros on the left only, stride 1, so T_out = T and
//   y_t reads x_{t - dilation (K-1)} .. x_t, never a later step.
//   backward   db[co]        = sum_t dy[co, t]
//              dw[co, ci, k] = sum_t dy[co, t] x[ci, t*stride - padding + k*dilation]
//              dx[ci, s]     = sum over (co, k, t) with t*stride - padding + k*dilation = s of w[co, ci, k] dy[co, t]
//   With stride 1, dx = sum_k W_k^T dy_{s + padding - k dilation}: a true convolution
//   of dy with the kernel, where the forward pass is a correlation (docs/cells.md).
//
// Computed one kernel tap at a time: with W_k = w[:, :, k] (C_out, C_in) and
// o_k = k dilation - padding, y[:, t] += W_k x[:, t*stride + o_k] is one GEMM over
// every output step (all batch elements) whose input step lies inside the
// sequence; padding costs nothing. Stride 1 reads those columns in place;
// larger strides gather them into one buffer first.
//
// Letters: T input steps, T_out output steps, B batch, C_in and C_out channels,
// K kernel size. Sequences are time-major as everywhere (tensor.hpp): x (C_in, T*B),
// y (C_out, T_out*B), column t*B + b is step t of batch element b.
//
// Weight layout: PyTorch's weight (C_out, C_in, K) is stored as the matrix
// weight (C_out, C_in*K) whose column ci*K + k is PyTorch's weight[:, ci, k].
// That is PyTorch's tensor viewed as (C_out, C_in*K) (its last two dimensions
// flattened, row-major), so it converts like every other 2-D weight. W_k is a
// strided view of it (tap()). PyTorch names: weight, bias (C_out).
#pragma once

#include <string>
#include <vector>

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/cells/cell.hpp"
#include "rnnscope/core/random.hpp"

namespace rnnscope {

struct Conv1dOptions {
  Index stride = 1;
  Index padding = 0;    // zeros added at each end of the sequence
  Index dilation = 1;
  bool causal = false;  // pad dilation (K-1) zeros on the left only; needs stride 1 and padding 0
  bool bias = true;
};

template <Scalar S>
struct Conv1dParams {
  Mat<S> weight;  // (C_out, C_in*K): column ci*K + k is PyTorch's weight[:, ci, k]
  Vec<S> bias;    // (C_out), or empty for a layer without bias

  /// Visits every tensor as f(name, tensor), in PyTorch's order; an empty bias is skipped.
  template <class F> void for_each(F&& f) {
    f("weight", weight);
    if (bias.size() > 0) f("bias", bias);
  }
  template <class F> void for_each(F&& f) const {
    const_cast<Conv1dParams*>(this)->for_each([&](const char* name, const auto& t) { f(name, t); });
  }
};

template <Scalar S>
struct Conv1dCache {
  Index steps = 0;      // T
  Index out_steps = 0;  // T_out
  Index batch = 0;      // B
  Mat<S> input;         // (C_in, T*B), what backward needs
  Mat<S> output;        // (C_out, T_out*B)
};

template <Scalar S>
struct Conv1dGradients {
  Conv1dParams<S> params;  // same shapes as the parameters
  Mat<S> d_input;          // (C_in, T*B)
};

template <Scalar S>
class Conv1d {
 public:
  using Scalar = S;
  using Params = Conv1dParams<S>;
  using Cache = Conv1dCache<S>;
  using Gradients = Conv1dGradients<S>;
  using TapView = Eigen::Map<const Mat<S>, 0, Eigen::OuterStride<>>;

  /// A layer with zero weights. Throws InvalidInput for a non-positive size,
  /// stride or dilation, a negative padding, or a causal layer with stride or padding.
  Conv1d(Index in_channels, Index out_channels, Index kernel_size, const Conv1dOptions& options = {});

  /// PyTorch's default: weight and bias uniform on [-1/sqrt(C_in K), 1/sqrt(C_in K)].
  void init_uniform(Rng& rng);

  Index in_channels() const { return in_channels_; }
  Index out_channels() const { return out_channels_; }
  Index kernel_size() const { return kernel_size_; }
  Index stride() const { return stride_; }
  /// The symmetric padding (0 in causal mode, which pads left_padding() on the left only).
  Index padding() const { return padding_; }
  Index dilation() const { return dilation_; }
  bool causal() const { return causal_; }
  Index left_padding() const { return causal_ ? dilation_ * (kernel_size_ - 1) : padding_; }
  Index right_padding() const { return padding_; }
  /// Input steps one output step reads: dilation (K-1) + 1.
  Index receptive_field() const { return dilation_ * (kernel_size_ - 1) + 1; }
  /// T_out for T input steps; throws InvalidInput if the sequence yields no output step.
  Index output_steps(Index steps) const;

  /// W_k = w[:, :, k], (C_out, C_in): a view into params.weight.
  TapView tap(Index k) const;

  /// Checks every parameter's shape and finiteness; throws InvalidInput naming the tensor.
  void validate() const;

  /// Runs the sequence x (C_in, T*B). Taken by value: pass an rvalue to move it into the cache.
  Cache forward(Mat<S> x, Index batch) const;
  const Mat<S>& output(const Cache& c) const { return c.output; }

  /// Gradients with the right shapes, all zero.
  Gradients zero_gradients(const Cache& c) const;
  /// The vector-Jacobian product for d_output (C_out, T_out*B): parameter
  /// gradients and d_input accumulate (+=) into grads.
  void backward(const Cache& c, const Mat<S>& d_output, Gradients& grads) const;
  /// The same, accumulating into d_params and d_input (C_in, T*B) held elsewhere.
  void backward(const Cache& c, const Mat<S>& d_output, Params& d_params, Mat<S>& d_input) const;

  Params params;

 private:
  /// Output steps t_first .. t_first + count - 1 of tap k read inside the input.
  struct TapRange {
    Index t_first = 0, count = 0, s_first = 0;  // s_first: the input step read by t_first
  };
  TapRange tap_range(Index k, Index steps, Index out_steps) const;

  Index in_channels_, out_channels_, kernel_size_, stride_, padding_, dilation_;
  bool causal_;
};

/// One layer of a ConvStack: a causal Conv1d from the previous layer's channels.
struct CausalConvSpec {
  Index out_channels = 1;
  Index kernel_size = 2;
  Index dilation = 1;
};

template <Scalar S>
struct ConvStackCache {
  Index steps = 0;  // T (every layer is causal, so every layer has T steps)
  Index batch = 0;  // B
  /// Per layer; layer l > 0 holds its input f(y_{l-1}), which is all its
  /// backward and f' need, so the hidden layers' pre-activations are not kept.
  std::vector<Conv1dCache<S>> layers;
};

/// Per layer (layers), the same shapes as the parameters, visited as weight_l0, bias_l0, ...
template <Scalar S>
struct ConvStackGradients : LayerParams<Conv1dParams<S>> {
  Mat<S> d_input;  // (C_in, T*B)
};

/// L causal Conv1d layers with f between them (none after the last):
///   h_0 = x, y_l = conv_l(h_l), h_{l+1} = f(y_l), output y_{L-1}.
/// Output step t reads input steps t - receptive_field() + 1 .. t.
template <Scalar S>
class ConvStack {
 public:
  using Scalar = S;
  using Cache = ConvStackCache<S>;
  using Gradients = ConvStackGradients<S>;

  ConvStack(Index in_channels, const std::vector<CausalConvSpec>& specs, Activation f, bool bias = true);

  /// Each layer's PyTorch default initialisation.
  void init_uniform(Rng& rng);

  Index in_channels() const { return layers.front().in_channels(); }
  Index out_channels() const { return layers.back().out_channels(); }
  Index num_layers() const { return static_cast<Index>(layers.size()); }
  Activation nonlinearity() const { return f_; }
  /// 1 + sum_l dilation_l (K_l - 1).
  Index receptive_field() const;

  /// Checks that every layer is causal, valid and takes the previous layer's channels.
  void validate() const;

  /// Runs the sequence x (C_in, T*B).
  Cache forward(const Mat<S>& x, Index batch) const;
  const Mat<S>& output(const Cache& c) const { return c.layers.back().output; }

  /// Gradients with the right shapes, all zero.
  Gradients zero_gradients(const Cache& c) const;
  /// The vector-Jacobian product for d_output (C_out, T*B), accumulating (+=) into grads.
  void backward(const Cache& c, const Mat<S>& d_output, Gradients& grads) const;

  /// Visits every parameter as f(name, tensor) with names weight_l0, bias_l0, weight_l1, ...
  template <class F> void for_each(F&& f) {
    for_each_layer_param(layers, [](auto& layer) -> auto& { return layer.params; }, f);
  }
  /// The same, under the name the generic visitor for_each_param (cell.hpp) looks for.
  template <class F> void for_each_param(F&& f) { for_each(f); }

  std::vector<Conv1d<S>> layers;

 private:
  Activation f_;
};

extern template class Conv1d<float>;
extern template class Conv1d<double>;
extern template class ConvStack<float>;
extern template class ConvStack<double>;

}  // namespace rnnscope
