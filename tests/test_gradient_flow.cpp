// The diagnostics on every recurrent cell, through the cell contract only:
// step Jacobians against finite differences, Jacobian chains against explicit
// products and against backward, contributions by distance against BPTT, and
// the LSTM's two gradient routes. Known facts of the source documents come out.
#include <gtest/gtest.h>

#include <cmath>

#include "cell_testing.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/diagnostics/contributions.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/studies/lookback.hpp"
#include "rnnscope/diagnostics/lstm_paths.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/training/init.hpp"

using namespace rnnscope;
using check::relative_difference;

namespace {

template <class Cell>
class EveryCell : public ::testing::Test {};
using Cells = ::testing::Types<Elman<double>, LSTM<double>, GRU<double>, EulerRnn<double>, SkipRnn<double>>;
TYPED_TEST_SUITE(EveryCell, Cells);

}  // namespace

TYPED_TEST(EveryCell, StepJacobianMatchesFiniteDifferences) {
  Rng rng(21);
  const Index I = 3, H = 5, B = 2, T = 4;
  auto cell = check::make_cell<TypeParam>(I, H, rng);
  cell.params.for_each([](const char*, auto& p) { p *= 2.0; });  // away from the linear regime
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> s0 = rng.normal_matrix<double>(cell.state_size(), B, 0.5);
  const auto c = cell.forward(x, B, s0);
  Mat<double> prev = s0;
  for (Index t = 0; t < T; ++t) {
    for (Index b = 0; b < B; ++b) {
      const Mat<double> numeric = check::numeric_step_jacobian(cell, x.middleCols(t * B, B), prev, b);
      EXPECT_LT(relative_difference(Mat<double>(cell.step_jacobian(c, t, b)), numeric), 1e-7) << "t=" << t;
    }
    prev = check::one_step(cell, x.middleCols(t * B, B), prev);
  }
}

TYPED_TEST(EveryCell, ChainsEqualExplicitProductsAndBackward) {
  Rng rng(22);
  const Index I = 2, H = 4, B = 2, T = 7;
  auto cell = check::make_cell<TypeParam>(I, H, rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const auto c = cell.forward(x, B);
  const Index S = cell.state_size();
  const Mat<double> g = rng.normal_matrix<double>(S, B);
  auto grads = cell.zero_gradients(c);
  for (Index b = 0; b < B; ++b) {
    const auto chains = jacobian_chains(cell, c, b);
    const auto norms = jacobian_chain_norms(cell, c, b);
    const auto ratios = lookback_log10_ratios(cell, c, b, g.col(b));
    Mat<double> product = Mat<double>::Identity(S, S);
    Mat<double> d = g;
    for (Index L = 0; L <= T; ++L) {
      if (L > 0) {
        product = product * cell.step_jacobian(c, T - L, b);
        d = cell.backward_range(c, Mat<double>(), d, T - L, T - L + 1, grads);  // dL/ds_{T-1-L}
      }
      const auto l = static_cast<size_t>(L);
      EXPECT_LT(relative_difference(chains[l], product), 1e-12) << "L=" << L;
      EXPECT_NEAR(norms.log10_spectral[l], std::log10(Eigen::JacobiSVD<Mat<double>>(product).singularValues()(0)),
                  1e-10);
      EXPECT_LT(relative_difference(Vec<double>(chains[l].transpose() * g.col(b)), Vec<double>(d.col(b))), 1e-12)
          << "L=" << L;
      EXPECT_NEAR(ratios[l], std::log10(d.col(b).norm() / g.col(b).norm()), 1e-10) << "L=" << L;
    }
  }
}

TYPED_TEST(EveryCell, ContributionsByDistanceSumToTheBpttGradient) {
  Rng rng(23);
  const Index I = 3, H = 3, B = 2, T = 8;
  auto cell = check::make_cell<TypeParam>(I, H, rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
  const auto c = cell.forward(x, B);
  const auto buckets = contributions_by_distance(cell, c, dy);
  ASSERT_EQ(buckets.size(), static_cast<size_t>(T));
  Vec<double> sum = Vec<double>::Zero(check::flatten(buckets[0]).size());
  for (const auto& bucket : buckets) sum += check::flatten(bucket);
  const auto full = bptt(cell, c, dy, Mat<double>());
  EXPECT_LT(relative_difference(sum, check::flatten(full.params)), 1e-10);
  // Each bucket sits at its distance: the buckets below K are truncated BPTT with window K.
  Vec<double> partial = Vec<double>::Zero(sum.size());
  for (Index K = 1; K < T; ++K) {
    partial += check::flatten(buckets[static_cast<size_t>(K - 1)]);
    EXPECT_LT(relative_difference(partial, check::flatten(bptt(cell, c, dy, Mat<double>(), K).params)), 1e-10)
        << "K=" << K;
  }
  // The far buckets are not all zero: information does travel.
  EXPECT_GT(check::flatten(buckets[static_cast<size_t>(T - 1)]).norm(), 0.0);
}

TYPED_TEST(EveryCell, LargestLyapunovExponentIsTheChainGrowthRate) {
  Rng rng(24);
  const Index H = 6, T = 2000;
  auto cell = check::make_cell<TypeParam>(1, H, rng);
  cell.params.for_each([](const char*, auto& p) { p *= 2.0; });
  const auto c = cell.forward(rng.normal_matrix<double>(1, T), 1);
  const auto exps = lyapunov_spectrum(cell, c, 0);
  ASSERT_EQ(exps.size(), static_cast<size_t>(cell.state_size()));
  for (size_t i = 1; i < exps.size(); ++i) EXPECT_GE(exps[i - 1], exps[i] - 1e-12);
  const auto norms = jacobian_chain_norms(cell, c, 0);
  const double growth = norms.log10_spectral.back() * std::log(10.0) / static_cast<double>(T);
  EXPECT_NEAR(exps[0], growth, 0.01);
}

namespace {

LSTM<double> lstm_with_forget_bias(Index I, Index H, double forget_bias, Rng& rng) {
  LSTM<double> cell(I, H);
  cell.init_uniform(rng);
  cell.params.bias_ih.segment(H, H).array() += forget_bias;  // gate order i, f, g, o
  return cell;
}

}  // namespace

TEST(LstmPaths, RoutesEqualTheirDefinitions) {
  Rng rng(25);
  const Index I = 2, H = 4, B = 2, T = 9;
  auto cell = lstm_with_forget_bias(I, H, 0.5, rng);
  cell.params.for_each([](const char*, auto& p) { p *= 2.0; });
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const auto c = cell.forward(x, B);
  const Vec<double> u_h = rng.normal_matrix<double>(H, 1), u_c = rng.normal_matrix<double>(H, 1);
  for (Index b = 0; b < B; ++b) {
    const auto p = lstm_paths(cell, c, b, u_h, u_c);
    ASSERT_EQ(p.distance.size(), static_cast<size_t>(T + 1));
    // The forget gates recomputed from the states: f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf).
    Vec<double> carousel = u_c.normalized();
    Mat<double> hidden = Mat<double>::Identity(H, H);
    Mat<double> total = Mat<double>::Identity(2 * H, 2 * H);
    Vec<double> u(2 * H);
    u << u_h.normalized(), u_c.normalized();
    for (Index L = 1; L <= T; ++L) {
      const Index t = T - L;
      const Vec<double> h_prev = t == 0 ? Vec<double>::Zero(H) : Vec<double>(cell.output(c).col((t - 1) * B + b));
      const Vec<double> a = cell.params.weight_ih.middleRows(H, H) * x.col(t * B + b) +
                            cell.params.bias_ih.segment(H, H) + cell.params.weight_hh.middleRows(H, H) * h_prev +
                            cell.params.bias_hh.segment(H, H);
      carousel = carousel.cwiseProduct(Vec<double>((1.0 + (-a.array()).exp()).inverse()));
      const Mat<double> j = cell.step_jacobian(c, t, b);
      hidden = hidden * j.topLeftCorner(H, H);
      total = total * j;
      const auto l = static_cast<size_t>(L);
      EXPECT_NEAR(p.cell_path_log10[l], std::log10(carousel.norm()), 1e-12) << L;
      EXPECT_NEAR(p.hidden_path_log10[l], std::log10((hidden.transpose() * u_h.normalized()).norm()), 1e-10) << L;
      EXPECT_NEAR(p.total_log10[l], std::log10((total.transpose() * u).norm() / std::sqrt(2.0)), 1e-10) << L;
    }
  }
}

TEST(LstmPaths, LargeForgetBiasKeepsTheCellPathNearOneForHundredsOfSteps) {
  Rng rng(26);
  const Index I = 4, H = 32, T = 500;
  const Mat<double> x = rng.normal_matrix<double>(I, T);
  const Vec<double> u_h = Vec<double>::Ones(H), u_c = Vec<double>::Ones(H);
  const auto open = lstm_with_forget_bias(I, H, 10.0, rng);
  const auto p = lstm_paths(open, open.forward(x, 1), 0, u_h, u_c);
  for (double v : p.cell_path_log10) EXPECT_GE(v, std::log10(0.9));  // within 10% of 1 after 500 steps
  // The hidden route alone does not carry it: it vanishes within a few steps.
  EXPECT_LT(p.hidden_path_log10[50], -10.0);
  // The total gradient follows the carousel, not the hidden route.
  EXPECT_GT(p.total_log10.back(), std::log10(0.5));
  // Without the bias the forget gates sit near 1/2 and the carousel closes.
  const auto shut = lstm_with_forget_bias(I, H, 0.0, rng);
  const auto q = lstm_paths(shut, shut.forward(x, 1), 0, u_h, u_c);
  EXPECT_LT(q.cell_path_log10.back(), -100.0);
}

TEST(LookbackStudy, SigmoidVanishesFasterThanTanhUnderTheirBounds) {
  LookbackSpec spec;
  spec.model.input_size = 3;
  spec.model.hidden_size = 16;
  spec.steps = 60;
  spec.seeds = 3;
  spec.batch = 2;
  spec.model.cell = CellKind::rnn_sigmoid;
  const auto sig = lookback_study(spec);
  spec.model.cell = CellKind::rnn_tanh;
  const auto tanh = lookback_study(spec);
  ASSERT_EQ(sig.distance.size(), static_cast<size_t>(spec.steps + 1));
  ASSERT_EQ(sig.bound_log10.size(), sig.distance.size());
  for (size_t L = 0; L < sig.distance.size(); ++L) {
    // Each trajectory lies under its own seed's bound, so the mean of the log10
    // ratios lies under the mean of the log10 bounds.
    EXPECT_LE(sig.mean_log10[L], sig.bound_log10[L] + 1e-9) << L;
    EXPECT_LE(tanh.mean_log10[L], tanh.bound_log10[L] + 1e-9) << L;
    EXPECT_GE(sig.std_log10[L], 0.0);
    EXPECT_LE(sig.min_log10[L], sig.mean_log10[L] + 1e-12);
    EXPECT_GE(sig.max_log10[L], sig.mean_log10[L] - 1e-12);
  }
  EXPECT_LT(sig.mean_log10.back(), tanh.mean_log10.back() - 5.0);
  EXPECT_EQ(sig.lyapunov_top.size(), 3u);
  // Same seed, same numbers; another seed, other numbers.
  spec.model.cell = CellKind::rnn_sigmoid;
  EXPECT_EQ(lookback_study(spec).mean_log10, sig.mean_log10);
  spec.seed = 2;
  EXPECT_NE(lookback_study(spec).mean_log10, sig.mean_log10);
  // Gated cells have no closed-form bound.
  spec.model.cell = CellKind::lstm;
  EXPECT_TRUE(lookback_study(spec).bound_log10.empty());
  spec.steps = 0;
  EXPECT_THROW(lookback_study(spec), InvalidInput);
}

TEST(LookbackStudy, EveryCellAndInitialisationLiesUnderItsBound) {
  LookbackSpec spec;
  spec.model.input_size = 3;
  spec.model.hidden_size = 12;
  spec.steps = 40;
  spec.seeds = 3;
  spec.batch = 2;
  for (const CellKind cell : {CellKind::rnn_sigmoid, CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::lstm,
                              CellKind::gru, CellKind::ctrnn}) {
    std::vector<std::vector<double>> means;
    for (const Init init : {Init::xavier, Init::orthogonal, Init::identity, Init::scaled}) {
      spec.model.cell = cell;
      spec.init = init;
      spec.scale = 1.0;
      const auto r = lookback_study(spec);
      const std::string what = std::string(to_string(cell)) + " " + std::string(to_string(init));
      ASSERT_EQ(r.distance.size(), static_cast<size_t>(spec.steps + 1)) << what;
      EXPECT_EQ(r.mean_log10[0], 0.0) << what;  // L = 0: the ratio is 1
      const bool bounded = cell != CellKind::lstm && cell != CellKind::gru;
      EXPECT_EQ(r.bound_log10.empty(), !bounded) << what;
      for (size_t L = 0; L < r.distance.size(); ++L) {
        if (bounded) {
          EXPECT_LE(r.mean_log10[L], r.bound_log10[L] + 1e-9) << what << " L=" << L;
        }
        EXPECT_LE(r.min_log10[L], r.mean_log10[L] + 1e-12) << what;
        EXPECT_GE(r.max_log10[L], r.mean_log10[L] - 1e-12) << what;
      }
      // The spread over seeds is real: different seeds give different curves (a relu network's trajectories
      // may die: then some are exactly zero and the rest differ, or one is left).
      EXPECT_TRUE(r.std_log10.back() > 0.0 || (r.zero_share.back() > 0.0 && r.zero_share.back() < 1.0)) << what;
      means.push_back(r.mean_log10);
    }
    // The initialisation is a real knob: no two give the same curve.
    for (size_t i = 0; i < means.size(); ++i)
      for (size_t j = i + 1; j < means.size(); ++j) EXPECT_NE(means[i], means[j]) << to_string(cell) << i << j;
  }
  // Identity and orthogonal recurrent matrices have ||W||_2 = 1: the tanh bound is 1 at every L.
  spec.model.cell = CellKind::rnn_tanh;
  for (const Init init : {Init::orthogonal, Init::identity}) {
    spec.init = init;
    for (double b : lookback_study(spec).bound_log10) EXPECT_NEAR(b, 0.0, 1e-12);
  }
}

TYPED_TEST(EveryCell, TruncatedBpttMatchesItsDefinitionOnDegenerateShapes) {
  Rng rng(27);
  struct Shape {
    Index I, H, B, T;
  };
  for (const Shape s : {Shape{2, 3, 1, 4}, Shape{2, 1, 2, 4}, Shape{2, 3, 2, 1}, Shape{1, 1, 1, 1}}) {
    auto cell = check::make_cell<TypeParam>(s.I, s.H, rng);
    const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> s0 = rng.normal_matrix<double>(cell.state_size(), s.B, 0.5);
    const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
    const Mat<double> dfinal = rng.normal_matrix<double>(cell.state_size(), s.B);
    const auto c = cell.forward(x, s.B, s0);
    for (const Index K : {Index{1}, Index{2}, s.T, s.T + 1, Index{0}}) {
      const auto g = bptt(cell, c, dy, dfinal, K);
      const auto brute = check::brute_force_bptt(cell, x, s.B, s0, dy, dfinal, K);
      const std::string what = "I=" + std::to_string(s.I) + " H=" + std::to_string(s.H) + " B=" +
                               std::to_string(s.B) + " T=" + std::to_string(s.T) + " K=" + std::to_string(K);
      EXPECT_LT(relative_difference(check::flatten(g.params), brute.params), 1e-7) << what;
      EXPECT_LT(relative_difference(g.d_input, brute.d_input), 1e-7) << what;
      EXPECT_LT(relative_difference(g.d_state0, brute.d_state0), 1e-7) << what;
    }
  }
}
