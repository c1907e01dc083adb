#include "rnnscope/cells/conv1d.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

template <Scalar S>
Conv1d<S>::Conv1d(Index in_channels, Index out_channels, Index kernel_size, const Conv1dOptions& options)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size),
      stride_(options.stride),
      padding_(options.padding),
      dilation_(options.dilation),
      causal_(options.causal) {
  require(in_channels > 0 && out_channels > 0, "Conv1d: in_channels and out_channels must be positive");
  require(kernel_size > 0, fmt::format("Conv1d: kernel_size must be positive, got {}", kernel_size));
  require(stride_ > 0, fmt::format("Conv1d: stride must be positive, got {}", stride_));
  require(dilation_ > 0, fmt::format("Conv1d: dilation must be positive, got {}", dilation_));
  require(padding_ >= 0, fmt::format("Conv1d: padding must be >= 0, got {}", padding_));
  require(!causal_ || (stride_ == 1 && padding_ == 0),
          fmt::format("Conv1d: causal mode needs stride 1 and padding 0 (it pads dilation*(K-1) on the "
                      "left itself), got stride {} and padding {}",
                      stride_, padding_));
  params.weight = Mat<S>::Zero(out_channels, in_channels * kernel_size);
  if (options.bias) params.bias = Vec<S>::Zero(out_channels);
}

template <Scalar S>
void Conv1d<S>::init_uniform(Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(in_channels_ * kernel_size_));
  params.for_each([&](const char*, auto& t) { t = rng.uniform_matrix<S>(t.rows(), t.cols(), -k, k); });
}

template <Scalar S>
Index Conv1d<S>::output_steps(Index steps) const {
  const Index span = dilation_ * (kernel_size_ - 1) + 1;
  const Index reach = steps + left_padding() + right_padding() - span;
  if (reach < 0)
    throw InvalidInput(fmt::format(
        "input: {} steps give no output step; kernel_size {}, dilation {} and padding {} need at least {}",
        steps, kernel_size_, dilation_, padding_, span - left_padding() - right_padding()));
  return reach / stride_ + 1;
}

template <Scalar S>
typename Conv1d<S>::TapView Conv1d<S>::tap(Index k) const {
  // weight(co, ci*K + k) lives at data + (ci*K + k) C_out + co: column ci of W_k
  // starts at data + k C_out, and consecutive columns are K C_out apart.
  return TapView(params.weight.data() + k * out_channels_, out_channels_, in_channels_,
                 Eigen::OuterStride<>(kernel_size_ * out_channels_));
}

template <Scalar S>
typename Conv1d<S>::TapRange Conv1d<S>::tap_range(Index k, Index steps, Index out_steps) const {
  // Output step t reads input step s = t*stride + o with o = k dilation - left padding.
  const Index o = k * dilation_ - left_padding();
  TapRange r;
  r.t_first = o >= 0 ? 0 : (-o + stride_ - 1) / stride_;
  if (steps - 1 - o < 0) return r;
  const Index t_last = std::min(out_steps - 1, (steps - 1 - o) / stride_);
  r.count = std::max<Index>(0, t_last - r.t_first + 1);
  r.s_first = r.t_first * stride_ + o;
  return r;
}

template <Scalar S>
void Conv1d<S>::validate() const {
  check_shape("weight", params.weight, out_channels_, in_channels_ * kernel_size_);
  if (params.bias.size() > 0) check_shape("bias", params.bias, out_channels_, 1);
  params.for_each([](const char* name, const auto& t) { check_finite(name, t); });
}

template <Scalar S>
typename Conv1d<S>::Cache Conv1d<S>::forward(Mat<S> x, Index batch) const {
  validate();
  const Index B = batch;
  const Index T = check_sequence("input", x, in_channels_, B);
  const Index T_out = output_steps(T);
  Cache c;
  c.steps = T;
  c.out_steps = T_out;
  c.batch = B;
  c.input = std::move(x);
  c.output.resize(out_channels_, T_out * B);
  if (params.bias.size() > 0) {
    c.output.colwise() = params.bias;
  } else {
    c.output.setZero();
  }
  Mat<S> gathered(stride_ > 1 ? in_channels_ : 0, stride_ > 1 ? T_out * B : 0);
  for (Index k = 0; k < kernel_size_; ++k) {
    const TapRange r = tap_range(k, T, T_out);
    if (r.count == 0) continue;
    auto y = c.output.middleCols(r.t_first * B, r.count * B);
    if (stride_ == 1) {
      y.noalias() += tap(k) * c.input.middleCols(r.s_first * B, r.count * B);
    } else {
      for (Index i = 0; i < r.count; ++i)
        gathered.middleCols(i * B, B) = c.input.middleCols((r.s_first + i * stride_) * B, B);
      y.noalias() += tap(k) * gathered.leftCols(r.count * B);
    }
  }
  return c;
}

template <Scalar S>
typename Conv1d<S>::Gradients Conv1d<S>::zero_gradients(const Cache& c) const {
  Gradients g;
  g.params = params;
  g.params.for_each([](const char*, auto& t) { t.setZero(); });
  g.d_input = Mat<S>::Zero(in_channels_, c.steps * c.batch);
  return g;
}

template <Scalar S>
void Conv1d<S>::backward(const Cache& c, const Mat<S>& d_output, Gradients& grads) const {
  backward(c, d_output, grads.params, grads.d_input);
}

template <Scalar S>
void Conv1d<S>::backward(const Cache& c, const Mat<S>& d_output, Params& d_params, Mat<S>& d_input) const {
  const Index B = c.batch, T = c.steps, T_out = c.out_steps;
  check_shape("d_output", d_output, out_channels_, T_out * B);
  check_shape("d_input", d_input, in_channels_, T * B);
  check_shape("d_weight", d_params.weight, out_channels_, in_channels_ * kernel_size_);
  check_shape("d_bias", d_params.bias, params.bias.size(), 1);
  // db = sum over steps and batch of dy.
  if (params.bias.size() > 0) d_params.bias.noalias() += d_output.rowwise().sum();
  Mat<S> gathered(stride_ > 1 ? in_channels_ : 0, stride_ > 1 ? T_out * B : 0);
  Mat<S> scattered(gathered.rows(), gathered.cols());
  for (Index k = 0; k < kernel_size_; ++k) {
    const TapRange r = tap_range(k, T, T_out);
    if (r.count == 0) continue;
    const auto dy = d_output.middleCols(r.t_first * B, r.count * B);
    // dW_k, a strided view into d_weight laid out as tap() reads the weight.
    Eigen::Map<Mat<S>, 0, Eigen::OuterStride<>> d_tap(d_params.weight.data() + k * out_channels_, out_channels_,
                                                      in_channels_, Eigen::OuterStride<>(kernel_size_ * out_channels_));
    if (stride_ == 1) {
      // dW_k += dy x_shifted^T,  dx_shifted += W_k^T dy.
      d_tap.noalias() += dy * c.input.middleCols(r.s_first * B, r.count * B).transpose();
      d_input.middleCols(r.s_first * B, r.count * B).noalias() += tap(k).transpose() * dy;
    } else {
      for (Index i = 0; i < r.count; ++i)
        gathered.middleCols(i * B, B) = c.input.middleCols((r.s_first + i * stride_) * B, B);
      d_tap.noalias() += dy * gathered.leftCols(r.count * B).transpose();
      scattered.leftCols(r.count * B).noalias() = tap(k).transpose() * dy;
      for (Index i = 0; i < r.count; ++i)
        d_input.middleCols((r.s_first + i * stride_) * B, B) += scattered.middleCols(i * B, B);
    }
  }
}

template <Scalar S>
ConvStack<S>::ConvStack(Index in_channels, const std::vector<CausalConvSpec>& specs, Activation f, bool bias)
    : f_(f) {
  require(!specs.empty(), "ConvStack: needs at least one layer");
  Index channels = in_channels;
  for (const CausalConvSpec& s : specs) {
    layers.emplace_back(channels, s.out_channels, s.kernel_size,
                        Conv1dOptions{.stride = 1, .padding = 0, .dilation = s.dilation, .causal = true, .bias = bias});
    channels = s.out_channels;
  }
}

template <Scalar S>
void ConvStack<S>::init_uniform(Rng& rng) {
  for (auto& layer : layers) layer.init_uniform(rng);
}

template <Scalar S>
Index ConvStack<S>::receptive_field() const {
  Index r = 1;
  for (const auto& layer : layers) r += layer.receptive_field() - 1;
  return r;
}

template <Scalar S>
void ConvStack<S>::validate() const {
  require(!layers.empty(), "ConvStack: needs at least one layer");
  for (size_t l = 0; l < layers.size(); ++l) {
    require(layers[l].causal(), fmt::format("ConvStack: layer {} is not causal", l));
    if (l > 0)
      require(layers[l].in_channels() == layers[l - 1].out_channels(),
              fmt::format("ConvStack: layer {} takes {} channels but layer {} gives {}", l,
                          layers[l].in_channels(), l - 1, layers[l - 1].out_channels()));
    layers[l].validate();
  }
}

template <Scalar S>
typename ConvStack<S>::Cache ConvStack<S>::forward(const Mat<S>& x, Index batch) const {
  validate();
  Cache c;
  c.batch = batch;
  c.layers.reserve(layers.size());
  c.layers.push_back(layers.front().forward(x, batch));
  c.steps = c.layers.front().steps;
  for (size_t l = 1; l < layers.size(); ++l) {
    // h_l = f(y_{l-1}) becomes layer l's input; y_{l-1} itself is not needed again.
    Mat<S> h = std::move(c.layers[l - 1].output);
    c.layers[l - 1].output = Mat<S>();
    activate_inplace(f_, h);
    c.layers.push_back(layers[l].forward(std::move(h), batch));
  }
  return c;
}

template <Scalar S>
typename ConvStack<S>::Gradients ConvStack<S>::zero_gradients(const Cache& c) const {
  Gradients g;
  for (const auto& layer : layers) {
    g.layers.push_back(layer.params);
    g.layers.back().for_each([](const char*, auto& t) { t.setZero(); });
  }
  g.d_input = Mat<S>::Zero(in_channels(), c.steps * c.batch);
  return g;
}

template <Scalar S>
void ConvStack<S>::backward(const Cache& c, const Mat<S>& d_output, Gradients& grads) const {
  require(c.layers.size() == layers.size() && grads.layers.size() == layers.size(),
          "ConvStack::backward: cache or gradients from a stack of another depth");
  const Index n = c.steps * c.batch;
  check_shape("d_output", d_output, out_channels(), n);
  Mat<S> g = d_output;  // cotangent of y_l
  for (size_t l = layers.size() - 1; l > 0; --l) {
    Mat<S> d_h = Mat<S>::Zero(layers[l].in_channels(), n);
    layers[l].backward(c.layers[l], g, grads.layers[l], d_h);
    // h_l = f(y_{l-1}): dy_{l-1} = f'(y_{l-1}) * dh_l, f' read from h_l.
    multiply_by_derivative(f_, d_h, c.layers[l].input);
    g = std::move(d_h);
  }
  layers.front().backward(c.layers.front(), g, grads.layers.front(), grads.d_input);
}

template class Conv1d<float>;
template class Conv1d<double>;
template class ConvStack<float>;
template class ConvStack<double>;

}  // namespace rnnscope
