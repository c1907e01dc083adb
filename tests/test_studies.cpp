// The studies behind the report and the analysis subcommands: each reduces a
// diagnostic to curves; these check the curves say what the theory says.
#include <gtest/gtest.h>

#include <cmath>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/studies.hpp"

using namespace rnnscope;

namespace {

LookbackSpec spec_for(CellKind cell, Index T = 40, Index H = 8) {
  LookbackSpec s;
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
  auto s = spec_for(CellKind::lstm);
  const auto lstm = spectrum_study(s, 5);
  ASSERT_EQ(lstm.size(), 4u);
  EXPECT_EQ(lstm[1].name, "weight_hh[f]");
  EXPECT_FALSE(lstm[0].has_conditions);
  s.model.cell = CellKind::gru;
  EXPECT_EQ(spectrum_study(s, 5).size(), 3u);
  s.model.cell = CellKind::rnn_sigmoid;
  const auto elman = spectrum_study(s, 5);
  ASSERT_EQ(elman.size(), 1u);
  EXPECT_TRUE(elman[0].has_conditions);
  EXPECT_DOUBLE_EQ(elman[0].conditions.threshold, 4.0);
  EXPECT_EQ(elman[0].powers.n.size(), 5u);
}

TEST(Studies, OrthogonalSpectrumLiesOnTheUnitCircle) {
  auto s = spec_for(CellKind::rnn_tanh);
  s.init = Init::orthogonal;
  const auto r = spectrum_study(s, 30);
  for (const auto& e : r[0].spectrum.eigenvalues) EXPECT_NEAR(std::abs(e), 1.0, 1e-10);
  for (const double v : r[0].powers.log10_norm_power) EXPECT_NEAR(v, 0.0, 1e-10);
}

TEST(Studies, ContributionsSumToTheGradientAndFallWithDistance) {
  auto s = spec_for(CellKind::rnn_sigmoid);
  const auto r = contributions_study(s);
  ASSERT_EQ(r.distance.size(), 40u);
  EXPECT_LT(r.max_sum_error, 1e-10);
  EXPECT_LT(r.mean_log10[20], r.mean_log10[1] - 5);  // sigmoid: at least (1/4 ||W||)^d
}

TEST(Studies, LyapunovSpectrumOfSigmoidIsNegative) {
  const auto r = lyapunov_study(spec_for(CellKind::rnn_sigmoid), 3);
  ASSERT_EQ(r.mean.size(), 3u);
  EXPECT_EQ(r.trajectories.size(), 4u);
  EXPECT_LT(r.mean[0], std::log(0.5));
  EXPECT_GE(r.mean[0], r.mean[1]);
}

TEST(Studies, LstmForgetBiasKeepsTheCellPath) {
  auto s = spec_for(CellKind::lstm, 60);
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
  for (Index d = 0; d < 30; ++d) {
    if (d < r.receptive_field)
      EXPECT_GT(r.norm[static_cast<size_t>(d)], 0) << d;
    else
      EXPECT_EQ(r.norm[static_cast<size_t>(d)], 0.0) << d;
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
  const Mat<double> x = rng.normal_matrix<double>(3, T * B);
  const auto layers = analyse_model(m, ms.cell, x, B, Mat<double>(), {});
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1].layer, 1);
  EXPECT_EQ(layers[0].distance.size(), 13u);
  EXPECT_DOUBLE_EQ(layers[0].chain_mean_log10[0], 0.0);  // ||I||_2 = 1
  EXPECT_TRUE(layers[0].bound_log10.empty());
  EXPECT_EQ(layers[0].spectra.size(), 3u);
  EXPECT_EQ(layers[0].lyapunov.size(), 5u);
  EXPECT_LT(layers[1].contributions.max_sum_error, 1e-10);
  EXPECT_THROW(analyse_model(m, ms.cell, x, 5, Mat<double>(), {}), InvalidInput);
}
