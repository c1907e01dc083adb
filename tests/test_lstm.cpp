#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "cell_testing.hpp"
#include "rnnscope/cells/lstm.hpp"
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

static_assert(RecurrentCell<LSTM<float>> && RecurrentCell<LSTM<double>>);

LSTM<double> random_cell(const Shape& s, Rng& rng, bool bias = true, double scale = 1.0) {
  LSTM<double> cell(s.I, s.H, bias);
  cell.init_uniform(rng);
  cell.params.for_each([&](const char*, auto& t) { t *= scale; });
  return cell;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// The LSTM written out entry by entry from its equations: returns the states
// [h_t; c_t] of every step, (2H, T*B).
Mat<double> reference_forward(const LSTM<double>::Params& p, const Mat<double>& x, Index B,
                              const Mat<double>& state0) {
  const Index H = p.weight_hh.cols(), I = p.weight_ih.cols(), T = x.cols() / B;
  Mat<double> out(2 * H, T * B);
  for (Index b = 0; b < B; ++b) {
    Vec<double> h = state0.col(b).head(H), c = state0.col(b).tail(H);
    for (Index t = 0; t < T; ++t) {
      Vec<double> h_new(H), c_new(H);
      for (Index u = 0; u < H; ++u) {
        double z[4];  // i, f, g, o
        for (Index q = 0; q < 4; ++q) {
          const Index row = q * H + u;
          z[q] = p.bias_ih.size() > 0 ? p.bias_ih(row) + p.bias_hh(row) : 0.0;
          for (Index j = 0; j < I; ++j) z[q] += p.weight_ih(row, j) * x(j, t * B + b);
          for (Index j = 0; j < H; ++j) z[q] += p.weight_hh(row, j) * h(j);
        }
        c_new(u) = sigmoid(z[1]) * c(u) + sigmoid(z[0]) * std::tanh(z[2]);
        h_new(u) = sigmoid(z[3]) * std::tanh(c_new(u));
      }
      h = h_new;
      c = c_new;
      out.col(t * B + b) << h, c;
    }
  }
  return out;
}

}  // namespace

TEST(LSTM, ForwardMatchesPyTorchOnAScalarCell) {
  // I = H = 1, every gate with its own weights so that a swapped gate order shows.
  // Reference values: torch.nn.LSTM(1, 1) in float64 with these parameters.
  LSTM<double> cell(1, 1);
  cell.params.weight_ih << 0.7, -0.4, 1.1, 0.3;
  cell.params.weight_hh << -1.3, 0.5, 0.8, -0.6;
  cell.params.bias_ih << 0.2, -0.1, 0.05, 0.3;
  cell.params.bias_hh << -0.05, 0.4, -0.2, 0.1;
  Mat<double> x(1, 4);
  x << 0.5, -1.0, 2.0, 0.25;
  Mat<double> s0(2, 1);
  s0 << 0.3, -0.7;
  const auto c = cell.forward(x, 1, s0);
  const double h_torch[] = {-0.056345288165961939, -0.19937880124641799, 0.44680738965192635,
                            0.29916131507680377};
  for (Index t = 0; t < 4; ++t) EXPECT_NEAR(cell.output(c)(0, t), h_torch[t], 1e-15) << "t=" << t;
  EXPECT_NEAR(cell.final_state(c)(0, 0), 0.29916131507680377, 1e-15);
  EXPECT_NEAR(cell.final_state(c)(1, 0), 0.60755807279933871, 1e-15);
}

TEST(LSTM, ForwardMatchesEntrywiseReference) {
  Rng rng(8);
  for (const Shape& s : shapes)
    for (bool bias : {true, false}) {
      const auto cell = random_cell(s, rng, bias, 2.0);
      const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
      const Mat<double> s0 = rng.normal_matrix<double>(2 * s.H, s.B);
      const auto c = cell.forward(x, s.B, s0);
      const Mat<double> ref = reference_forward(cell.params, x, s.B, s0);
      EXPECT_LT((cell.output(c) - ref.topRows(s.H)).cwiseAbs().maxCoeff(), 1e-14);
      EXPECT_LT((cell.final_state(c) - ref.rightCols(s.B)).cwiseAbs().maxCoeff(), 1e-14);
      // Zero initial state when state0 is empty.
      const auto c0 = cell.forward(x, s.B);
      const Mat<double> ref0 = reference_forward(cell.params, x, s.B, Mat<double>::Zero(2 * s.H, s.B));
      EXPECT_LT((cell.output(c0) - ref0.topRows(s.H)).cwiseAbs().maxCoeff(), 1e-14);
    }
}

TEST(LSTM, ForwardInTwoPiecesEqualsOnePass) {
  // The state [h; c] carries everything: running steps 0..2 then 3..5 from the
  // final state of the first piece reproduces one pass over 0..5.
  Rng rng(9);
  const Shape s{3, 4, 2, 6};
  const auto cell = random_cell(s, rng);
  const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> s0 = rng.normal_matrix<double>(2 * s.H, s.B);
  const auto whole = cell.forward(x, s.B, s0);
  const auto first = cell.forward(x.leftCols(3 * s.B), s.B, s0);
  const auto second = cell.forward(x.rightCols(3 * s.B), s.B, cell.final_state(first));
  EXPECT_EQ(Mat<double>(cell.output(second)), Mat<double>(cell.output(whole).rightCols(3 * s.B)));
  EXPECT_EQ(Mat<double>(cell.final_state(second)), Mat<double>(cell.final_state(whole)));
}

TEST(LSTM, GradientsMatchFiniteDifferences) {
  Rng rng(7);
  for (const Shape& s : shapes)
    for (bool bias : {true, false}) {
      auto cell = random_cell(s, rng, bias, 1.5);
      const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
      const Mat<double> s0 = rng.normal_matrix<double>(2 * s.H, s.B, 0.5);
      const auto report = check_cell_gradients(cell, x, s.B, s0, rng);
      EXPECT_LT(report.worst_relative_error(), 1e-6)
          << "I=" << s.I << " H=" << s.H << " B=" << s.B << " T=" << s.T << " bias=" << bias << "\n"
          << report.to_string();
      EXPECT_EQ(report.tensors.size(), bias ? 6u : 4u);
    }
}

TEST(LSTM, GradientCheckerCatchesAWrongBackward) {
  // Negative control: a gradient off by a factor somewhere must fail the check.
  Rng rng(3);
  auto cell = random_cell({3, 4, 2, 5}, rng);
  Mat<double> x = rng.normal_matrix<double>(3, 10);
  const Mat<double> R = rng.normal_matrix<double>(4, 10);
  auto loss = [&] { return (cell.output(cell.forward(x, 2)).array() * R.array()).sum(); };
  auto grads = bptt(cell, cell.forward(x, 2), R, Mat<double>());
  grads.params.weight_hh(5, 2) *= 1.01;  // a forget-gate row
  const auto report = check_gradients(
      loss, {{"weight_hh", cell.params.weight_hh.data(), 64, grads.params.weight_hh.data()}});
  EXPECT_FALSE(report.passed(1e-6));
  EXPECT_EQ(report.tensors[0].worst_index, 5 + 2 * 16);
}

TEST(LSTM, LossGradientsMatchFiniteDifferences) {
  Rng rng(11);
  const Shape s{3, 5, 4, 6};
  auto cell = random_cell(s, rng);
  Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
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

TEST(LSTM, TruncatedBpttMatchesItsDefinition) {
  Rng rng(5);
  const Shape s{2, 3, 2, 6};
  for (bool bias : {true, false}) {
    auto cell = random_cell(s, rng, bias, 1.5);
    const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> s0 = rng.normal_matrix<double>(2 * s.H, s.B, 0.5);
    const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
    const Mat<double> dfinal = rng.normal_matrix<double>(2 * s.H, s.B);
    const auto cache = cell.forward(x, s.B, s0);
    for (Index K : {1, 2, 3, 0}) {
      const auto g = bptt(cell, cache, dy, dfinal, K);
      const auto brute = check::brute_force_bptt(cell, x, s.B, s0, dy, dfinal, K);
      EXPECT_LT(relative_difference(check::flatten(g.params), brute.params), 1e-7) << "K=" << K;
      EXPECT_LT(relative_difference(g.d_input, brute.d_input), 1e-7) << "K=" << K;
      EXPECT_LT(relative_difference(g.d_state0, brute.d_state0), 1e-7) << "K=" << K;
    }
    // Truncation changes the gradient: the window-1 gradient differs from the full one.
    const auto full = bptt(cell, cache, dy, dfinal);
    const auto k1 = bptt(cell, cache, dy, dfinal, 1);
    EXPECT_GT(relative_difference(check::flatten(full.params), check::flatten(k1.params)), 1e-3);
  }
}

TEST(LSTM, FloatAgreesWithDouble) {
  Rng rng(2);
  const Shape s{8, 16, 4, 20};
  auto cd = random_cell(s, rng);
  LSTM<float> cf(s.I, s.H);
  cf.params.weight_ih = cd.params.weight_ih.cast<float>();
  cf.params.weight_hh = cd.params.weight_hh.cast<float>();
  cf.params.bias_ih = cd.params.bias_ih.cast<float>();
  cf.params.bias_hh = cd.params.bias_hh.cast<float>();
  const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> s0 = rng.normal_matrix<double>(2 * s.H, s.B, 0.5);
  const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
  const Mat<double> dfinal = rng.normal_matrix<double>(2 * s.H, s.B);
  const auto c64 = cd.forward(x, s.B, s0);
  const auto c32 = cf.forward(x.cast<float>(), s.B, s0.cast<float>());
  EXPECT_LT(relative_difference(cd.output(c64), cf.output(c32).cast<double>()), 1e-5);
  EXPECT_LT(relative_difference(cd.final_state(c64), cf.final_state(c32).cast<double>()), 1e-5);
  const auto g64 = bptt(cd, c64, dy, dfinal);
  const auto g32 = bptt(cf, c32, dy.cast<float>(), dfinal.cast<float>());
  EXPECT_LT(relative_difference(check::flatten(g64.params), check::flatten(g32.params)), 1e-5);
  EXPECT_LT(relative_difference(g64.d_input, g32.d_input.cast<double>()), 1e-5);
  EXPECT_LT(relative_difference(g64.d_state0, g32.d_state0.cast<double>()), 1e-5);
  EXPECT_LT(relative_difference(cd.step_jacobian(c64, 7, 1), cf.step_jacobian(c32, 7, 1).cast<double>()),
            1e-5);
}

TEST(LSTM, StepJacobianMatchesFiniteDifferences) {
  Rng rng(4);
  for (const Shape& s : {Shape{3, 5, 2, 4}, Shape{1, 1, 1, 2}, Shape{2, 3, 3, 3}})
    for (bool bias : {true, false}) {
      const auto cell = random_cell(s, rng, bias, 1.5);
      const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
      const Mat<double> s0 = rng.normal_matrix<double>(2 * s.H, s.B);
      const auto c = cell.forward(x, s.B, s0);
      for (Index t = 0; t < s.T; ++t)
        for (Index b = 0; b < s.B; ++b) {
          const Mat<double> prev = c.states.middleCols(t * s.B, s.B);  // [h_{t-1}; c_{t-1}]
          const Mat<double> numeric = check::numeric_step_jacobian(cell, x.middleCols(t * s.B, s.B), prev, b);
          const Mat<double> J = cell.step_jacobian(c, t, b);
          ASSERT_EQ(J.rows(), 2 * s.H);
          ASSERT_EQ(J.cols(), 2 * s.H);
          EXPECT_LT(relative_difference(J, numeric), 1e-7) << "H=" << s.H << " t=" << t << " b=" << b;
        }
    }
}

TEST(LSTM, CellPathIsTheForgetGate) {
  // dc_t/dc_{t-1} with h_{t-1} fixed is diag(f_t), f_t = sigmoid(z_f) computed here
  // from the parameters, and it is the lower-right block of the step Jacobian.
  Rng rng(6);
  const Shape s{3, 4, 2, 5};
  const auto cell = random_cell(s, rng, true, 1.5);
  const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> s0 = rng.normal_matrix<double>(2 * s.H, s.B);
  const auto c = cell.forward(x, s.B, s0);
  const auto& p = cell.params;
  const Index H = s.H;
  for (Index t = 0; t < s.T; ++t)
    for (Index b = 0; b < s.B; ++b) {
      const Index k = t * s.B + b;
      const Vec<double> h_prev = c.states.col(k).head(H);
      const Vec<double> z_f = p.weight_ih.middleRows(H, H) * x.col(k) +
                              p.weight_hh.middleRows(H, H) * h_prev + p.bias_ih.segment(H, H) +
                              p.bias_hh.segment(H, H);
      Vec<double> f(H);
      for (Index u = 0; u < H; ++u) f(u) = sigmoid(z_f(u));
      const Vec<double> path = cell.cell_path_jacobian(c, t, b);
      EXPECT_LT(relative_difference(path, f), 1e-14);
      const Mat<double> J = cell.step_jacobian(c, t, b);
      EXPECT_EQ(Mat<double>(J.bottomRightCorner(H, H)), Mat<double>(path.asDiagonal()));
      // The finite-difference Jacobian's cell-to-cell block is diag(f_t) too.
      const Mat<double> numeric = check::numeric_step_jacobian(cell, x.middleCols(t * s.B, s.B),
                                                               c.states.middleCols(t * s.B, s.B), b);
      const Mat<double> cell_block = numeric.bottomRightCorner(H, H);
      EXPECT_LT(relative_difference(cell_block.diagonal(), f), 1e-7);
      Mat<double> off_diagonal = cell_block;
      off_diagonal.diagonal().setZero();
      EXPECT_LT(off_diagonal.cwiseAbs().maxCoeff(), 1e-9);
    }
}

namespace {
// The gates [i; f; g; o] (after their nonlinearities) of one step, from the parameters.
Vec<double> reference_gates(const LSTM<double>::Params& p, const Vec<double>& x, const Vec<double>& h_prev) {
  const Index H = p.weight_hh.cols();
  Vec<double> z = p.weight_ih * x + p.weight_hh * h_prev;
  if (p.bias_ih.size() > 0) z += p.bias_ih + p.bias_hh;
  for (Index r = 0; r < 4 * H; ++r) z(r) = r >= 2 * H && r < 3 * H ? std::tanh(z(r)) : sigmoid(z(r));
  return z;
}
}  // namespace

TEST(LSTM, CellToCellJacobianMatchesFiniteDifferences) {
  // dc_t/dc_{t-1} with h_{t-1} = o_{t-1} tanh(c_{t-1}) following c_{t-1} (o_{t-1} fixed), by central differences
  // of c_t = f c_{t-1} + i g with the gates recomputed from the perturbed h_{t-1}.
  Rng rng(12);
  for (const Shape& s : {Shape{3, 5, 2, 4}, Shape{1, 1, 1, 3}, Shape{2, 3, 3, 3}})
    for (bool bias : {true, false}) {
      const auto cell = random_cell(s, rng, bias, 1.5);
      const Index H = s.H, B = s.B;
      const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * B);
      const Mat<double> s0 = rng.normal_matrix<double>(2 * H, B);
      const auto c = cell.forward(x, B, s0);
      for (Index t = 0; t < s.T; ++t)
        for (Index b = 0; b < B; ++b) {
          const Index k = t * B + b;
          const Vec<double> c_prev = c.states.col(k).tail(H);
          // o_{t-1} from step t - 1's own input and h_{t-2}; at t = 0 the initial h is given apart from c.
          const bool through_h = t > 0;
          const Vec<double> o_prev =
              through_h ? Vec<double>(reference_gates(cell.params, x.col(k - B), c.states.col(k - B).head(H)).tail(H))
                        : Vec<double>();
          auto cell_next = [&](const Vec<double>& cp) {
            const Vec<double> h_prev =
                through_h ? Vec<double>(o_prev.array() * cp.array().tanh()) : Vec<double>(c.states.col(k).head(H));
            const Vec<double> g = reference_gates(cell.params, x.col(k), h_prev);
            return Vec<double>(g.segment(H, H).array() * cp.array() + g.head(H).array() * g.segment(2 * H, H).array());
          };
          Mat<double> numeric(H, H);
          const double eps = 1e-6;
          for (Index j = 0; j < H; ++j) {
            Vec<double> up = c_prev, down = c_prev;
            up(j) += eps;
            down(j) -= eps;
            numeric.col(j) = (cell_next(up) - cell_next(down)) / (2 * eps);
          }
          const Mat<double> J = cell.cell_to_cell_jacobian(c, t, b);
          EXPECT_LT(relative_difference(J, numeric), 1e-8) << "H=" << H << " t=" << t << " b=" << b;
          if (!through_h) {
            EXPECT_EQ(J, Mat<double>(cell.cell_path_jacobian(c, t, b).asDiagonal()));
          }
        }
    }
}

TEST(LSTM, CellToCellJacobianIsTheForgetGateWithoutRecurrentWeights) {
  // With W_hh = 0 the gates do not read h_{t-1}: dc_t/dc_{t-1} = diag(f_t) exactly, at every step.
  Rng rng(13);
  const Shape s{3, 4, 2, 6};
  auto cell = random_cell(s, rng);
  cell.params.weight_hh.setZero();
  const auto c = cell.forward(rng.normal_matrix<double>(s.I, s.T * s.B), s.B, rng.normal_matrix<double>(8, s.B));
  for (Index t = 0; t < s.T; ++t)
    for (Index b = 0; b < s.B; ++b)
      EXPECT_EQ(cell.cell_to_cell_jacobian(c, t, b), Mat<double>(cell.cell_path_jacobian(c, t, b).asDiagonal()));
}

TEST(LSTM, CacheHoldsSevenHPlusIScalarsPerStepAndBatchElement) {
  // The figure stated in lstm.hpp, measured on the cache's tensors.
  Rng rng(12);
  const Shape s{3, 5, 4, 6};
  const auto cell = random_cell(s, rng);
  const auto c = cell.forward(rng.normal_matrix<double>(s.I, s.T * s.B), s.B);
  Index scalars = 0;
  for (const Mat<double>* m : {&c.input, &c.states, &c.gates, &c.tanh_cell}) scalars += m->size();
  const Index initial_state = 2 * s.H * s.B;
  EXPECT_EQ(scalars - initial_state, (7 * s.H + s.I) * s.T * s.B);
}

TEST(LSTM, BadInputIsRejectedWithANamedError) {
  LSTM<double> cell(3, 4);
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
  // state0 is [h0; c0], (2H, B): h0 alone is the wrong shape.
  EXPECT_EQ(message([&] { cell.forward(x, 2, Mat<double>::Zero(4, 2)); }),
            "state0: expected shape (8, 2), got (4, 2)");
  EXPECT_EQ(message([&] { cell.forward(x, 2, Mat<double>::Zero(8, 3)); }),
            "state0: expected shape (8, 2), got (8, 3)");
  Mat<double> xn = x;
  xn(1, 7) = NAN;
  EXPECT_EQ(message([&] { cell.forward(xn, 2); }), "input has a non-finite value at (1, 7)");
  Mat<double> s0 = Mat<double>::Zero(8, 2);
  s0(6, 1) = NAN;
  EXPECT_EQ(message([&] { cell.forward(x, 2, s0); }), "state0 has a non-finite value at (6, 1)");
  auto bad = cell;
  bad.params.weight_hh(0, 0) = INFINITY;
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_hh has a non-finite value at (0, 0)");
  bad = cell;
  bad.params.bias_ih(9) = NAN;
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "bias_ih has a non-finite value at (9, 0)");
  bad = cell;
  bad.params.weight_hh = Mat<double>::Zero(12, 4);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_hh: expected shape (16, 4), got (12, 4)");
  bad = cell;
  bad.params.weight_ih = Mat<double>::Zero(12, 3);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "weight_ih: expected shape (16, 3), got (12, 3)");
  bad = cell;
  bad.params.bias_hh = Vec<double>::Zero(4);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "bias_hh: expected shape (16, 1), got (4, 1)");
  bad = cell;
  bad.params.bias_ih = Vec<double>::Zero(3);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }), "bias_ih: expected shape (16, 1), got (3, 1)");
  bad = cell;
  bad.params.bias_hh.resize(0);
  EXPECT_EQ(message([&] { bad.forward(x, 2); }),
            "LSTM: bias_ih and bias_hh must both be present or both absent");

  const auto c = cell.forward(x, 2);
  EXPECT_EQ(message([&] { bptt(cell, c, Mat<double>::Zero(4, 9), Mat<double>()); }),
            "d_output: expected shape (4, 10), got (4, 9)");
  EXPECT_EQ(message([&] { bptt(cell, c, Mat<double>(), Mat<double>::Zero(4, 2)); }),
            "d_final: expected shape (8, 2), got (4, 2)");
  auto grads = cell.zero_gradients(c);
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>(), Mat<double>::Zero(4, 2), 0, 5, grads); }),
            "d_state: expected shape (8, 2), got (4, 2)");
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>::Zero(4, 10), Mat<double>(), 1, 5, grads); }),
            "d_output: expected shape (4, 8), got (4, 10)");
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>(), Mat<double>(), 2, 2, grads); }),
            "LSTM::backward_range: bad step range");
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>(), Mat<double>(), 0, 6, grads); }),
            "LSTM::backward_range: bad step range");
  auto wrong = grads;
  wrong.d_input = Mat<double>::Zero(3, 8);
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>(), Mat<double>(), 0, 5, wrong); }),
            "grads.d_input: expected shape (3, 10), got (3, 8)");
  wrong = grads;
  wrong.params.weight_hh = Mat<double>::Zero(4, 4);
  EXPECT_EQ(message([&] { cell.backward_range(c, Mat<double>(), Mat<double>(), 0, 5, wrong); }),
            "grads.weight_hh: expected shape (16, 4), got (4, 4)");
  EXPECT_EQ(message([&] { cell.step_jacobian(c, 5, 0); }), "step_jacobian: step or batch out of range");
  EXPECT_EQ(message([&] { cell.step_jacobian(c, 0, 2); }), "step_jacobian: step or batch out of range");
  EXPECT_EQ(message([&] { cell.cell_path_jacobian(c, -1, 0); }),
            "cell_path_jacobian: step or batch out of range");
  EXPECT_THROW(bptt(cell, c, Mat<double>(), Mat<double>(), -1), InvalidInput);
  EXPECT_EQ(message([] { LSTM<double>(0, 4); }), "LSTM: input and hidden sizes must be positive");
  EXPECT_EQ(message([] { LSTM<double>(3, 0); }), "LSTM: input and hidden sizes must be positive");
}

TEST(LSTM, WronglyShapedGradientsAreRejectedWithTheirNames) {
  // backward_range accumulates into grads: each tensor must have its parameter's shape.
  Rng rng(2);
  const auto cell = check::make_cell<LSTM<double>>(3, 4, rng);
  EXPECT_EQ(check::gradient_shape_failure(cell, cell.forward(rng.normal_matrix<double>(3, 10), 2)), "");
}
