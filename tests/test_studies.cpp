// The studies behind the report and the analysis subcommands: each reduces a
// diagnostic to curves; these check the curves say what the theory says.
#include <gtest/gtest.h>

#include <cmath>

#include "rnnscope/core/error.hpp"
#include "rnnscope/studies/analysis.hpp"
#include "rnnscope/studies/contributions.hpp"
#include "rnnscope/studies/lookback.hpp"
#include "rnnscope/studies/conv.hpp"
#include "rnnscope/studies/lstm_paths.hpp"
#include "rnnscope/studies/lyapunov.hpp"
#include "rnnscope/studies/spectrum.hpp"
#include "rnnscope/studies/statistics.hpp"
#include "rnnscope/training/init.hpp"

using namespace rnnscope;

namespace {

template <class Spec = NetworkSpec>
Spec spec_for(CellKind cell, Index T = 40, Index H = 8) {
  Spec s;
  s.model.cell = cell;
  s.model.input_size = 3;
  s.model.hidden_size = H;
  s.steps = T;
  s.batch = 2;
  s.seeds = 2;
  s.seed = 7;
  return s;
}

}  // namespace

TEST(Studies, RecurrentBlocksAreSquareGateBlocks) {
  auto s = spec_for<SpectrumSpec>(CellKind::lstm);
  s.max_power = 5;
  const auto lstm = spectrum_study(s).blocks;
  ASSERT_EQ(lstm.size(), 4u);
  EXPECT_EQ(lstm[1].name, "weight_hh[f]");
  EXPECT_FALSE(lstm[0].has_conditions);
  s.model.cell = CellKind::gru;
  EXPECT_EQ(spectrum_study(s).blocks.size(), 3u);
  s.model.cell = CellKind::rnn_sigmoid;
  const auto elman = spectrum_study(s).blocks;
  ASSERT_EQ(elman.size(), 1u);
  EXPECT_TRUE(elman[0].has_conditions);
  EXPECT_DOUBLE_EQ(elman[0].conditions.threshold, 4.0);
  EXPECT_EQ(elman[0].powers.n.size(), 5u);
}

TEST(Studies, OrthogonalSpectrumLiesOnTheUnitCircle) {
  auto s = spec_for<SpectrumSpec>(CellKind::rnn_tanh);
  s.init = Init::orthogonal;
  s.max_power = 30;
  const auto r = spectrum_study(s).blocks;
  for (const auto& e : r[0].spectrum.eigenvalues) EXPECT_NEAR(std::abs(e), 1.0, 1e-10);
  for (const double v : r[0].powers.log10_norm_power) EXPECT_NEAR(v, 0.0, 1e-10);
}

TEST(Studies, ContributionsSumToTheGradientAndFallWithDistance) {
  const auto r = contributions_study(spec_for<ContributionSpec>(CellKind::rnn_sigmoid));
  ASSERT_EQ(r.distance.size(), 40u);
  EXPECT_LT(r.max_sum_error, 1e-10);
  EXPECT_LT(r.mean_log10[20], r.mean_log10[1] - 5);  // sigmoid: at least (1/4 ||W||)^d
}

TEST(Studies, ContributionsCarryTheMeanFieldSlope) {
  // The terms at distance d carry a chain of d steps: on a wide tanh network the measured contributions fall at
  // the mean-field slope (measured within 10 %), and the prediction starts at the measured d = 0.
  auto s = spec_for<ContributionSpec>(CellKind::rnn_tanh, 60, 256);
  s.model.input_size = 1;
  const auto r = contributions_study(s);
  ASSERT_TRUE(r.theory.available);
  ASSERT_EQ(r.theory_log10.size(), r.mean_log10.size());
  EXPECT_EQ(r.theory_log10[0], r.mean_log10[0]);
  EXPECT_NEAR(r.theory_log10[40] - r.theory_log10[0], 40 * r.theory.slope_log10, 1e-12);
  double sxy = 0, sxx = 0, mx = 0, my = 0;
  // d = 6..58 (the term at d = T - 1 multiplies h_(-1) = 0: exactly zero).
  for (Index d = 6; d < 59; ++d) {
    mx += static_cast<double>(d) / 53;
    my += r.mean_log10[static_cast<size_t>(d)] / 53;
  }
  for (Index d = 6; d < 59; ++d) {
    sxy += (static_cast<double>(d) - mx) * (r.mean_log10[static_cast<size_t>(d)] - my);
    sxx += (static_cast<double>(d) - mx) * (static_cast<double>(d) - mx);
  }
  EXPECT_NEAR(sxy / sxx, r.theory.slope_log10, 0.1 * std::abs(r.theory.slope_log10));
  // A cell without a theory: no line.
  const auto skip = contributions_study(spec_for<ContributionSpec>(CellKind::rnn_residual, 10));
  EXPECT_FALSE(skip.theory.available);
  EXPECT_TRUE(skip.theory_log10.empty());
}

TEST(Studies, LyapunovSpectrumOfSigmoidIsNegative) {
  auto s = spec_for<LyapunovSpec>(CellKind::rnn_sigmoid);
  s.top = 3;
  const auto r = lyapunov_study(s);
  ASSERT_EQ(r.mean.size(), 3u);
  EXPECT_EQ(r.trajectories.size(), 4u);
  EXPECT_LT(r.mean[0], std::log(0.5));
  EXPECT_GE(r.mean[0], r.mean[1]);
}

TEST(Studies, LstmForgetBiasKeepsTheCellPath) {
  auto s = spec_for<LstmPathSpec>(CellKind::lstm, 60);
  s.forget_bias = 0;
  const auto low = lstm_path_study(s);
  s.forget_bias = 3;
  const auto high = lstm_path_study(s);
  ASSERT_EQ(low.distance.size(), 61u);
  EXPECT_GT(high.cell_log10[60], low.cell_log10[60] + 3);
  EXPECT_GT(high.cell_log10[60], high.hidden_log10[60]);
  s.model.cell = CellKind::gru;
  EXPECT_THROW(lstm_path_study(s), InvalidInput);
}

TEST(Studies, ConvGradientIsExactlyZeroPastTheReceptiveField) {
  ConvSpec c;
  c.kernel_size = 3;
  c.dilations = {1, 2, 4};
  c.steps = 30;
  const auto r = conv_distance_study(c);
  EXPECT_EQ(r.receptive_field, 15);
  EXPECT_TRUE(r.zero_past_receptive_field);
  EXPECT_EQ(r.largest_norm_past_receptive_field, 0.0);
  EXPECT_EQ(r.relative.front(), 1.0);
  for (Index d = 0; d < 30; ++d) {
    if (d < r.receptive_field)
      EXPECT_GT(r.norm[static_cast<size_t>(d)], 0) << d;
    else
      EXPECT_EQ(r.norm[static_cast<size_t>(d)], 0.0) << d;
  }
}

TEST(Studies, AnalyseTheoryFromTheLayersOwnBlocksMatchesItsInitialisation) {
  // On a freshly drawn wide network the empirical variances are the initialisation's up to sampling error, so
  // the theory analyze computes from the weights equals the theory of the initialisation (inputs N(0, 1)).
  for (const CellKind cell : {CellKind::rnn_tanh, CellKind::lstm}) {
    ModelSpec ms;
    ms.cell = cell;
    ms.input_size = 4;
    ms.hidden_size = 128;
    Model<double> m = make_model<double>(ms);
    Rng rng(5);
    initialise_model(m, Init::pytorch, 1.0, 1.0, rng);
    AnalysisSpec spec{m, ms.cell, rng.normal_matrix<double>(4, 60), 1, {}, {}, ms};
    spec.options.lyapunov_k = 1;
    spec.options.max_power = 2;
    const auto layers = analyse_model(spec);
    MeanFieldSpec t;
    t.model = ms;
    t.init = Init::pytorch;
    t.forget_bias = 1.0;
    const MeanField init = mean_field(t);
    ASSERT_TRUE(layers[0].theory.available) << layers[0].theory.reason;
    EXPECT_NEAR(layers[0].theory.g, init.g, 0.01 * init.g);
    EXPECT_NEAR(layers[0].theory.lambda, init.lambda, 0.02 * std::abs(init.lambda)) << to_string(cell);
    ASSERT_EQ(layers[0].theory_log10.size(), 61u);
    EXPECT_NEAR(layers[0].theory_log10.back(), 60 * layers[0].theory.slope_log10, 1e-9);
  }
}

TEST(Studies, AnalyseModelGivesEveryLayer) {
  ModelSpec ms;
  ms.cell = CellKind::gru;
  ms.input_size = 3;
  ms.hidden_size = 5;
  ms.num_layers = 2;
  Model<double> m = make_model<double>(ms);
  Rng rng(3);
  initialise_model(m, Init::pytorch, 1.0, 0.0, rng);
  const Index T = 12, B = 3;
  AnalysisSpec spec{m, ms.cell, rng.normal_matrix<double>(3, T * B), B, {}, {}, ms};
  const auto layers = analyse_model(spec);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_TRUE(layers[0].theory.available);
  EXPECT_EQ(layers[0].theory_log10.size(), 13u);
  EXPECT_EQ(layers[1].layer, 1);
  EXPECT_EQ(layers[0].distance.size(), 13u);
  EXPECT_DOUBLE_EQ(layers[0].chain_mean_log10[0], 0.0);  // ||I||_2 = 1
  EXPECT_TRUE(layers[0].bound_log10.empty());
  EXPECT_EQ(layers[0].spectra.size(), 3u);
  EXPECT_EQ(layers[0].lyapunov.size(), 5u);
  EXPECT_LT(layers[1].contributions.max_sum_error, 1e-10);
  spec.batch = 5;
  EXPECT_THROW(analyse_model(spec), InvalidInput);
}

TEST(Studies, AnalyseGivesTheLstmForgetGatesAlongTheTrajectory) {
  // The mean forget gate per step equals sigmoid(z_f), z_f = W_if x_t + W_hf h_{t-1} + b_if + b_hf, with h and c
  // run forward here; the other cells get no forget-gate trace.
  ModelSpec ms;
  ms.cell = CellKind::lstm;
  ms.input_size = 3;
  ms.hidden_size = 4;
  Model<double> m = make_model<double>(ms);
  Rng rng(21);
  initialise_model(m, Init::pytorch, 1.0, 0.5, rng);
  const Index T = 7, B = 3, H = 4;
  AnalysisSpec spec{m, ms.cell, rng.normal_matrix<double>(3, T * B), B, {}, {}, ms};
  spec.options.max_power = 2;
  spec.options.max_batch = 2;
  const auto layers = analyse_model(spec);
  const auto& g = layers[0].forget;
  ASSERT_EQ(g.step.size(), static_cast<size_t>(T));
  const auto& p = std::get<Stack<LSTM<double>>>(m).layer(0).params;
  std::vector<Vec<double>> h(B, Vec<double>::Zero(H)), c(B, Vec<double>::Zero(H));
  auto sigmoid = [](double v) { return 1 / (1 + std::exp(-v)); };
  for (Index t = 0; t < T; ++t) {
    double sum = 0, lo = 1, hi = 0;
    for (Index b = 0; b < B; ++b) {
      Vec<double> z = p.weight_ih * spec.x.col(t * B + b) + p.weight_hh * h[b] + p.bias_ih + p.bias_hh;
      Vec<double> i(H), f(H), gg(H), o(H);
      for (Index u = 0; u < H; ++u) {
        i(u) = sigmoid(z(u));
        f(u) = sigmoid(z(H + u));
        gg(u) = std::tanh(z(2 * H + u));
        o(u) = sigmoid(z(3 * H + u));
      }
      c[b] = (f.array() * c[b].array() + i.array() * gg.array()).matrix();
      h[b] = (o.array() * c[b].array().tanh()).matrix();
      sum += f.sum();
      lo = std::min(lo, f.minCoeff());
      hi = std::max(hi, f.maxCoeff());
    }
    EXPECT_NEAR(g.mean[static_cast<size_t>(t)], sum / static_cast<double>(B * H), 1e-14) << t;
    EXPECT_NEAR(g.min[static_cast<size_t>(t)], lo, 1e-14) << t;
    EXPECT_NEAR(g.max[static_cast<size_t>(t)], hi, 1e-14) << t;
    // At t = 0 the initial h is given apart from c: the cell-to-cell Jacobian is diag(f_0) exactly.
    if (t == 0) {
      EXPECT_EQ(g.relative_difference[0], 0.0);
    }
    EXPECT_LT(g.direct_log10[static_cast<size_t>(t)], 0.0);  // max f < 1
    EXPECT_TRUE(std::isfinite(g.jacobian_log10[static_cast<size_t>(t)]));
  }
  EXPECT_GT(g.relative_difference.back(), 0.0);  // W_hh != 0: the path through h_{t-1} is there
  ms.cell = CellKind::gru;
  Model<double> gru = make_model<double>(ms);
  initialise_model(gru, Init::pytorch, 1.0, 0.0, rng);
  spec.model = gru;
  spec.kind = ms.cell;
  spec.model_spec = ms;
  EXPECT_TRUE(analyse_model(spec)[0].forget.step.empty());
}

TEST(Studies, DeadReluTrajectoriesAreCountedApart) {
  // The identity-initialised relu network (IRNN) kills some trajectories outright within 100 steps: their
  // chains are exactly zero. They are counted in zero_share; the mean is over the others, each checked here
  // against the per-trajectory curves the study reduces.
  LookbackSpec spec;
  spec.model.cell = CellKind::rnn_relu;
  spec.model.hidden_size = 32;
  spec.model.input_size = 4;
  spec.init = Init::identity;
  spec.steps = 100;
  spec.seeds = 5;
  spec.batch = 4;
  const auto tasks = LookbackStudy::tasks(spec);
  std::vector<LookbackStudy::Partial> parts;
  for (const auto& t : tasks) parts.push_back(LookbackStudy::run(spec, t));
  std::vector<double> at_T;
  for (const auto& p : parts)
    for (const auto& c : p.curves) at_T.push_back(c.back());
  const auto r = LookbackStudy::reduce(spec, parts);
  double zeros = 0, sum = 0, n = 0;
  for (const double v : at_T) {
    if (std::isinf(v) && v < 0) {
      zeros += 1;
    } else {
      sum += v;
      n += 1;
    }
  }
  ASSERT_GT(zeros, 0) << "no dead trajectory: the test needs a network with dead units";
  ASSERT_GT(n, 0);
  EXPECT_EQ(r.zero_share.back(), zeros / static_cast<double>(at_T.size()));
  EXPECT_NEAR(r.mean_log10.back(), sum / n, 1e-12);
  EXPECT_GT(r.mean_log10.back(), -5.0);  // not pulled towards -324 by the zeros, as a floored mean was
  EXPECT_TRUE(std::isfinite(r.std_log10.back()));
}

TEST(Studies, ExactZerosApartAndSmallValuesAsTheyAre) {
  EXPECT_TRUE(is_zero_log10(-INFINITY));
  EXPECT_FALSE(is_zero_log10(std::log10(4.9e-324)));  // the smallest double is not zero
  EXPECT_FALSE(is_zero_log10(-437.0));                // nor a renormalised chain far below it
  const auto s = curve_statistics({{0.0, -1.0}, {2.0, -3.0}});
  EXPECT_EQ(s.mean, (std::vector<double>{1.0, -2.0}));
  EXPECT_EQ(s.std, (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(s.min, (std::vector<double>{0.0, -3.0}));
  EXPECT_EQ(s.max, (std::vector<double>{2.0, -1.0}));
  EXPECT_EQ(s.zero_share, (std::vector<double>{0.0, 0.0}));
  EXPECT_THROW(curve_statistics({{1.0}, {1.0, 2.0}}), InvalidInput);
  // Index 0: one exact zero among four; index 1: values below the smallest double; index 2: all zero.
  const double z = -INFINITY;
  const auto t = curve_statistics({{-2.0, -500.0, z}, {z, -400.0, z}, {-4.0, -450.0, z}, {-9.0, -430.0, z}});
  EXPECT_EQ(t.zero_share, (std::vector<double>{0.25, 0.0, 1.0}));
  EXPECT_EQ(t.mean[0], -5.0);  // over the three nonzero values, not -inf and not floored
  EXPECT_NEAR(t.std[0], std::sqrt(26.0 / 3.0), 1e-15);
  EXPECT_EQ(t.median[0], -4.0);
  EXPECT_EQ(t.min[0], -9.0);
  EXPECT_EQ(t.max[0], -2.0);
  EXPECT_EQ(t.mean[1], -445.0);
  EXPECT_EQ(t.median[1], -440.0);
  EXPECT_NEAR(t.std[1], std::sqrt((55.0 * 55 + 45.0 * 45 + 5.0 * 5 + 15.0 * 15) / 4), 1e-12);
  EXPECT_TRUE(is_zero_log10(t.mean[2]) && is_zero_log10(t.median[2]) && std::isnan(t.std[2]));
}
