// The library example of README.md, compiled and checked: if the README's code
// stops building or its comments stop being true, this fails.
#include <gtest/gtest.h>

#include "cell_testing.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/sequence/bptt.hpp"
#include "rnnscope/studies/lookback.hpp"

TEST(Readme, LibraryExample) {
  // --- as in README.md ---
  rnnscope::Rng rng(1);
  rnnscope::LSTM<double> cell(/*I=*/8, /*H=*/32);
  cell.init_uniform(rng);                                        // PyTorch's default initialisation
  const auto x = rng.normal_matrix<double>(8, /*T*B=*/100 * 4);  // (I, T*B), time-major
  const auto dy = rng.normal_matrix<double>(32, 100 * 4);        // cotangent of the outputs (H, T*B)
  const auto cache = cell.forward(x, /*B=*/4);
  const auto grads = rnnscope::bptt(cell, cache, dy, /*d_final=*/{}, /*window=*/0);
  // grads.params.weight_hh, grads.d_input, grads.d_state0 ...
  const auto norms = rnnscope::jacobian_chain_norms(cell, cache, /*b=*/0);
  // norms.log10_spectral[L] = log10 ||d s_{T-1} / d s_{T-1-L}||_2
  // --- end ---
  EXPECT_EQ(grads.params.weight_hh.rows(), 4 * 32);
  EXPECT_EQ(grads.d_input.cols(), 100 * 4);
  ASSERT_EQ(norms.log10_spectral.size(), 101u);
  EXPECT_EQ(norms.log10_spectral[0], 0.0);  // L = 0: the identity
  // L = 1 is the last step Jacobian itself.
  const rnnscope::Mat<double> j = cell.step_jacobian(cache, 99, 0);
  EXPECT_NEAR(norms.log10_spectral[1], std::log10(Eigen::JacobiSVD<rnnscope::Mat<double>>(j).singularValues()(0)),
              1e-10);
}

TEST(Readme, StudyExample) {
  // --- as in README.md ---
  rnnscope::LookbackSpec spec;
  spec.model.cell = rnnscope::CellKind::gru;
  spec.model.input_size = 4;
  spec.model.hidden_size = 32;
  spec.steps = 200;
  const auto r = rnnscope::lookback_study(spec, {.threads = 2});
  // r.mean_log10[L]: mean over 5 seeds x 4 sequences of log10 ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}||
  std::vector<rnnscope::LookbackStudy::Partial> parts;
  for (const auto& task : rnnscope::LookbackStudy::tasks(spec))
    parts.push_back(rnnscope::LookbackStudy::run(spec, task));
  const auto same = rnnscope::LookbackStudy::reduce(spec, parts);  // == r, bit for bit
  // --- end ---
  ASSERT_EQ(r.mean_log10.size(), 201u);
  EXPECT_EQ(r.mean_log10[0], 0.0);
  EXPECT_LT(r.mean_log10[200], r.mean_log10[1]);
  EXPECT_EQ(same.mean_log10, r.mean_log10);
  EXPECT_EQ(same.std_log10, r.std_log10);
}
