// The seam every study shares, tasks(spec) -> run(task) -> reduce(results):
// each study's tasks run in a shuffled order, or in two halves run apart and
// reduced together (as on two MPI ranks), give the bits of the plain call.
// A lost or doubled task is refused, and the thread count changes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <random>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/studies/activations.hpp"
#include "rnnscope/studies/analysis.hpp"
#include "rnnscope/studies/contributions.hpp"
#include "rnnscope/studies/conv.hpp"
#include "rnnscope/studies/lookback.hpp"
#include "rnnscope/studies/lstm_paths.hpp"
#include "rnnscope/studies/lyapunov.hpp"
#include "rnnscope/studies/spectrum.hpp"
#include "rnnscope/training/init.hpp"

using namespace rnnscope;

namespace {

// Bitwise equality of doubles (NaN equals NaN), of vectors and of every result struct.
bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same(Index a, Index b) { return a == b; }
bool same(int a, int b) { return a == b; }
bool same(const std::complex<double>& a, const std::complex<double>& b) {
  return same(a.real(), b.real()) && same(a.imag(), b.imag());
}
bool same(const BlockSpectrum& a, const BlockSpectrum& b);
bool same(const LayerAnalysis& a, const LayerAnalysis& b);
template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}
bool same(const LookbackResult& a, const LookbackResult& b) {
  return same(a.distance, b.distance) && same(a.mean_log10, b.mean_log10) && same(a.std_log10, b.std_log10) &&
         same(a.min_log10, b.min_log10) && same(a.max_log10, b.max_log10) && a.bound == b.bound &&
         same(a.bound_log10, b.bound_log10) && same(a.lyapunov_top, b.lyapunov_top) &&
         same(a.lyapunov_top_mean, b.lyapunov_top_mean);
}
bool same(const LyapunovResult& a, const LyapunovResult& b) {
  return same(a.mean, b.mean) && same(a.std, b.std) && same(a.trajectories, b.trajectories);
}
bool same(const ContributionResult& a, const ContributionResult& b) {
  return same(a.distance, b.distance) && same(a.mean_log10, b.mean_log10) && same(a.std_log10, b.std_log10) &&
         same(a.max_sum_error, b.max_sum_error);
}
bool same(const LstmPathResult& a, const LstmPathResult& b) {
  return same(a.distance, b.distance) && same(a.cell_log10, b.cell_log10) && same(a.hidden_log10, b.hidden_log10) &&
         same(a.total_log10, b.total_log10);
}
bool same(const BlockSpectrum& a, const BlockSpectrum& b) {
  return a.name == b.name && same(a.spectrum.eigenvalues, b.spectrum.eigenvalues) &&
         same(a.spectrum.singular_values, b.spectrum.singular_values) &&
         same(a.spectrum.spectral_radius, b.spectrum.spectral_radius) && same(a.powers.n, b.powers.n) &&
         same(a.powers.log10_norm_power, b.powers.log10_norm_power) &&
         same(a.powers.log10_norm_eigen, b.powers.log10_norm_eigen) && a.has_conditions == b.has_conditions;
}
bool same(const SpectrumResult& a, const SpectrumResult& b) { return same(a.blocks, b.blocks); }
bool same(const ConvResult& a, const ConvResult& b) {
  return a.receptive_field == b.receptive_field && same(a.distance, b.distance) && same(a.norm, b.norm) &&
         same(a.relative, b.relative) && a.zero_past_receptive_field == b.zero_past_receptive_field &&
         same(a.largest_norm_past_receptive_field, b.largest_norm_past_receptive_field);
}
bool same(const ActivationResult& a, const ActivationResult& b) {
  return same(a.x, b.x) && same(a.sigmoid_prime, b.sigmoid_prime) && same(a.tanh_prime_approx, b.tanh_prime_approx) &&
         same(a.study.rho_pow, b.study.rho_pow) && same(a.study.rho_approx_pow, b.study.rho_approx_pow);
}
bool same(const LayerAnalysis& a, const LayerAnalysis& b) {
  return a.layer == b.layer && same(a.distance, b.distance) && same(a.chain_mean_log10, b.chain_mean_log10) &&
         same(a.chain_min_log10, b.chain_min_log10) && same(a.chain_max_log10, b.chain_max_log10) &&
         same(a.bound_log10, b.bound_log10) && same(a.spectra, b.spectra) && same(a.lyapunov, b.lyapunov) &&
         same(a.contributions, b.contributions);
}

/// Runs Study's tasks shuffled, and as two halves reduced together; both must
/// equal the plain call bit for bit.
template <class Study>
void expect_seam_holds(const typename Study::Spec& spec) {
  const auto plain = run_study<Study>(spec);
  const auto tasks = Study::tasks(spec);
  std::vector<typename Study::Task> shuffled = tasks;
  std::mt19937 g(12345);
  std::shuffle(shuffled.begin(), shuffled.end(), g);
  std::vector<typename Study::Partial> parts;
  for (const auto& t : shuffled) parts.push_back(Study::run(spec, t));
  EXPECT_TRUE(same(Study::reduce(spec, parts), plain)) << "shuffled order";

  // Two "ranks": each runs its half (every other task), the results are gathered in rank order.
  std::vector<typename Study::Partial> rank0, rank1;
  for (size_t i = 0; i < tasks.size(); ++i) (i % 2 == 0 ? rank0 : rank1).push_back(Study::run(spec, tasks[i]));
  std::vector<typename Study::Partial> gathered = rank1;
  gathered.insert(gathered.end(), rank0.begin(), rank0.end());
  EXPECT_TRUE(same(Study::reduce(spec, gathered), plain)) << "two halves";

  // A result lost or counted twice is refused, not averaged in.
  if (!parts.empty()) {
    auto lost = parts;
    lost.pop_back();
    EXPECT_THROW(Study::reduce(spec, lost), InvalidInput);
    auto doubled = parts;
    doubled.push_back(doubled.front());
    EXPECT_THROW(Study::reduce(spec, doubled), InvalidInput);
  }
}

NetworkSpec small(CellKind cell) {
  NetworkSpec s;
  s.model.cell = cell;
  s.model.input_size = 3;
  s.model.hidden_size = 6;
  s.steps = 25;
  s.batch = 2;
  s.seeds = 5;
  s.seed = 11;
  s.init = Init::xavier;
  return s;
}

template <class Spec>
Spec small_as(CellKind cell) {
  Spec s;
  static_cast<NetworkSpec&>(s) = small(cell);
  return s;
}

}  // namespace

TEST(StudySeam, Lookback) {
  for (const CellKind k : {CellKind::rnn_relu, CellKind::lstm, CellKind::ctrnn})
    expect_seam_holds<LookbackStudy>(small(k));
}

TEST(StudySeam, Lyapunov) {
  auto s = small_as<LyapunovSpec>(CellKind::gru);
  s.top = 3;
  expect_seam_holds<LyapunovStudy>(s);
}

TEST(StudySeam, Contributions) { expect_seam_holds<ContributionStudy>(small_as<ContributionSpec>(CellKind::rnn_tanh)); }

TEST(StudySeam, LstmPaths) {
  auto s = small_as<LstmPathSpec>(CellKind::lstm);
  s.forget_bias = 1.0;
  expect_seam_holds<LstmPathStudy>(s);
}

TEST(StudySeam, Spectrum) {
  auto s = small_as<SpectrumSpec>(CellKind::lstm);
  s.max_power = 7;
  expect_seam_holds<SpectrumStudy>(s);
}

TEST(StudySeam, Conv) { expect_seam_holds<ConvStudy>(ConvSpec{}); }

TEST(StudySeam, Activations) { expect_seam_holds<ActivationsStudy>(ActivationSpec{0.1, 12, 3}); }

TEST(StudySeam, Analysis) {
  ModelSpec m;
  m.cell = CellKind::gru;
  m.input_size = 3;
  m.hidden_size = 5;
  m.num_layers = 3;
  Model<double> model = make_model<double>(m);
  Rng rng(3);
  initialise_model(model, Init::pytorch, 1.0, 0.0, rng);
  AnalysisSpec spec{model, m.cell, rng.normal_matrix<double>(3, 15 * 2), 2, {}, {}, m};
  spec.options.max_power = 6;
  expect_seam_holds<AnalysisStudy>(spec);
}

TEST(StudySeam, ThreadCountChangesNoBit) {
  const auto spec = small(CellKind::lstm);
  const auto one = lookback_study(spec, Execution{1});
  const auto two = lookback_study(spec, Execution{2});
  EXPECT_TRUE(same(one, two));
  EXPECT_THROW(lookback_study(spec, Execution{-1}), InvalidInput);
  EXPECT_THROW(lookback_study(spec, Execution{1025}), InvalidInput);
}

TEST(StudySeam, ProgressIsToldOfEveryTask) {
  struct Counter : ProgressSink {
    int done = 0;
    void advance(int n) override { done += n; }
  } counter;
  const auto spec = small(CellKind::rnn_tanh);
  (void)lookback_study(spec, Execution{0, &counter});
  EXPECT_EQ(counter.done, spec.seeds);
}

TEST(StudySeam, SpecsAreValidatedOnceInTheLibrary) {
  auto s = small(CellKind::rnn_tanh);
  s.model.hidden_size = 0;
  EXPECT_THROW(lookback_study(s), InvalidInput);
  auto c = small_as<ContributionSpec>(CellKind::rnn_tanh);
  c.steps = 5001;
  EXPECT_THROW(contributions_study(c), InvalidInput);
  auto l = small_as<LyapunovSpec>(CellKind::lstm);
  l.top = 13;  // state (h, c) has 2H = 12
  EXPECT_THROW(lyapunov_study(l), InvalidInput);
  auto p = small_as<LstmPathSpec>(CellKind::gru);
  EXPECT_THROW(lstm_path_study(p), InvalidInput);
}
