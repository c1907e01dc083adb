#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "cell_testing.hpp"
#include "rnnscope/cells/conv1d.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/sequence/gradcheck.hpp"

using namespace rnnscope;
using rnnscope::check::relative_difference;

namespace {

struct Config {
  Index C_in, C_out, K;
  Conv1dOptions options;
  Index T, B;
};
// stride 1-3, padding 0-2, dilation 1-3, K = 1, B = 1, T = 1, T_out = 1, causal,
// taps that read only padding for some output steps.
const Config configs[] = {
    {2, 3, 3, {.stride = 1}, 7, 2},
    {1, 1, 1, {}, 1, 1},
    {3, 2, 2, {.stride = 2, .padding = 1}, 8, 3},
    {2, 2, 3, {.stride = 3, .padding = 2, .dilation = 2, .bias = false}, 11, 2},
    {1, 4, 4, {.padding = 2, .dilation = 3}, 9, 1},
    {3, 3, 2, {.stride = 2, .dilation = 3}, 10, 2},
    {2, 3, 3, {.dilation = 2, .causal = true}, 6, 2},
    {1, 2, 4, {.causal = true, .bias = false}, 5, 1},
    {2, 1, 5, {.stride = 3}, 5, 4},
    {4, 3, 3, {.stride = 2, .padding = 2}, 2, 2},
    {2, 2, 2, {.padding = 1, .dilation = 3}, 3, 2},
    {3, 2, 1, {.stride = 2, .padding = 1}, 6, 3},
};

std::string describe(const Config& c) {
  return "C_in=" + std::to_string(c.C_in) + " C_out=" + std::to_string(c.C_out) + " K=" + std::to_string(c.K) +
         " stride=" + std::to_string(c.options.stride) + " padding=" + std::to_string(c.options.padding) +
         " dilation=" + std::to_string(c.options.dilation) + " causal=" + std::to_string(c.options.causal) +
         " bias=" + std::to_string(c.options.bias) + " T=" + std::to_string(c.T) + " B=" + std::to_string(c.B);
}

Conv1d<double> random_conv(const Config& c, Rng& rng) {
  Conv1d<double> conv(c.C_in, c.C_out, c.K, c.options);
  conv.init_uniform(rng);
  return conv;
}

// PyTorch's formula, one output entry at a time:
// y[co, t] = b[co] + sum_ci sum_k w[co, ci, k] x[ci, t*stride - pad_left + k*dilation],
// with w[co, ci, k] = weight(co, ci*K + k) (the documented layout).
Mat<double> naive_conv(const Conv1d<double>& conv, const Mat<double>& x, Index B) {
  const Index T = x.cols() / B, K = conv.kernel_size(), stride = conv.stride(), dil = conv.dilation();
  const Index pad_left = conv.causal() ? dil * (K - 1) : conv.padding();
  const Index pad_right = conv.causal() ? 0 : conv.padding();
  const Index T_out = (T + pad_left + pad_right - dil * (K - 1) - 1) / stride + 1;
  const auto& w = conv.params.weight;
  const auto& bias = conv.params.bias;
  Mat<double> y(conv.out_channels(), T_out * B);
  for (Index b = 0; b < B; ++b)
    for (Index co = 0; co < conv.out_channels(); ++co)
      for (Index t = 0; t < T_out; ++t) {
        double v = bias.size() > 0 ? bias(co) : 0.0;
        for (Index ci = 0; ci < conv.in_channels(); ++ci)
          for (Index k = 0; k < K; ++k) {
            const Index s = t * stride - pad_left + k * dil;
            if (s >= 0 && s < T) v += w(co, ci * K + k) * x(ci, s * B + b);
          }
        y(co, t * B + b) = v;
      }
  return y;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Conv1d, ForwardMatchesNaiveReference) {
  Rng rng(31);
  for (const Config& c : configs) {
    const auto conv = random_conv(c, rng);
    const Mat<double> x = rng.normal_matrix<double>(c.C_in, c.T * c.B);
    const auto cache = conv.forward(x, c.B);
    const Mat<double> expected = naive_conv(conv, x, c.B);
    ASSERT_EQ(cache.out_steps * c.B, expected.cols()) << describe(c);
    EXPECT_EQ(cache.out_steps, conv.output_steps(c.T)) << describe(c);
    EXPECT_LT(relative_difference(conv.output(cache), expected), 1e-14) << describe(c);
  }
}

TEST(Conv1d, OutputLengthIsPyTorchs) {
  // T_out = floor((T + 2 padding - dilation (K-1) - 1) / stride) + 1; causal keeps T.
  EXPECT_EQ(Conv1d<double>(1, 1, 3).output_steps(10), 8);
  EXPECT_EQ(Conv1d<double>(1, 1, 3, {.stride = 2}).output_steps(10), 4);
  EXPECT_EQ(Conv1d<double>(1, 1, 3, {.stride = 3, .padding = 2, .dilation = 2}).output_steps(11), 4);
  EXPECT_EQ(Conv1d<double>(1, 1, 5, {.stride = 3}).output_steps(5), 1);
  EXPECT_EQ(Conv1d<double>(1, 1, 4, {.dilation = 3, .causal = true}).output_steps(2), 2);
  EXPECT_EQ(Conv1d<double>(1, 1, 4, {.dilation = 3, .causal = true}).receptive_field(), 10);
}

TEST(Conv1d, GradientsMatchFiniteDifferences) {
  Rng rng(17);
  for (const Config& c : configs) {
    auto conv = random_conv(c, rng);
    Mat<double> x = rng.normal_matrix<double>(c.C_in, c.T * c.B);
    const Index n_out = conv.output_steps(c.T) * c.B;
    const Mat<double> R = rng.normal_matrix<double>(c.C_out, n_out);
    auto loss = [&] { return (conv.output(conv.forward(x, c.B)).array() * R.array()).sum(); };
    const auto cache = conv.forward(x, c.B);
    auto grads = conv.zero_gradients(cache);
    conv.backward(cache, R, grads);
    std::vector<CheckedTensor> tensors{
        {"weight", conv.params.weight.data(), conv.params.weight.size(), grads.params.weight.data()},
        {"input", x.data(), x.size(), grads.d_input.data()}};
    if (c.options.bias)
      tensors.push_back({"bias", conv.params.bias.data(), conv.params.bias.size(), grads.params.bias.data()});
    const auto report = check_gradients(loss, tensors);
    EXPECT_LT(report.worst_relative_error(), 1e-6) << describe(c) << "\n" << report.to_string();
    // The gradients are not trivially zero (every config has at least one input step read).
    EXPECT_GT(grads.params.weight.norm(), 0) << describe(c);
  }
}

TEST(Conv1d, BackwardAccumulatesAndACorruptGradientFailsTheCheck) {
  Rng rng(5);
  const Config c = configs[2];
  auto conv = random_conv(c, rng);
  Mat<double> x = rng.normal_matrix<double>(c.C_in, c.T * c.B);
  const auto cache = conv.forward(x, c.B);
  const Mat<double> R = rng.normal_matrix<double>(c.C_out, cache.out_steps * c.B);
  auto once = conv.zero_gradients(cache);
  conv.backward(cache, R, once);
  auto twice = conv.zero_gradients(cache);
  conv.backward(cache, R, twice);
  conv.backward(cache, R, twice);
  EXPECT_LT(relative_difference(twice.params.weight, 2 * once.params.weight), 1e-15);
  EXPECT_LT(relative_difference(twice.params.bias, 2 * once.params.bias), 1e-15);
  EXPECT_LT(relative_difference(twice.d_input, 2 * once.d_input), 1e-15);
  // Negative control: one weight gradient entry off by 1% fails and is located.
  once.params.weight(1, 4) *= 1.01;
  auto loss = [&] { return (conv.output(conv.forward(x, c.B)).array() * R.array()).sum(); };
  const auto report = check_gradients(
      loss, {{"weight", conv.params.weight.data(), conv.params.weight.size(), once.params.weight.data()}});
  EXPECT_FALSE(report.passed(1e-6));
  EXPECT_EQ(report.tensors[0].worst_index, 1 + 4 * c.C_out);
}

TEST(Conv1d, InputGradientIsATrueConvolutionWeightGradientACorrelation) {
  // One channel, stride 1, dilation 1, padding p: y_t = b + sum_k w_k x_{t-p+k} (a correlation).
  //   dx_s = sum_t dy_t w_{s+p-t}   (dy convolved with w: the kernel index runs against t)
  //   dw_k = sum_t dy_t x_{t-p+k}   (x correlated with dy)
  // The convolution formulas of a true convolution layer (kernel index with t) give
  // something else for an asymmetric kernel: the layer's kernel is the flipped one.
  Rng rng(9);
  const Index K = 3, p = 1, T = 7;
  Conv1d<double> conv(1, 1, K, {.padding = p});
  conv.params.weight << 0.5, -1.25, 2.0;
  conv.params.bias << 0.3;
  const Mat<double> x = rng.normal_matrix<double>(1, T);
  const auto cache = conv.forward(x, 1);
  const Index T_out = cache.out_steps;
  const Mat<double> dy = rng.normal_matrix<double>(1, T_out);
  auto grads = conv.zero_gradients(cache);
  conv.backward(cache, dy, grads);
  const auto w = [&](Index k) { return 0 <= k && k < K ? conv.params.weight(0, k) : 0.0; };
  const auto xs = [&](Index s) { return 0 <= s && s < T ? x(0, s) : 0.0; };
  Mat<double> dx(1, T), dx_flipped(1, T);
  for (Index s = 0; s < T; ++s) {
    dx(0, s) = dx_flipped(0, s) = 0;
    for (Index t = 0; t < T_out; ++t) {
      dx(0, s) += dy(0, t) * w(s + p - t);
      dx_flipped(0, s) += dy(0, t) * w(K - 1 - (s + p - t));
    }
  }
  Mat<double> dw(1, K), dw_flipped(1, K);
  for (Index k = 0; k < K; ++k) {
    dw(0, k) = dw_flipped(0, k) = 0;
    for (Index t = 0; t < T_out; ++t) {
      dw(0, k) += dy(0, t) * xs(t - p + k);
      dw_flipped(0, k) += dy(0, t) * xs(t - p + (K - 1 - k));
    }
  }
  EXPECT_LT(relative_difference(grads.d_input, dx), 1e-14);
  EXPECT_LT(relative_difference(grads.params.weight, dw), 1e-14);
  EXPECT_NEAR(grads.params.bias(0), dy.sum(), 1e-14);
  EXPECT_GT(relative_difference(grads.d_input, dx_flipped), 0.1);
  EXPECT_GT(relative_difference(grads.params.weight, dw_flipped), 0.1);
}

TEST(Conv1d, CausalIsLeftPaddingOnlyAndNeverReadsTheFuture) {
  Rng rng(13);
  const Index C_in = 2, C_out = 3, K = 3, d = 2, T = 8, B = 2;
  Conv1d<double> causal(C_in, C_out, K, {.dilation = d, .causal = true});
  causal.init_uniform(rng);
  // Symmetric padding d (K-1) gives T + d (K-1) output steps; the first T are the causal ones.
  Conv1d<double> padded(C_in, C_out, K, {.padding = d * (K - 1), .dilation = d});
  padded.params = causal.params;
  const Mat<double> x = rng.normal_matrix<double>(C_in, T * B);
  const auto cc = causal.forward(x, B);
  const auto cp = padded.forward(x, B);
  EXPECT_EQ(cc.out_steps, T);
  EXPECT_LT(relative_difference(causal.output(cc), padded.output(cp).leftCols(T * B)), 1e-15);
  // d y_t / d x_s = 0 exactly for s > t, and not for s = t.
  for (Index t = 0; t < T; ++t) {
    Mat<double> dy = Mat<double>::Zero(C_out, T * B);
    dy.middleCols(t * B, B) = rng.normal_matrix<double>(C_out, B);
    auto g = causal.zero_gradients(cc);
    causal.backward(cc, dy, g);
    for (Index s = t + 1; s < T; ++s) EXPECT_TRUE(g.d_input.middleCols(s * B, B).isZero(0)) << t << " " << s;
    EXPECT_GT(g.d_input.middleCols(t * B, B).norm(), 0);
  }
}

TEST(Conv1d, FloatAgreesWithDouble) {
  Rng rng(2);
  const Config c{8, 16, 3, {.stride = 2, .padding = 1, .dilation = 2}, 40, 4};
  const auto cd = random_conv(c, rng);
  Conv1d<float> cf(c.C_in, c.C_out, c.K, c.options);
  cf.params.weight = cd.params.weight.cast<float>();
  cf.params.bias = cd.params.bias.cast<float>();
  const Mat<double> x = rng.normal_matrix<double>(c.C_in, c.T * c.B);
  const auto c64 = cd.forward(x, c.B);
  const auto c32 = cf.forward(x.cast<float>(), c.B);
  EXPECT_LT(relative_difference(cd.output(c64), cf.output(c32).cast<double>()), 1e-6);
  const Mat<double> dy = rng.normal_matrix<double>(c.C_out, c64.out_steps * c.B);
  auto g64 = cd.zero_gradients(c64);
  auto g32 = cf.zero_gradients(c32);
  cd.backward(c64, dy, g64);
  cf.backward(c32, dy.cast<float>(), g32);
  EXPECT_LT(relative_difference(check::flatten(g64.params), check::flatten(g32.params)), 1e-6);
  EXPECT_LT(relative_difference(g64.d_input, g32.d_input.cast<double>()), 1e-6);
}

TEST(Conv1d, ParametersHavePyTorchNamesAndInitialisation) {
  Rng rng(3);
  Conv1d<double> conv(4, 5, 3);
  conv.init_uniform(rng);
  std::vector<std::string> names;
  conv.params.for_each([&](const char* name, const auto&) { names.emplace_back(name); });
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias"}));
  const double bound = 1 / std::sqrt(12.0);
  EXPECT_LE(conv.params.weight.cwiseAbs().maxCoeff(), bound);
  EXPECT_LE(conv.params.bias.cwiseAbs().maxCoeff(), bound);
  EXPECT_GT(conv.params.weight.cwiseAbs().maxCoeff(), 0.8 * bound);
  names.clear();
  Conv1d<double>(4, 5, 3, {.bias = false}).params.for_each([&](const char* name, const auto&) { names.emplace_back(name); });
  EXPECT_EQ(names, (std::vector<std::string>{"weight"}));
  // tap(k) is w[:, :, k] under the documented layout.
  for (Index k = 0; k < 3; ++k)
    for (Index ci = 0; ci < 4; ++ci)
      for (Index co = 0; co < 5; ++co) EXPECT_EQ(conv.tap(k)(co, ci), conv.params.weight(co, ci * 3 + k));
}

TEST(Conv1d, BadInputIsRejectedWithANamedError) {
  Rng rng(1);
  Conv1d<double> conv(3, 2, 4, {.dilation = 2});
  conv.init_uniform(rng);
  const Mat<double> x = rng.normal_matrix<double>(3, 20);
  EXPECT_EQ(message_of([&] { conv.forward(Mat<double>::Zero(2, 20), 2); }),
            "input: expected shape (3, T*2), got (2, 20)");
  EXPECT_EQ(message_of([&] { conv.forward(x, 3); }), "input: expected shape (3, T*3), got (3, 20)");
  EXPECT_EQ(message_of([&] { conv.forward(x.leftCols(12), 2); }),
            "input: 6 steps give no output step; kernel_size 4, dilation 2 and padding 0 need at least 7");
  EXPECT_EQ(message_of([&] { Conv1d<double>(3, 2, 4, {.padding = 1, .dilation = 2}).forward(x.leftCols(8), 2); }),
            "input: 4 steps give no output step; kernel_size 4, dilation 2 and padding 1 need at least 5");
  EXPECT_EQ(message_of([&] { conv.forward(Mat<double>(3, 0), 2); }), "input: empty sequence (no time steps)");
  EXPECT_EQ(message_of([&] { Conv1d<double>(3, 2, 4, {.stride = 0}); }), "Conv1d: stride must be positive, got 0");
  EXPECT_EQ(message_of([&] { Conv1d<double>(3, 2, 0); }), "Conv1d: kernel_size must be positive, got 0");
  EXPECT_EQ(message_of([&] { Conv1d<double>(3, 2, 2, {.dilation = 0}); }), "Conv1d: dilation must be positive, got 0");
  EXPECT_EQ(message_of([&] { Conv1d<double>(3, 2, 2, {.padding = -1}); }), "Conv1d: padding must be >= 0, got -1");
  EXPECT_EQ(message_of([&] { Conv1d<double>(0, 2, 2); }), "Conv1d: in_channels and out_channels must be positive");
  EXPECT_EQ(message_of([&] { Conv1d<double>(3, 2, 2, {.stride = 2, .causal = true}); }),
            "Conv1d: causal mode needs stride 1 and padding 0 (it pads dilation*(K-1) on the left itself), got "
            "stride 2 and padding 0");
  Mat<double> xn = x;
  xn(2, 5) = NAN;
  EXPECT_EQ(message_of([&] { conv.forward(xn, 2); }), "input has a non-finite value at (2, 5)");
  auto bad = conv;
  bad.params.weight = Mat<double>::Zero(2, 6);
  EXPECT_EQ(message_of([&] { bad.forward(x, 2); }), "weight: expected shape (2, 12), got (2, 6)");
  bad = conv;
  bad.params.bias = Vec<double>::Zero(3);
  EXPECT_EQ(message_of([&] { bad.forward(x, 2); }), "bias: expected shape (2, 1), got (3, 1)");
  bad = conv;
  bad.params.weight(1, 3) = INFINITY;
  EXPECT_EQ(message_of([&] { bad.forward(x, 2); }), "weight has a non-finite value at (1, 3)");
  const auto c = conv.forward(x, 2);  // T = 10, T_out = 4
  auto g = conv.zero_gradients(c);
  EXPECT_EQ(message_of([&] { conv.backward(c, Mat<double>::Zero(2, 10), g); }),
            "d_output: expected shape (2, 8), got (2, 10)");
}

// ---- ConvStack ----

namespace {

ConvStack<double> random_stack(Activation f, Rng& rng, bool bias = true) {
  ConvStack<double> stack(2, {{3, 3, 1}, {2, 2, 2}, {2, 3, 4}}, f, bias);
  stack.init_uniform(rng);
  stack.for_each([](const char*, auto& t) { t *= 1.5; });
  return stack;
}

// Smallest |pre-activation| of the hidden layers, for relu's kink.
double min_abs_hidden(const ConvStack<double>& stack, const Mat<double>& x, Index B) {
  Mat<double> h = x;
  double m = INFINITY;
  for (Index l = 0; l + 1 < stack.num_layers(); ++l) {
    Mat<double> y = stack.layers[l].output(stack.layers[l].forward(h, B));
    m = std::min(m, y.cwiseAbs().minCoeff());
    h = y.cwiseMax(0.0);
  }
  return m;
}

}  // namespace

TEST(ConvStack, ReceptiveFieldIsOnePlusTheSpans) {
  Rng rng(1);
  const auto stack = random_stack(Activation::tanh, rng);
  EXPECT_EQ(stack.receptive_field(), 1 + 2 * 1 + 1 * 2 + 2 * 4);
  EXPECT_EQ(ConvStack<double>(1, {{1, 1, 1}}, Activation::relu).receptive_field(), 1);
}

TEST(ConvStack, ForwardIsTheCompositionOfItsLayers) {
  Rng rng(4);
  for (Activation f : {Activation::tanh, Activation::relu, Activation::identity}) {
    const auto stack = random_stack(f, rng);
    const Index B = 3, T = 9;
    const Mat<double> x = rng.normal_matrix<double>(2, T * B);
    Mat<double> h = x;
    for (Index l = 0; l < stack.num_layers(); ++l) {
      h = naive_conv(stack.layers[l], h, B);
      if (l + 1 < stack.num_layers()) h = h.unaryExpr([&](double v) { return activate(f, v); });
    }
    const auto c = stack.forward(x, B);
    EXPECT_EQ(c.steps, T);
    EXPECT_LT(relative_difference(stack.output(c), h), 1e-14) << to_string(f);
  }
}

TEST(ConvStack, GradientsMatchFiniteDifferences) {
  Rng rng(6);
  for (Activation f : {Activation::tanh, Activation::relu, Activation::identity})
    for (Index B : {1, 3})
      for (bool bias : {true, false}) {
        auto stack = random_stack(f, rng, bias);
        const Index T = 10;
        Mat<double> x = rng.normal_matrix<double>(2, T * B);
        while (f == Activation::relu && min_abs_hidden(stack, x, B) < 1e-3) x = rng.normal_matrix<double>(2, T * B);
        const Mat<double> R = rng.normal_matrix<double>(stack.out_channels(), T * B);
        auto loss = [&] { return (stack.output(stack.forward(x, B)).array() * R.array()).sum(); };
        const auto cache = stack.forward(x, B);
        auto grads = stack.zero_gradients(cache);
        stack.backward(cache, R, grads);
        std::vector<const double*> analytic;
        grads.for_each([&](const char*, const auto& t) { analytic.push_back(t.data()); });
        std::vector<CheckedTensor> tensors;
        size_t k = 0;
        stack.for_each([&](const char* name, auto& t) { tensors.push_back({name, t.data(), t.size(), analytic[k++]}); });
        EXPECT_EQ(tensors.size(), bias ? 6u : 3u);
        tensors.push_back({"input", x.data(), x.size(), grads.d_input.data()});
        const auto report = check_gradients(loss, tensors);
        EXPECT_LT(report.worst_relative_error(), 1e-6) << to_string(f) << " B=" << B << "\n" << report.to_string();
        EXPECT_EQ(report.tensors.front().name, "weight_l0");
      }
}

TEST(ConvStack, GradientVanishesExactlyBeyondTheReceptiveField) {
  // d out_{T-1} / d x_{T-1-L} is exactly zero for L >= receptive_field and nonzero for L below it.
  Rng rng(8);
  for (Activation f : {Activation::tanh, Activation::identity}) {
    const auto stack = random_stack(f, rng);
    const Index R = stack.receptive_field(), T = R + 5, B = 2;
    const Mat<double> x = rng.normal_matrix<double>(2, T * B);
    const auto cache = stack.forward(x, B);
    Mat<double> dy = Mat<double>::Zero(stack.out_channels(), T * B);
    dy.rightCols(B) = rng.normal_matrix<double>(stack.out_channels(), B);
    auto grads = stack.zero_gradients(cache);
    stack.backward(cache, dy, grads);
    for (Index L = 0; L < T; ++L) {
      const auto block = grads.d_input.middleCols((T - 1 - L) * B, B);
      if (L >= R) {
        EXPECT_TRUE(block.isZero(0)) << to_string(f) << " L=" << L << " R=" << R;
      } else {
        for (Index b = 0; b < B; ++b) EXPECT_GT(block.col(b).norm(), 0) << to_string(f) << " L=" << L << " b=" << b;
      }
    }
    // Just inside, the gradient is the finite-difference one, not a stray nonzero.
    Mat<double> xp = x;
    const double h = 1e-6;
    xp(1, (T - R) * B) += h;
    Mat<double> xm = x;
    xm(1, (T - R) * B) -= h;
    const double numeric = ((stack.output(stack.forward(xp, B)).array() - stack.output(stack.forward(xm, B)).array()) *
                            dy.array()).sum() / (2 * h);
    EXPECT_NEAR(grads.d_input(1, (T - R) * B), numeric, 1e-7 * std::max(1.0, std::abs(numeric)));
  }
}

TEST(ConvStack, BadInputIsRejectedWithANamedError) {
  Rng rng(2);
  auto stack = random_stack(Activation::tanh, rng);
  EXPECT_EQ(message_of([&] { ConvStack<double>(2, {}, Activation::tanh); }), "ConvStack: needs at least one layer");
  EXPECT_EQ(message_of([&] { ConvStack<double>(2, {{3, 0, 1}}, Activation::tanh); }),
            "Conv1d: kernel_size must be positive, got 0");
  EXPECT_EQ(message_of([&] { stack.forward(Mat<double>::Zero(3, 10), 2); }), "input: expected shape (2, T*2), got (3, 10)");
  auto bad = stack;
  bad.layers[1] = Conv1d<double>(4, 2, 2, {.dilation = 2, .causal = true});
  EXPECT_EQ(message_of([&] { bad.forward(Mat<double>::Zero(2, 10), 2); }),
            "ConvStack: layer 1 takes 4 channels but layer 0 gives 3");
  bad = stack;
  bad.layers[2] = Conv1d<double>(2, 2, 3, {.padding = 1});
  EXPECT_EQ(message_of([&] { bad.forward(Mat<double>::Zero(2, 10), 2); }), "ConvStack: layer 2 is not causal");
  const auto c = stack.forward(rng.normal_matrix<double>(2, 10), 2);
  auto g = stack.zero_gradients(c);
  EXPECT_EQ(message_of([&] { stack.backward(c, Mat<double>::Zero(2, 8), g); }),
            "d_output: expected shape (2, 10), got (2, 8)");
}

TEST(Conv1d, WronglyShapedGradientsAreRejectedWithTheirNames) {
  // backward accumulates into grads: each tensor must have its parameter's shape.
  Conv1d<double> conv(3, 4, 2);
  Rng rng(2);
  conv.init_uniform(rng);
  const auto c = conv.forward(rng.normal_matrix<double>(3, 10), 2);
  const Mat<double> dy = rng.normal_matrix<double>(4, c.out_steps * 2);
  const auto grads = conv.zero_gradients(c);
  auto message = [&](auto wrong) {
    try {
      conv.backward(c, dy, wrong);
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(grads), "no error");
  auto wrong = grads;
  wrong.params.weight = Mat<double>::Zero(4, 3);
  EXPECT_EQ(message(wrong), "d_weight: expected shape (4, 6), got (4, 3)");
  wrong = grads;
  wrong.params.bias = Vec<double>::Zero(3);
  EXPECT_EQ(message(wrong), "d_bias: expected shape (4, 1), got (3, 1)");
  wrong = grads;
  wrong.d_input = Mat<double>::Zero(3, 8);
  EXPECT_EQ(message(wrong), "d_input: expected shape (3, 10), got (3, 8)");
}
