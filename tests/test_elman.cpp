#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "cell_testing.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/sequence/gradcheck.hpp"
#include "rnnscope/sequence/loss.hpp"

using namespace rnnscope;
using rnnscope::check::relative_difference;

namespace {

struct Shape {
  Index I, H, B, T;
};
const Shape shapes[] = {{3, 4, 2, 5}, {1, 1, 1, 1}, {2, 3, 1, 7}, {4, 1, 3, 1}, {5, 6, 4, 3}, {1, 5, 1, 2}};
const Activation nonlinearities[] = {Activation::sigmoid, Activation::tanh, Activation::relu};

Elman<double> random_cell(const Shape& s, Activation f, Rng& rng, bool bias = true, double scale = 1.0) {
  Elman<double> cell(s.I, s.H, f, bias);
  cell.init_uniform(rng);
  cell.params.for_each([&](const char*, auto& t) { t *= scale; });
  return cell;
}

// Smallest |a_t| over all units, steps and batch elements: finite differences
// with step h are only valid for relu when no pre-activation is within h of its kink.
double min_abs_preactivation(const Elman<double>& cell, const Mat<double>& x, Index B, const Mat<double>& h0) {
  const auto c = cell.forward(x, B, h0);
  Mat<double> a = cell.params.weight_ih * x + cell.params.weight_hh * c.states.leftCols(x.cols());
  if (cell.params.bias_ih.size() > 0) a.colwise() += cell.params.bias_ih + cell.params.bias_hh;
  return a.cwiseAbs().minCoeff();
}

}  // namespace

TEST(Elman, ForwardMatchesScalarRecurrence) {
  // H = I = 1: h_t = f(w x_t + b_ih + u h_{t-1} + b_hh), computed by hand.
  for (Activation f : nonlinearities) {
    Elman<double> cell(1, 1, f);
    cell.params.weight_ih(0, 0) = 0.7;
    cell.params.weight_hh(0, 0) = -1.3;
    cell.params.bias_ih(0) = 0.2;
    cell.params.bias_hh(0) = -0.05;
    Mat<double> x(1, 4);
    x << 0.5, -1.0, 2.0, 0.25;
    Mat<double> h0(1, 1);
    h0 << 0.3;
    const auto c = cell.forward(x, 1, h0);
    double h = 0.3;
    for (Index t = 0; t < 4; ++t) {
      h = activate(f, 0.7 * x(0, t) + 0.2 - 1.3 * h - 0.05);
      EXPECT_NEAR(cell.output(c)(0, t), h, 1e-15) << to_string(f) << " t=" << t;
    }
    EXPECT_NEAR(cell.final_state(c)(0, 0), h, 1e-15);
  }
}

TEST(Elman, GradientsMatchFiniteDifferences) {
  Rng rng(7);
  for (Activation f : nonlinearities)
    for (const Shape& s : shapes)
      for (bool bias : {true, false}) {
        auto cell = random_cell(s, f, rng, bias, 1.5);
        Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
        const Mat<double> h0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
        // relu: away from the kink, and not every unit dead (the check would pass vacuously on zeros).
        for (int tries = 0; f == Activation::relu && tries < 1000 &&
                            (min_abs_preactivation(cell, x, s.B, h0) < 1e-3 ||
                             Mat<double>(cell.output(cell.forward(x, s.B, h0))).isZero(0));
             ++tries)
          x = rng.normal_matrix<double>(s.I, s.T * s.B);
        if (f == Activation::relu) {
          ASSERT_FALSE(Mat<double>(cell.output(cell.forward(x, s.B, h0))).isZero(0));
        }
        const auto report = check_cell_gradients(cell, x, s.B, h0, rng);
        EXPECT_LT(report.worst_relative_error(), 1e-6)
            << to_string(f) << " I=" << s.I << " H=" << s.H << " B=" << s.B << " T=" << s.T
            << " bias=" << bias << "\n" << report.to_string();
        EXPECT_EQ(report.tensors.size(), bias ? 6u : 4u);
      }
}

TEST(Elman, GradientCheckerCatchesAWrongBackward) {
  // Negative control: a gradient off by a factor somewhere must fail the check.
  Rng rng(3);
  auto cell = random_cell({3, 4, 2, 5}, Activation::tanh, rng);
  Mat<double> x = rng.normal_matrix<double>(3, 10);
  const Mat<double> R = rng.normal_matrix<double>(4, 10);
  auto loss = [&] { return (cell.output(cell.forward(x, 2)).array() * R.array()).sum(); };
  auto grads = bptt(cell, cell.forward(x, 2), R, Mat<double>());
  grads.params.weight_hh(1, 2) *= 1.01;
  const auto report = check_gradients(
      loss, {{"weight_hh", cell.params.weight_hh.data(), 16, grads.params.weight_hh.data()}});
  EXPECT_FALSE(report.passed(1e-6));
  EXPECT_EQ(report.tensors[0].worst_index, 1 + 2 * 4);
}

TEST(Elman, LossGradientsMatchFiniteDifferences) {
  Rng rng(11);
  const Shape s{3, 5, 4, 6};
  for (Activation f : nonlinearities) {
    auto cell = random_cell(s, f, rng);
    Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
    while (f == Activation::relu && min_abs_preactivation(cell, x, s.B, Mat<double>::Zero(s.H, s.B)) < 1e-3)
      x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> target_last = rng.normal_matrix<double>(s.H, s.B);
    const Mat<double> target_all = rng.normal_matrix<double>(s.H, s.T * s.B);
    const std::vector<int> labels{0, 4, 2, 2};
    for (LossKind kind : {LossKind::mse_last, LossKind::mse_all, LossKind::cross_entropy_last}) {
      auto evaluate = [&] {
        const Mat<double> y = cell.output(cell.forward(x, s.B));
        switch (kind) {
          case LossKind::mse_last: return mse_last<double>(y, s.B, target_last);
          case LossKind::mse_all: return mse_all<double>(y, s.B, target_all);
          case LossKind::cross_entropy_last: return cross_entropy_last<double>(y, s.B, labels);
        }
        return LossResult<double>{};
      };
      const auto result = evaluate();
      const auto grads = bptt(cell, cell.forward(x, s.B), result.d_output, Mat<double>());
      auto loss = [&] { return evaluate().value; };
      const Vec<double> numeric = check::numeric_param_gradient(cell, loss);
      EXPECT_LT(relative_difference(check::flatten(grads.params), numeric), 1e-6) << to_string(kind);
      const Vec<double> dx = check::numeric_gradient(loss, x.data(), x.size());
      EXPECT_LT(relative_difference(grads.d_input.reshaped(), dx), 1e-6) << to_string(kind);
    }
  }
}

TEST(Elman, CrossEntropyIsStableAndMatchesDefinition) {
  Mat<double> y(3, 2);
  y << 1000, 0.1, -1000, 0.2, 999, 0.3;  // one step, B = 2
  const auto r = cross_entropy_last<double>(y, 2, {0, 2});
  ASSERT_TRUE(std::isfinite(r.value));
  const double l0 = std::log(1 + std::exp(-1.0));  // -log softmax: logits 1000, -1000, 999
  const double l1 = std::log(std::exp(0.1) + std::exp(0.2) + std::exp(0.3)) - 0.3;
  EXPECT_NEAR(r.value, (l0 + l1) / 2, 1e-12);
  EXPECT_THROW(cross_entropy_last<double>(y, 2, {0, 3}), InvalidInput);
  EXPECT_THROW(cross_entropy_last<double>(y, 2, {0}), InvalidInput);
}

// mse_all runs over the columns in blocks of 2048 / F (loss.cpp): a long
// sequence, whose last block is partial, gives the loss and cotangent of a
// plain sum over every entry, and a NaN in the last column is still named.
TEST(Elman, MeanSquaredErrorOverManyColumnBlocks) {
  const Index F = 3, cols = 5001;  // blocks of 682 columns: 7 full ones and one of 227
  Mat<double> y(F, cols), target(F, cols);
  long double sum = 0;
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < F; ++i) {
      y(i, j) = static_cast<double>((i + 3 * j) % 7) - 2.5;
      target(i, j) = static_cast<double>(j % 5) * 0.25;
      sum += static_cast<long double>(y(i, j) - target(i, j)) * (y(i, j) - target(i, j));
    }
  const double n = static_cast<double>(F * cols);
  const auto r = mse_all<double>(y, 3, target);
  EXPECT_NEAR(r.value, static_cast<double>(sum / n), 1e-14 * static_cast<double>(sum / n));
  EXPECT_LT((r.d_output - (2.0 / n) * (y - target)).cwiseAbs().maxCoeff(), 1e-18);
  const auto rf = mse_all<float>(y.cast<float>(), 3, target.cast<float>());
  EXPECT_NEAR(rf.value, static_cast<double>(sum / n), 1e-6 * static_cast<double>(sum / n));
  Mat<double> bad = target;
  bad(2, cols - 1) = NAN;
  try {
    (void)mse_all<double>(y, 3, bad);
    ADD_FAILURE() << "no error for a NaN in the last column";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("target has a non-finite value at (2, 5000)"), std::string::npos)
        << e.what();
  }
}

TEST(Elman, MeanSquaredErrorNamesBadValuesAndShapes) {
  Mat<double> y(2, 4), target(2, 4);
  y << 1, 2, 3, 4, 5, 6, 7, 8;
  target.setZero();
  const auto r = mse_all<double>(y, 2, target);
  EXPECT_DOUBLE_EQ(r.value, 204.0 / 8.0);  // (1 + 4 + ... + 64) / 8
  EXPECT_EQ(r.d_output, (0.25 * y).eval());
  auto expect_message = [](auto&& f, const std::string& words) {
    try {
      f();
      ADD_FAILURE() << "no error; expected one naming " << words;
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  Mat<double> bad = target;
  bad(1, 3) = NAN;
  expect_message([&] { (void)mse_all<double>(y, 2, bad); }, "target has a non-finite value at (1, 3)");
  Mat<double> y_bad = y;
  y_bad(0, 1) = INFINITY;
  expect_message([&] { (void)mse_all<double>(y_bad, 2, target); }, "output has a non-finite value at (0, 1)");
  expect_message([&] { (void)mse_all<double>(y, 3, target); }, "output: expected shape");
  expect_message([&] { (void)mse_all<double>(y, 2, Mat<double>::Zero(2, 2)); }, "target");
}

TEST(Elman, TruncatedBpttMatchesItsDefinition) {
  Rng rng(5);
  // A general shape, then the degenerate ones: B = 1, H = 1, T = 1, all of them at once.
  for (const Shape s : {Shape{2, 3, 2, 6}, Shape{2, 3, 1, 4}, Shape{2, 1, 2, 5}, Shape{3, 2, 2, 1}, Shape{1, 1, 1, 1}})
  for (Activation f : nonlinearities) {
    auto cell = random_cell(s, f, rng, true, 1.5);
    Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> h0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
    while (f == Activation::relu && min_abs_preactivation(cell, x, s.B, h0) < 1e-3)
      x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
    const Mat<double> dfinal = rng.normal_matrix<double>(s.H, s.B);
    const auto cache = cell.forward(x, s.B, h0);
    // Windows inside the sequence, equal to T, past it, and 0 (full BPTT).
    for (Index K : {Index{1}, Index{2}, Index{3}, s.T, s.T + 2, Index{0}}) {
      const auto g = bptt(cell, cache, dy, dfinal, K);
      const auto brute = check::brute_force_bptt(cell, x, s.B, h0, dy, dfinal, K);
      EXPECT_LT(relative_difference(check::flatten(g.params), brute.params), 1e-7)
          << to_string(f) << " K=" << K;
      EXPECT_LT(relative_difference(g.d_input, brute.d_input), 1e-7) << to_string(f) << " K=" << K;
      EXPECT_LT(relative_difference(g.d_state0, brute.d_state0), 1e-7) << to_string(f) << " K=" << K;
    }
    // Truncation changes the gradient: the window-1 gradient differs from the full one
    // (checked on the general shape; on the degenerate ones a dead relu unit can cut
    // the recurrent path, and then both are the same).
    const auto full = bptt(cell, cache, dy, dfinal);
    const auto k1 = bptt(cell, cache, dy, dfinal, 1);
    if (s.H == 3 && s.B == 2 && s.T == 6) {
      EXPECT_GT(relative_difference(check::flatten(full.params), check::flatten(k1.params)), 1e-3) << to_string(f);
    }
  }
}

TEST(Elman, FloatAgreesWithDouble) {
  Rng rng(2);
  const Shape s{8, 16, 4, 20};
  auto cd = random_cell(s, Activation::tanh, rng);
  Elman<float> cf(s.I, s.H, Activation::tanh);
  cf.params.weight_ih = cd.params.weight_ih.cast<float>();
  cf.params.weight_hh = cd.params.weight_hh.cast<float>();
  cf.params.bias_ih = cd.params.bias_ih.cast<float>();
  cf.params.bias_hh = cd.params.bias_hh.cast<float>();
  const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
  const auto c64 = cd.forward(x, s.B);
  const auto c32 = cf.forward(x.cast<float>(), s.B);
  EXPECT_LT(relative_difference(cd.output(c64), cf.output(c32).cast<double>()), 1e-5);
  const auto g64 = bptt(cd, c64, dy, Mat<double>());
  const auto g32 = bptt(cf, c32, dy.cast<float>(), Mat<float>());
  EXPECT_LT(relative_difference(check::flatten(g64.params), check::flatten(g32.params)), 1e-5);
  EXPECT_LT(relative_difference(g64.d_input, g32.d_input.cast<double>()), 1e-5);
}

TEST(Elman, StepJacobianIsDiagFprimeTimesW) {
  Rng rng(4);
  const Shape s{3, 5, 2, 4};
  for (Activation f : nonlinearities) {
    auto cell = random_cell(s, f, rng);
    const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const auto c = cell.forward(x, s.B);
    for (Index t = 0; t < s.T; ++t)
      for (Index b = 0; b < s.B; ++b) {
        const Mat<double> prev = t == 0 ? Mat<double>(Mat<double>::Zero(s.H, s.B))
                                        : Mat<double>(cell.output(c).middleCols((t - 1) * s.B, s.B));
        const Mat<double> numeric = check::numeric_step_jacobian(cell, x.middleCols(t * s.B, s.B), prev, b);
        EXPECT_LT(relative_difference(cell.step_jacobian(c, t, b), numeric), 1e-7) << to_string(f);
      }
  }
}

TEST(Elman, BadInputIsRejectedWithANamedError) {
  Elman<double> cell(3, 4, Activation::tanh);
  Rng rng(1);
  cell.init_uniform(rng);
  const Mat<double> x = rng.normal_matrix<double>(3, 10);
  auto message = [&](auto&& f) {
    try {
      f();
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { cell.forward(Mat<double>(2, 10), 2); }),
            "input: expected shape (3, T*2), got (2, 10)");
  EXPECT_EQ(message([&] { cell.forward(x, 3); }), "input: expected shape (3, T*3), got (3, 10)");
  EXPECT_EQ(message([&] { cell.forward(Mat<double>(3, 0), 2); }), "input: empty sequence (no time steps)");
  EXPECT_EQ(message([&] { cell.forward(x, 0); }), "input: batch size must be positive, got 0");
  EXPECT_EQ(message([&] { cell.forward(x, 2, Mat<double>::Zero(4, 3)); }),
            "h0: expected shape (4, 2), got (4, 3)");
  Mat<double> xn = x;
  xn(1, 7) = NAN;
  EXPECT_EQ(message([&] { cell.forward(xn, 2); }), "input has a non-finite value at (1, 7)");
  auto bad = cell;
  bad.params.weight_hh(0, 0) = INFINITY;
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_hh has a non-finite value at (0, 0)");
  bad = cell;
  bad.params.weight_hh = Mat<double>::Zero(4, 5);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_hh: expected shape (4, 4), got (4, 5)");
  bad = cell;
  bad.params.bias_hh = Vec<double>::Zero(3);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "bias_hh: expected shape (4, 1), got (3, 1)");
  const auto c = cell.forward(x, 2);
  EXPECT_EQ(message([&] { bptt(cell, c, Mat<double>::Zero(4, 9), Mat<double>()); }),
            "d_output: expected shape (4, 10), got (4, 9)");
  EXPECT_THROW(bptt(cell, c, Mat<double>(), Mat<double>(), -1), InvalidInput);
  EXPECT_THROW(parse_activation("swish"), InvalidInput);
  EXPECT_THROW(Elman<double>(0, 4, Activation::tanh), InvalidInput);
}

TEST(Elman, WronglyShapedGradientsAreRejectedWithTheirNames) {
  // backward_range accumulates into grads: each tensor must have its parameter's shape.
  Rng rng(2);
  const auto cell = check::make_cell<Elman<double>>(3, 4, rng);
  EXPECT_EQ(check::gradient_shape_failure(cell, cell.forward(rng.normal_matrix<double>(3, 10), 2)), "");
}
