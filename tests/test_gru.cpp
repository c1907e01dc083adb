#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "cell_testing.hpp"
#include "rnnscope/cells/gru.hpp"
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

GRU<double> random_cell(const Shape& s, Rng& rng, bool bias = true, double scale = 1.0) {
  GRU<double> cell(s.I, s.H, bias);
  cell.init_uniform(rng);
  cell.params.for_each([&](const char*, auto& t) { t *= scale; });
  return cell;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// The GRU equations written out entry by entry, reading the gate blocks r, z, n
// from the rows [0, H), [H, 2H), [2H, 3H) of the parameters.
Mat<double> reference_forward(const GRU<double>& cell, const Mat<double>& x, Index B, const Mat<double>& h0) {
  const Index I = cell.input_size(), H = cell.output_size(), T = x.cols() / B;
  const auto& p = cell.params;
  const bool bias = p.bias_ih.size() > 0;
  Mat<double> y(H, T * B);
  for (Index b = 0; b < B; ++b) {
    Vec<double> h = h0.col(b);
    for (Index t = 0; t < T; ++t) {
      Vec<double> h_new(H);
      for (Index i = 0; i < H; ++i) {
        double a[3], m[3];  // input and hidden pre-activations of the rows i, H+i, 2H+i
        for (Index g = 0; g < 3; ++g) {
          const Index row = g * H + i;
          a[g] = bias ? p.bias_ih(row) : 0.0;
          m[g] = bias ? p.bias_hh(row) : 0.0;
          for (Index j = 0; j < I; ++j) a[g] += p.weight_ih(row, j) * x(j, t * B + b);
          for (Index j = 0; j < H; ++j) m[g] += p.weight_hh(row, j) * h(j);
        }
        const double r = sigmoid(a[0] + m[0]);
        const double z = sigmoid(a[1] + m[1]);
        const double n = std::tanh(a[2] + r * m[2]);
        h_new(i) = (1 - z) * n + z * h(i);
      }
      h = h_new;
      y.col(t * B + b) = h;
    }
  }
  return y;
}

}  // namespace

TEST(GRU, ForwardMatchesHandWrittenReference) {
  Rng rng(8);
  for (const Shape& s : shapes)
    for (bool bias : {true, false}) {
      const auto cell = random_cell(s, rng, bias, 2.0);
      const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
      const Mat<double> h0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
      const auto c = cell.forward(x, s.B, h0);
      const Mat<double> y = reference_forward(cell, x, s.B, h0);
      EXPECT_LT((cell.output(c) - y).cwiseAbs().maxCoeff(), 1e-14) << "bias=" << bias;
      EXPECT_LT((cell.final_state(c) - y.rightCols(s.B)).cwiseAbs().maxCoeff(), 1e-14);
      // No h0 means zeros.
      const Mat<double> zeros = Mat<double>::Zero(s.H, s.B);
      EXPECT_LT((cell.output(cell.forward(x, s.B)) - reference_forward(cell, x, s.B, zeros)).cwiseAbs().maxCoeff(),
                1e-14);
    }
}

TEST(GRU, ForwardMatchesPyTorch) {
  // torch.nn.GRU(2, 3) in double with weight_ih_l0[i, j] = 0.4 sin(0.7i + 1.3j + 0.1),
  // weight_hh_l0[i, j] = 0.4 cos(0.5i - 0.9j + 0.2), bias_ih_l0[i] = 0.3 sin(1.1i + 0.5),
  // bias_hh_l0[i] = 0.3 cos(0.8i + 0.3), x[t, b, f] = sin(t + 2b + 0.5f),
  // h0[0, b, i] = 0.5 cos(b + 0.6i); the outputs y[t, b, :] in order of t, then b.
  const Index I = 2, H = 3, B = 2, T = 3;
  GRU<double> cell(I, H);
  for (Index i = 0; i < 3 * H; ++i) {
    const double di = static_cast<double>(i);
    for (Index j = 0; j < I; ++j) cell.params.weight_ih(i, j) = 0.4 * std::sin(0.7 * di + 1.3 * double(j) + 0.1);
    for (Index j = 0; j < H; ++j) cell.params.weight_hh(i, j) = 0.4 * std::cos(0.5 * di - 0.9 * double(j) + 0.2);
    cell.params.bias_ih(i) = 0.3 * std::sin(1.1 * di + 0.5);
    cell.params.bias_hh(i) = 0.3 * std::cos(0.8 * di + 0.3);
  }
  Mat<double> x(I, T * B), h0(H, B);
  for (Index t = 0; t < T; ++t)
    for (Index b = 0; b < B; ++b)
      for (Index f = 0; f < I; ++f) x(f, t * B + b) = std::sin(double(t) + 2.0 * double(b) + 0.5 * double(f));
  for (Index b = 0; b < B; ++b)
    for (Index i = 0; i < H; ++i) h0(i, b) = 0.5 * std::cos(double(b) + 0.6 * double(i));
  const double torch_output[] = {
      0.18500792093305346,  0.2889707865980175,   0.15397020812794154,
      -0.048464191425167225, 0.067599307042275486, 0.03058525446911714,
      -0.1059321424574923,  0.11246096880048913,  0.161471026716311,
      0.16085396608687957,  0.24643213172144185,  0.036703215231307325,
      -0.14173941715043778, 0.11576588804758008,  0.13704335797838768,
      0.44919819642186998,  0.42584982318992226,  0.022920139924244295,
  };
  const Eigen::Map<const Mat<double>> expected(torch_output, H, T * B);
  const auto c = cell.forward(x, B, h0);
  EXPECT_LT((cell.output(c) - expected).cwiseAbs().maxCoeff(), 1e-14);
}

TEST(GRU, GradientsMatchFiniteDifferences) {
  Rng rng(7);
  for (const Shape& s : shapes)
    for (bool bias : {true, false}) {
      auto cell = random_cell(s, rng, bias, 1.5);
      const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
      const Mat<double> h0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
      const auto report = check_cell_gradients(cell, x, s.B, h0, rng);
      EXPECT_LT(report.worst_relative_error(), 1e-6)
          << "I=" << s.I << " H=" << s.H << " B=" << s.B << " T=" << s.T << " bias=" << bias << "\n"
          << report.to_string();
      EXPECT_EQ(report.tensors.size(), bias ? 6u : 4u);
    }
}

TEST(GRU, GradientCheckerCatchesAWrongBackward) {
  // Negative control: 1% off in one entry of the b_hn gradient must fail the check.
  Rng rng(3);
  const Shape s{3, 4, 2, 5};
  auto cell = random_cell(s, rng);
  Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> R = rng.normal_matrix<double>(s.H, s.T * s.B);
  auto loss = [&] { return (cell.output(cell.forward(x, s.B)).array() * R.array()).sum(); };
  auto grads = bptt(cell, cell.forward(x, s.B), R, Mat<double>());
  const Index entry = 2 * s.H + 1;  // b_hn[1]
  grads.params.bias_hh(entry) *= 1.01;
  const auto report = check_gradients(
      loss, {{"bias_hh", cell.params.bias_hh.data(), 3 * s.H, grads.params.bias_hh.data()}});
  EXPECT_FALSE(report.passed(1e-6));
  EXPECT_EQ(report.tensors[0].worst_index, entry);
}

TEST(GRU, LossGradientsMatchFiniteDifferences) {
  Rng rng(11);
  const Shape s{3, 5, 4, 6};
  auto cell = random_cell(s, rng);
  Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> target_all = rng.normal_matrix<double>(s.H, s.T * s.B);
  const std::vector<int> labels{0, 4, 2, 2};
  for (LossKind kind : {LossKind::mse_all, LossKind::cross_entropy_last}) {
    auto evaluate = [&] {
      const Mat<double> y = cell.output(cell.forward(x, s.B));
      return kind == LossKind::mse_all ? mse_all<double>(y, s.B, target_all) : cross_entropy_last<double>(y, s.B, labels);
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

TEST(GRU, TruncatedBpttMatchesItsDefinition) {
  Rng rng(5);
  const Shape s{2, 3, 2, 6};
  for (bool bias : {true, false}) {
    auto cell = random_cell(s, rng, bias, 1.5);
    const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> h0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
    const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
    const Mat<double> dfinal = rng.normal_matrix<double>(s.H, s.B);
    const auto cache = cell.forward(x, s.B, h0);
    for (Index K : {1, 2, 3, 0}) {
      const auto g = bptt(cell, cache, dy, dfinal, K);
      const auto brute = check::brute_force_bptt(cell, x, s.B, h0, dy, dfinal, K);
      EXPECT_LT(relative_difference(check::flatten(g.params), brute.params), 1e-7) << "bias=" << bias << " K=" << K;
      EXPECT_LT(relative_difference(g.d_input, brute.d_input), 1e-7) << "bias=" << bias << " K=" << K;
      EXPECT_LT(relative_difference(g.d_state0, brute.d_state0), 1e-7) << "bias=" << bias << " K=" << K;
    }
    // Truncation changes the gradient: the window-1 gradient differs from the full one.
    const auto full = bptt(cell, cache, dy, dfinal);
    const auto k1 = bptt(cell, cache, dy, dfinal, 1);
    EXPECT_GT(relative_difference(check::flatten(full.params), check::flatten(k1.params)), 1e-3);
  }
}

TEST(GRU, FloatAgreesWithDouble) {
  Rng rng(2);
  const Shape s{8, 16, 4, 20};
  auto cd = random_cell(s, rng);
  GRU<float> cf(s.I, s.H);
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
  EXPECT_LT(relative_difference(cd.step_jacobian(c64, 7, 1), cf.step_jacobian(c32, 7, 1).cast<double>()), 1e-5);
}

TEST(GRU, StepJacobianMatchesFiniteDifferences) {
  Rng rng(4);
  for (const Shape& s : {Shape{3, 5, 2, 4}, Shape{1, 1, 1, 3}, Shape{2, 7, 3, 2}})
    for (bool bias : {true, false}) {
      auto cell = random_cell(s, rng, bias, 2.0);
      const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
      const Mat<double> h0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
      const auto c = cell.forward(x, s.B, h0);
      for (Index t = 0; t < s.T; ++t)
        for (Index b = 0; b < s.B; ++b) {
          const Mat<double> prev = c.states.middleCols(t * s.B, s.B);
          const Mat<double> numeric = check::numeric_step_jacobian(cell, x.middleCols(t * s.B, s.B), prev, b);
          const Mat<double> J = cell.step_jacobian(c, t, b);
          ASSERT_EQ(J.rows(), s.H);
          ASSERT_EQ(J.cols(), s.H);
          EXPECT_LT(relative_difference(J, numeric), 1e-7) << "H=" << s.H << " bias=" << bias << " t=" << t;
        }
    }
}

TEST(GRU, StepJacobiansChainToTheStateCotangentOfBackward) {
  // v^T J_{T-1} ... J_0 is what backward returns for the initial state when only
  // the final state carries the cotangent v.
  Rng rng(9);
  const Shape s{3, 6, 3, 8};
  auto cell = random_cell(s, rng, true, 1.5);
  const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
  const auto c = cell.forward(x, s.B, rng.normal_matrix<double>(s.H, s.B, 0.5));
  const Mat<double> v = rng.normal_matrix<double>(s.H, s.B);
  auto grads = cell.zero_gradients(c);
  const Mat<double> d_state0 = cell.backward_range(c, Mat<double>(), v, 0, s.T, grads);
  for (Index b = 0; b < s.B; ++b) {
    Vec<double> u = v.col(b);
    for (Index t = s.T - 1; t >= 0; --t) u = cell.step_jacobian(c, t, b).transpose() * u;
    EXPECT_LT(relative_difference(u, d_state0.col(b)), 1e-12) << "b=" << b;
  }
}

// Runs a cell whose pre-activations are of order 1e3 and checks that nothing overflows.
template <class Cell>
void expect_finite_and_bounded(const Cell& cell, const Mat<typename Cell::Scalar>& x, Index B) {
  using S = typename Cell::Scalar;
  const auto c = cell.forward(x, B);
  const Mat<S> y = cell.output(c);
  EXPECT_TRUE(y.allFinite());
  EXPECT_LE(y.cwiseAbs().maxCoeff(), S(1));
  EXPECT_TRUE(cell.step_jacobian(c, c.steps - 1, B - 1).allFinite());
  const auto g = bptt(cell, c, y, Mat<S>());
  EXPECT_TRUE(check::flatten(g.params).allFinite());
  EXPECT_TRUE(g.d_input.allFinite());
}

TEST(GRU, SaturatedGatesStayFinite) {
  // h_t is a convex combination of n_t in [-1, 1] and h_{t-1} = 0 at the start:
  // |h_t| <= 1 however saturated the gates are.
  Rng rng(6);
  const auto cd = random_cell({4, 5, 3, 6}, rng, true, 300.0);
  const Mat<double> x = rng.normal_matrix<double>(4, 18, 10.0);
  expect_finite_and_bounded(cd, x, 3);
  GRU<float> cf(4, 5);
  cf.params.weight_ih = cd.params.weight_ih.cast<float>();
  cf.params.weight_hh = cd.params.weight_hh.cast<float>();
  cf.params.bias_ih = cd.params.bias_ih.cast<float>();
  cf.params.bias_hh = cd.params.bias_hh.cast<float>();
  expect_finite_and_bounded(cf, Mat<float>(x.cast<float>()), 3);
}

TEST(GRU, CacheHoldsFiveHPlusIScalarsPerStepAndBatchElement) {
  const Index I = 3, H = 7, B = 4, T = 5;
  GRU<float> cell(I, H);
  const auto c = cell.forward(Mat<float>::Ones(I, T * B), B);
  const Index scalars = c.input.size() + c.states.size() + c.gates.size() + c.hidden_n.size();
  EXPECT_EQ(scalars, (5 * H + I) * T * B + H * B);  // + H*B for the initial state
}

TEST(GRU, BadInputIsRejectedWithANamedError) {
  GRU<double> cell(3, 4);
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
  Mat<double> h0n = Mat<double>::Zero(4, 2);
  h0n(3, 1) = -INFINITY;
  EXPECT_EQ(message([&] { cell.forward(x, 2, h0n); }), "h0 has a non-finite value at (3, 1)");
  auto bad = cell;
  bad.params.weight_hh(11, 2) = INFINITY;
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_hh has a non-finite value at (11, 2)");
  bad = cell;
  bad.params.weight_hh = Mat<double>::Zero(8, 4);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_hh: expected shape (12, 4), got (8, 4)");
  bad = cell;
  bad.params.weight_ih = Mat<double>::Zero(4, 3);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_ih: expected shape (12, 3), got (4, 3)");
  bad = cell;
  bad.params.bias_hh = Vec<double>::Zero(4);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "bias_hh: expected shape (12, 1), got (4, 1)");
  bad = cell;
  bad.params.bias_ih = Vec<double>();
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "GRU: bias_ih and bias_hh must both be present or both absent");
  const auto c = cell.forward(x, 2);
  EXPECT_EQ(message([&] { bptt(cell, c, Mat<double>::Zero(4, 9), Mat<double>()); }),
            "d_output: expected shape (4, 10), got (4, 9)");
  EXPECT_EQ(message([&] { bptt(cell, c, Mat<double>(), Mat<double>::Zero(3, 2)); }),
            "d_final: expected shape (4, 2), got (3, 2)");
  auto grads = cell.zero_gradients(c);
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>(), Mat<double>(), 3, 6, grads); }),
            "GRU::backward_range: bad step range");
  EXPECT_EQ(message([&] { cell.step_jacobian(c, 5, 0); }), "step_jacobian: step or batch out of range");
  EXPECT_EQ(message([&] { cell.step_jacobian(c, 0, 2); }), "step_jacobian: step or batch out of range");
  EXPECT_THROW(bptt(cell, c, Mat<double>(), Mat<double>(), -1), InvalidInput);
  EXPECT_EQ(message([] { GRU<double>(0, 4); }), "GRU: input and hidden sizes must be positive");
  EXPECT_EQ(message([] { GRU<float>(3, 0, false); }), "GRU: input and hidden sizes must be positive");
}

static_assert(RecurrentCell<GRU<float>> && RecurrentCell<GRU<double>>);

TEST(GRU, WronglyShapedGradientsAreRejectedWithTheirNames) {
  // backward_range accumulates into grads: each tensor must have its parameter's shape.
  Rng rng(2);
  const auto cell = check::make_cell<GRU<double>>(3, 4, rng);
  EXPECT_EQ(check::gradient_shape_failure(cell, cell.forward(rng.normal_matrix<double>(3, 10), 2)), "");
}
