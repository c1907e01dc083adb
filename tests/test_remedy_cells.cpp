// The remedy cells: the residual and antisymmetric forms of the Euler family
// (euler_rnn.hpp) and the skip cell (skip_rnn.hpp), checked against
// hand-written recurrences, finite differences in double, truncated BPTT by
// its definition, and the identities that tie them to the Elman cell.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "cell_testing.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/skip_rnn.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/bounds.hpp"
#include "rnnscope/diagnostics/recurrent_blocks.hpp"
#include "rnnscope/sequence/gradcheck.hpp"
#include "rnnscope/sequence/model.hpp"

using namespace rnnscope;
using rnnscope::check::relative_difference;

namespace {

struct Shape {
  Index I, H, B, T;
};
const Shape shapes[] = {{3, 4, 2, 5}, {1, 1, 1, 1}, {2, 3, 1, 7}, {4, 1, 3, 4}, {5, 6, 4, 3}};
const EulerForm forms[] = {EulerForm::residual(), EulerForm::antisymmetric_rnn(0.5, 0.2),
                           EulerForm::antisymmetric_rnn(0.1, 0.0), EulerForm::antisymmetric_rnn(1.3, 1.0)};

std::string name(const EulerForm& f) {
  return f.antisymmetric ? "antisymmetric eps " + std::to_string(f.step) + " gamma " + std::to_string(f.gamma)
                         : "residual";
}

template <class Cell>
Cell randomised(Cell cell, Rng& rng, double scale) {
  cell.init_uniform(rng);
  cell.params.for_each([&](const char*, auto& t) { t *= scale; });
  return cell;
}

EulerRnn<double> euler_cell(const Shape& s, const EulerForm& form, Rng& rng, bool bias = true, double scale = 1.0) {
  return randomised(EulerRnn<double>(s.I, s.H, form, bias), rng, scale);
}

SkipRnn<double> skip_cell(const Shape& s, Index K, Rng& rng, bool bias = true, double scale = 1.0) {
  return randomised(SkipRnn<double>(s.I, s.H, K, Activation::tanh, bias), rng, scale);
}

/// Gradients by the cell's BPTT against brute-force truncated BPTT of finite-difference step Jacobians.
template <class Cell>
void expect_truncated_bptt_matches_definition(Cell& cell, const Shape& s, Rng& rng, const std::string& what) {
  const Mat<double> u = rng.normal_matrix<double>(s.I, s.T * s.B);
  const Mat<double> s0 = rng.normal_matrix<double>(cell.state_size(), s.B, 0.5);
  const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
  const Mat<double> dfinal = rng.normal_matrix<double>(cell.state_size(), s.B);
  const auto cache = cell.forward(u, s.B, s0);
  for (Index K : {1, 2, 3, 5, 0}) {
    const auto g = bptt(cell, cache, dy, dfinal, K);
    const auto brute = check::brute_force_bptt(cell, u, s.B, s0, dy, dfinal, K);
    EXPECT_LT(relative_difference(check::flatten(g.params), brute.params), 1e-7) << what << " K=" << K;
    EXPECT_LT(relative_difference(g.d_input, brute.d_input), 1e-7) << what << " K=" << K;
    EXPECT_LT(relative_difference(g.d_state0, brute.d_state0), 1e-7) << what << " K=" << K;
  }
}

/// Every step Jacobian against central differences of one step from the cached state.
template <class Cell>
void expect_step_jacobians_match(const Cell& cell, const Shape& s, Rng& rng, const std::string& what) {
  const Mat<double> u = rng.normal_matrix<double>(s.I, s.T * s.B);
  Mat<double> state = rng.normal_matrix<double>(cell.state_size(), s.B, 0.5);
  const auto c = cell.forward(u, s.B, state);
  for (Index t = 0; t < s.T; ++t) {
    for (Index b = 0; b < s.B; ++b) {
      const Mat<double> numeric = check::numeric_step_jacobian(cell, u.middleCols(t * s.B, s.B), state, b);
      EXPECT_LT(relative_difference(cell.step_jacobian(c, t, b), numeric), 1e-7) << what << " t=" << t << " b=" << b;
    }
    state = check::one_step(cell, u.middleCols(t * s.B, s.B), state);
  }
}

}  // namespace

TEST(RemedyCells, EulerFormsMatchHandWrittenRecurrence) {
  // h_t[i] = h_{t-1}[i] + step tanh(sum_j M[i,j] h_{t-1}[j] + sum_k W_ih[i,k] x_t[k] + b_ih[i] + b_hh[i]),
  // M = W_hh (residual) or W_hh - W_hh^T - gamma I (antisymmetric)
  Rng rng(31);
  const Index I = 2, H = 3, B = 2, T = 4;
  for (const EulerForm& form : forms) {
    auto cell = euler_cell({I, H, B, T}, form, rng, true, 2.0);
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const Mat<double> h0 = rng.normal_matrix<double>(H, B);
    const auto c = cell.forward(x, B, h0);
    const auto& p = cell.params;
    for (Index b = 0; b < B; ++b) {
      std::vector<double> h(h0.col(b).data(), h0.col(b).data() + H);
      for (Index t = 0; t < T; ++t) {
        std::vector<double> next(static_cast<size_t>(H));
        for (Index i = 0; i < H; ++i) {
          double a = p.bias_ih(i) + p.bias_hh(i);
          for (Index j = 0; j < H; ++j) {
            const double m = form.antisymmetric ? p.weight_hh(i, j) - p.weight_hh(j, i) - (i == j ? form.gamma : 0.0)
                                                : p.weight_hh(i, j);
            a += m * h[static_cast<size_t>(j)];
          }
          for (Index k = 0; k < I; ++k) a += p.weight_ih(i, k) * x(k, t * B + b);
          next[static_cast<size_t>(i)] = h[static_cast<size_t>(i)] + form.step * std::tanh(a);
        }
        h = next;
        for (Index i = 0; i < H; ++i)
          EXPECT_NEAR(cell.output(c)(i, t * B + b), h[static_cast<size_t>(i)], 1e-13) << name(form) << " t=" << t;
      }
    }
  }
}

TEST(RemedyCells, EulerFormsGradientsMatchFiniteDifferences) {
  Rng rng(7);
  for (const EulerForm& form : forms)
    for (const Shape& s : shapes)
      for (bool bias : {true, false}) {
        auto cell = euler_cell(s, form, rng, bias, 1.5);
        const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
        const Mat<double> h0 = rng.normal_matrix<double>(s.H, s.B, 0.5);
        const auto report = check_cell_gradients(cell, x, s.B, h0, rng);
        EXPECT_LT(report.worst_relative_error(), 1e-6)
            << name(form) << " I=" << s.I << " H=" << s.H << " B=" << s.B << " T=" << s.T << " bias=" << bias << "\n"
            << report.to_string();
        EXPECT_EQ(report.tensors.size(), bias ? 6u : 4u);
      }
}

TEST(RemedyCells, EulerFormsTruncatedBpttAndStepJacobians) {
  Rng rng(5);
  for (const EulerForm& form : forms) {
    auto cell = euler_cell({2, 3, 2, 6}, form, rng, true, 1.5);
    expect_truncated_bptt_matches_definition(cell, {2, 3, 2, 6}, rng, name(form));
    const auto wide = euler_cell({3, 5, 2, 4}, form, rng, true, 1.5);
    expect_step_jacobians_match(wide, {3, 5, 2, 4}, rng, name(form));
  }
}

TEST(RemedyCells, AntisymmetricMatrixHasEigenvaluesOnTheLineMinusGamma) {
  // M = W - W^T - gamma I: W - W^T is real antisymmetric, so its eigenvalues are
  // purely imaginary and M's have real part -gamma, whatever W is.
  Rng rng(3);
  for (double gamma : {0.0, 0.01, 0.5}) {
    auto cell = euler_cell({2, 7, 1, 1}, EulerForm::antisymmetric_rnn(0.1, gamma), rng, true, 3.0);
    const Eigen::EigenSolver<Mat<double>> es(cell.recurrent_matrix());
    for (Index i = 0; i < 7; ++i) EXPECT_NEAR(es.eigenvalues()(i).real(), -gamma, 1e-12) << "gamma=" << gamma;
    // The recurrent matrix the cache used is the same M, and the spectrum study shows it beside W.
    const auto c = cell.forward(rng.normal_matrix<double>(2, 3), 3);
    EXPECT_EQ(c.recurrent, cell.recurrent_matrix());
    const auto blocks = recurrent_blocks(cell);
    ASSERT_EQ(blocks.size(), 2u);
    EXPECT_EQ(blocks[0].name, "weight_hh");
    EXPECT_EQ(blocks[1].name, "W - W^T - gamma I");
    EXPECT_EQ(blocks[1].weight, cell.recurrent_matrix());
  }
}

TEST(RemedyCells, EulerStepMatrixHasTheEigenvaluesOneMinusDtPlusDtMu) {
  // Linearised where f' = 1 the Euler step is keep I + step M: each eigenvalue
  // mu of M becomes keep + step mu (seed 003: 1 - dt + dt mu for the CT-RNN),
  // so a small dt pulls them toward 1. Eigenvalues are matched by nearest
  // neighbour, each used once.
  Rng rng(8);
  const auto affine_image = [](const Mat<double>& m, const Mat<double>& step, double keep, double dt) {
    const Eigen::VectorXcd mu = Eigen::EigenSolver<Mat<double>>(m).eigenvalues();
    const Eigen::VectorXcd lambda = Eigen::EigenSolver<Mat<double>>(step).eigenvalues();
    std::vector<bool> used(static_cast<size_t>(lambda.size()), false);
    double worst = 0;
    for (Index i = 0; i < mu.size(); ++i) {
      const std::complex<double> want = keep + dt * mu(i);
      Index best = -1;
      for (Index j = 0; j < lambda.size(); ++j)
        if (!used[static_cast<size_t>(j)] && (best < 0 || std::abs(lambda(j) - want) < std::abs(lambda(best) - want)))
          best = j;
      used[static_cast<size_t>(best)] = true;
      worst = std::max(worst, std::abs(lambda(best) - want));
    }
    return worst;
  };
  for (const double dt : {0.1, 0.5, 1.0}) {
    const auto cell = euler_cell({2, 6, 1, 1}, EulerForm::ctrnn(dt), rng, true, 2.0);
    const RecurrentBlock b = euler_step_block(cell);
    EXPECT_EQ(b.name, "(1 - dt) I + dt W");
    EXPECT_LT(affine_image(cell.recurrent_matrix(), b.weight, 1 - dt, dt), 1e-12) << "dt=" << dt;
    // The spectral radius moves toward 1 as dt shrinks: |lambda - 1| = dt |mu - 1|.
    const Spectrum s = analyse_spectrum(b.weight), w = analyse_spectrum(cell.recurrent_matrix());
    double far = 0, far_w = 0;
    for (const auto& l : s.eigenvalues) far = std::max(far, std::abs(l - 1.0));
    for (const auto& m : w.eigenvalues) far_w = std::max(far_w, std::abs(m - 1.0));
    EXPECT_NEAR(far, dt * far_w, 1e-12) << "dt=" << dt;
  }
  const auto residual = euler_cell({2, 6, 1, 1}, EulerForm::residual(), rng, true, 2.0);
  EXPECT_EQ(euler_step_block(residual).name, "I + W");
  EXPECT_LT(affine_image(residual.recurrent_matrix(), euler_step_block(residual).weight, 1, 1), 1e-12);
  const auto anti = euler_cell({2, 6, 1, 1}, EulerForm::antisymmetric_rnn(0.2, 0.05), rng, true, 2.0);
  const RecurrentBlock a = euler_step_block(anti);
  EXPECT_EQ(a.name, "I + eps (W - W^T - gamma I)");
  EXPECT_LT(affine_image(anti.recurrent_matrix(), a.weight, 1, 0.2), 1e-12);
  for (const auto& l : analyse_spectrum(a.weight).eigenvalues) EXPECT_NEAR(l.real(), 1 - 0.2 * 0.05, 1e-12);
}

TEST(RemedyCells, ResidualWithoutRecurrentWeightsPassesTheGradientUnchanged) {
  // W_hh = 0: h_t = h_{t-1} + tanh(W_ih x_t + b), so dh_{T-1}/dh_{-1} = I exactly, at any T.
  Rng rng(12);
  const Index I = 2, H = 3, B = 2, T = 50;
  auto cell = euler_cell({I, H, B, T}, EulerForm::residual(), rng);
  cell.params.weight_hh.setZero();
  const auto c = cell.forward(rng.normal_matrix<double>(I, T * B), B);
  const Mat<double> r = rng.normal_matrix<double>(H, B);
  EXPECT_EQ(bptt(cell, c, Mat<double>(), r).d_state0, r);
  EXPECT_EQ(cell.step_jacobian(c, 17, 1), (Mat<double>::Identity(H, H)));
}

TEST(RemedyCells, SkipMatchesHandWrittenRecurrence) {
  // h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + W_skip h_{t-K} + b_hh) from the state [h_{-1}; ...; h_{-K}]
  Rng rng(41);
  const Index I = 2, H = 3, B = 2, T = 7;
  for (Index K : {1, 2, 3, 9}) {
    auto cell = skip_cell({I, H, B, T}, K, rng, true, 2.0);
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const Mat<double> s0 = rng.normal_matrix<double>(K * H, B);
    const auto c = cell.forward(x, B, s0);
    const auto& p = cell.params;
    for (Index b = 0; b < B; ++b) {
      std::vector<Vec<double>> h;  // h_{-K} .. h_{t-1}
      for (Index i = K - 1; i >= 0; --i) h.push_back(s0.col(b).segment(i * H, H));
      for (Index t = 0; t < T; ++t) {
        const Vec<double>& prev = h.back();
        const Vec<double>& back_k = h[h.size() - static_cast<size_t>(K)];
        Vec<double> next(H);
        for (Index i = 0; i < H; ++i) {
          double a = p.bias_ih(i) + p.bias_hh(i);
          for (Index j = 0; j < H; ++j) a += p.weight_hh(i, j) * prev(j) + p.weight_skip(i, j) * back_k(j);
          for (Index k = 0; k < I; ++k) a += p.weight_ih(i, k) * x(k, t * B + b);
          next(i) = std::tanh(a);
        }
        h.push_back(next);
        for (Index i = 0; i < H; ++i) EXPECT_NEAR(cell.output(c)(i, t * B + b), next(i), 1e-14) << "K=" << K;
      }
      const Mat<double> fin = cell.final_state(c);
      for (Index i = 0; i < K; ++i)
        EXPECT_LT((fin.col(b).segment(i * H, H) - h[h.size() - 1 - static_cast<size_t>(i)]).norm(), 1e-14);
    }
  }
}

TEST(RemedyCells, SkipOneIsElmanWithTheSkipWeightAddedToTheRecurrentOne) {
  Rng rng(8);
  const Index I = 3, H = 5, B = 2, T = 6;
  auto skip = skip_cell({I, H, B, T}, 1, rng, true, 1.5);
  Elman<double> elman(I, H, Activation::tanh);
  elman.params.weight_ih = skip.params.weight_ih;
  elman.params.weight_hh = skip.params.weight_hh + skip.params.weight_skip;
  elman.params.bias_ih = skip.params.bias_ih;
  elman.params.bias_hh = skip.params.bias_hh;
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> h0 = rng.normal_matrix<double>(H, B);
  const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
  const Mat<double> dfinal = rng.normal_matrix<double>(H, B);
  const auto cs = skip.forward(x, B, h0);
  const auto ce = elman.forward(x, B, h0);
  EXPECT_LT(relative_difference(skip.output(cs), elman.output(ce)), 1e-15);
  for (Index window : {0, 2}) {
    const auto gs = bptt(skip, cs, dy, dfinal, window);
    const auto ge = bptt(elman, ce, dy, dfinal, window);
    // a_t reads h_{t-1} through both matrices, so both get Elman's dW_hh.
    EXPECT_LT(relative_difference(gs.params.weight_hh, ge.params.weight_hh), 1e-14) << window;
    EXPECT_LT(relative_difference(gs.params.weight_skip, ge.params.weight_hh), 1e-14) << window;
    EXPECT_LT(relative_difference(gs.params.weight_ih, ge.params.weight_ih), 1e-14) << window;
    EXPECT_LT(relative_difference(gs.params.bias_hh, ge.params.bias_hh), 1e-14) << window;
    EXPECT_LT(relative_difference(gs.d_input, ge.d_input), 1e-14) << window;
    EXPECT_LT(relative_difference(gs.d_state0, ge.d_state0), 1e-14) << window;
  }
  for (Index t = 0; t < T; ++t)
    EXPECT_LT(relative_difference(skip.step_jacobian(cs, t, 1), elman.step_jacobian(ce, t, 1)), 1e-14);
}

TEST(RemedyCells, SkipGradientsMatchFiniteDifferences) {
  // K = 1, K < T, K = T and K > T; H = 1; with and without bias; a random full initial state.
  Rng rng(17);
  for (Index K : {1, 2, 3, 8})
    for (const Shape& s : shapes)
      for (bool bias : {true, false}) {
        auto cell = skip_cell(s, K, rng, bias, 1.5);
        const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
        const Mat<double> s0 = rng.normal_matrix<double>(K * s.H, s.B, 0.5);
        const auto report = check_cell_gradients(cell, x, s.B, s0, rng);
        EXPECT_LT(report.worst_relative_error(), 1e-6)
            << "K=" << K << " I=" << s.I << " H=" << s.H << " B=" << s.B << " T=" << s.T << " bias=" << bias << "\n"
            << report.to_string();
        EXPECT_EQ(report.tensors.size(), bias ? 7u : 5u);
      }
}

TEST(RemedyCells, SkipTruncatedBpttAndStepJacobians) {
  Rng rng(9);
  for (Index K : {1, 2, 4, 9}) {
    auto cell = skip_cell({2, 3, 2, 7}, K, rng, true, 1.5);
    expect_truncated_bptt_matches_definition(cell, {2, 3, 2, 7}, rng, "K=" + std::to_string(K));
    auto wide = skip_cell({3, 4, 2, 5}, K, rng, true, 1.5);
    expect_step_jacobians_match(wide, {3, 4, 2, 5}, rng, "K=" + std::to_string(K));
  }
}

TEST(RemedyCells, SkipStepJacobianIsTheBlockCompanionMatrix) {
  Rng rng(10);
  const Index H = 3, K = 4;
  auto cell = skip_cell({2, H, 1, 5}, K, rng);
  const auto c = cell.forward(rng.normal_matrix<double>(2, 5), 1);
  const Mat<double> J = cell.step_jacobian(c, 2, 0);
  ASSERT_EQ(J.rows(), K * H);
  for (Index i = 1; i < K; ++i) {
    EXPECT_EQ(J.block(i * H, (i - 1) * H, H, H), (Mat<double>::Identity(H, H))) << i;
    EXPECT_EQ(J.block(i * H, i * H, H, H).norm(), 0.0) << i;
  }
  EXPECT_EQ(J.block(0, H, H, (K - 2) * H).norm(), 0.0);  // h_{t-2} .. h_{t-K+1} do not reach h_t
  EXPECT_GT(J.block(0, (K - 1) * H, H, H).norm(), 0.0);  // h_{t-K} does
}

TEST(RemedyCells, FloatAgreesWithDouble) {
  Rng rng(2);
  const Shape s{8, 16, 4, 20};
  const auto check_pair = [&](auto cd, auto cf, const std::string& what) {
    cf.params.for_each([&](const char* n, auto& t) {
      cd.params.for_each([&](const char* m, const auto& u) {
        if (std::string(n) == m) {
          t = u.template cast<float>();
        }
      });
    });
    const Mat<double> x = rng.normal_matrix<double>(s.I, s.T * s.B);
    const Mat<double> dy = rng.normal_matrix<double>(s.H, s.T * s.B);
    const auto c64 = cd.forward(x, s.B);
    const auto c32 = cf.forward(x.cast<float>(), s.B);
    EXPECT_LT(relative_difference(cd.output(c64), cf.output(c32).template cast<double>()), 1e-5) << what;
    const auto g64 = bptt(cd, c64, dy, Mat<double>());
    const auto g32 = bptt(cf, c32, dy.cast<float>(), Mat<float>());
    EXPECT_LT(relative_difference(check::flatten(g64.params), check::flatten(g32.params)), 1e-5) << what;
    EXPECT_LT(relative_difference(g64.d_input, g32.d_input.template cast<double>()), 2e-5) << what;
  };
  for (const EulerForm& form : forms)
    check_pair(euler_cell(s, form, rng), EulerRnn<float>(s.I, s.H, form), name(form));
  check_pair(skip_cell(s, 5, rng), SkipRnn<float>(s.I, s.H, 5), "skip");
}

TEST(RemedyCells, BoundsHoldForEveryStep) {
  // ||J_t||_2 <= c for every step of each cell (diagnostics/bounds.hpp).
  Rng rng(13);
  const Shape s{3, 6, 2, 8};
  const auto check_bound = [&](const auto& cell, const std::string& what) {
    const double c = *step_bound(cell);
    const auto cache = cell.forward(rng.normal_matrix<double>(s.I, s.T * s.B), s.B);
    for (Index t = 0; t < s.T; ++t) {
      const Eigen::JacobiSVD<Mat<double>> svd(cell.step_jacobian(cache, t, 1));
      EXPECT_LE(svd.singularValues()(0), c * (1 + 1e-12)) << what << " t=" << t;
    }
    return c;
  };
  for (const EulerForm& form : forms) check_bound(euler_cell(s, form, rng, true, 2.0), name(form));
  for (Index K : {1, 3}) {
    const double c = check_bound(skip_cell(s, K, rng, true, 2.0), "skip");
    if (K > 1) {
      EXPECT_GE(c, 1.0);  // the shift blocks are isometries
    }
  }
}

TEST(RemedyCells, BadInputIsRejectedWithANamedError) {
  const auto message = [](auto&& f) {
    try {
      f();
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { SkipRnn<double>(3, 4, 0); }), "SkipRnn: skip must be at least 1, got 0");
  EXPECT_EQ(message([] { EulerRnn<double>(3, 4, EulerForm::antisymmetric_rnn(0.0, 0.1)); }),
            "EulerRnn: eps must be positive and finite, got 0");
  EXPECT_EQ(message([] { EulerRnn<double>(3, 4, EulerForm::antisymmetric_rnn(0.1, -1)); }),
            "EulerRnn: gamma must be non-negative and finite, got -1");
  Rng rng(1);
  auto cell = skip_cell({3, 4, 2, 5}, 3, rng);
  EXPECT_EQ(message([&] { cell.forward(rng.normal_matrix<double>(3, 10), 2, Mat<double>::Zero(4, 2)); }),
            "h0: expected shape (12, 2), got (4, 2)");
  cell.params.weight_skip.resize(4, 3);
  EXPECT_EQ(message([&] { cell.forward(rng.normal_matrix<double>(3, 10), 2); }),
            "weight_skip: expected shape (4, 4), got (4, 3)");
  ModelSpec spec;
  spec.cell = CellKind::rnn_skip;
  spec.skip = 1001;
  EXPECT_EQ(message([&] { make_model<double>(spec); }), "skip must be in 1..1000, got 1001");
  auto fresh = skip_cell({3, 4, 2, 5}, 2, rng);
  EXPECT_EQ(check::gradient_shape_failure(fresh, fresh.forward(rng.normal_matrix<double>(3, 10), 2)), "");
  auto anti = euler_cell({3, 4, 2, 5}, EulerForm::antisymmetric_rnn(0.1, 0.01), rng);
  EXPECT_EQ(check::gradient_shape_failure(anti, anti.forward(rng.normal_matrix<double>(3, 10), 2)), "");
}
