#include <gtest/gtest.h>

#include <cmath>

#include "cell_testing.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/contributions.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/diagnostics/spectrum.hpp"
#include "rnnscope/training/init.hpp"

using namespace rnnscope;
using check::relative_difference;

namespace {

Elman<double> elman(Index I, Index H, Activation f, Rng& rng, double scale = 1.0) {
  Elman<double> cell(I, H, f);
  cell.init_uniform(rng);
  cell.params.weight_hh *= scale;
  return cell;
}

}  // namespace

TEST(JacobianChain, EqualsExplicitProductsOfFiniteDifferenceJacobians) {
  Rng rng(1);
  const Index I = 2, H = 4, B = 2, T = 6;
  auto cell = elman(I, H, Activation::tanh, rng, 2.0);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> h0 = rng.normal_matrix<double>(H, B);
  const auto c = cell.forward(x, B, h0);
  for (Index b = 0; b < B; ++b) {
    const auto chains = jacobian_chains(cell, c, b);
    const auto norms = jacobian_chain_norms(cell, c, b, true);
    ASSERT_EQ(chains.size(), static_cast<size_t>(T + 1));
    Mat<double> explicit_product = Mat<double>::Identity(H, H);
    Mat<double> prev = h0;
    std::vector<Mat<double>> states{h0};
    for (Index t = 0; t < T; ++t) states.push_back(check::one_step(cell, x.middleCols(t * B, B), states.back()));
    for (Index L = 0; L <= T; ++L) {
      if (L > 0) {
        const Index t = T - L;  // C_L = C_{L-1} J_t
        explicit_product = explicit_product *
                           check::numeric_step_jacobian(cell, x.middleCols(t * B, B), states[static_cast<size_t>(t)], b);
      }
      EXPECT_LT(relative_difference(chains[static_cast<size_t>(L)], explicit_product), 1e-7) << "L=" << L;
      const Eigen::JacobiSVD<Mat<double>> svd(explicit_product);
      EXPECT_NEAR(norms.log10_spectral[static_cast<size_t>(L)], std::log10(svd.singularValues()(0)), 1e-7);
      EXPECT_NEAR(norms.log10_frobenius[static_cast<size_t>(L)], std::log10(explicit_product.norm()), 1e-7);
      for (Index i = 0; i < H; ++i)
        EXPECT_NEAR(norms.log10_singular_values[static_cast<size_t>(L)][static_cast<size_t>(i)],
                    std::log10(svd.singularValues()(i)), 1e-6);
    }
  }
}

TEST(JacobianChain, AppliedToFinalCotangentEqualsBackward) {
  Rng rng(2);
  const Index I = 3, H = 5, B = 3, T = 12;
  for (Activation f : {Activation::sigmoid, Activation::tanh, Activation::relu}) {
    auto cell = elman(I, H, f, rng, 1.5);
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const auto c = cell.forward(x, B);
    const Mat<double> g = rng.normal_matrix<double>(H, B);
    auto grads = cell.zero_gradients(c);
    for (Index b = 0; b < B; ++b) {
      const auto chains = jacobian_chains(cell, c, b);
      const auto ratios = lookback_log10_ratios(cell, c, b, g.col(b));
      Mat<double> d = g;
      for (Index L = 1; L <= T; ++L) {
        // Backward over the last L steps gives dL/ds_{T-1-L}.
        d = cell.backward_range(c, Mat<double>(), d, T - L, T - L + 1, grads);
        const Vec<double> via_chain = chains[static_cast<size_t>(L)].transpose() * g.col(b);
        EXPECT_LT(relative_difference(via_chain, Vec<double>(d.col(b))), 1e-12) << to_string(f) << " L=" << L;
        const double expected = std::log10(d.col(b).norm() / g.col(b).norm());
        if (std::isinf(expected)) {
          EXPECT_EQ(ratios[static_cast<size_t>(L)], expected);  // relu: the gradient died exactly
        } else {
          EXPECT_NEAR(ratios[static_cast<size_t>(L)], expected, 1e-10);
        }
      }
    }
  }
}

TEST(JacobianChain, KnownFacts) {
  Rng rng(3);
  const Index I = 2, H = 16, B = 1, T = 200;
  // Sigmoid chains decay at least like (||W||/4)^L.
  auto sig = elman(I, H, Activation::sigmoid, rng, 3.0);
  const auto cs = sig.forward(rng.normal_matrix<double>(I, T * B), B);
  const double log10_bound = std::log10(0.25 * spectral_norm(sig.params.weight_hh));
  const auto ns = jacobian_chain_norms(sig, cs, 0);
  for (Index L = 0; L <= T; ++L)
    EXPECT_LE(ns.log10_spectral[static_cast<size_t>(L)], static_cast<double>(L) * log10_bound + 1e-10) << L;
  // An orthogonal linear RNN keeps every chain at norm 1.
  Elman<double> lin(I, H, Activation::identity);
  lin.params.weight_hh = random_orthogonal<double>(H, rng);
  lin.params.weight_ih = rng.normal_matrix<double>(H, I);
  const auto cl = lin.forward(rng.normal_matrix<double>(I, 500), 1);
  const auto nl = jacobian_chain_norms(lin, cl, 0);
  for (double v : nl.log10_spectral) EXPECT_NEAR(v, 0.0, 1e-12);
}

TEST(Lyapunov, HugeAndTinyJacobiansKeepTheirExponents) {
  // The identity cell's step Jacobian is W itself: over one step from Q_0 = I, W = s diag(lambda) has R = W, so
  // the exponents are log|s lambda_i|. At s = 1e200 and 1e-200 the QR's squared norms would overflow or
  // underflow (NaN, or -inf for a nonzero entry) without the power-of-two scaling.
  const Index H = 4;
  Vec<double> lambda(H);
  lambda << 1.5, -0.8, 0.6, 0.2;
  for (const double scale : {1e200, 1e-200}) {
    Elman<double> lin(1, H, Activation::identity);
    lin.params.weight_hh = (scale * lambda).asDiagonal();
    const auto c = lin.forward(Mat<double>::Zero(1, 1), 1, Mat<double>::Ones(H, 1));  // one step
    const auto exps = lyapunov_spectrum(lin, c, 0);
    ASSERT_EQ(exps.size(), static_cast<size_t>(H));
    for (Index i = 0; i < H; ++i)
      EXPECT_NEAR(exps[static_cast<size_t>(i)], std::log(scale * std::abs(lambda(i))), 1e-9) << scale << " " << i;
  }
}

TEST(Lyapunov, LinearNormalMatrixGivesLogModuli) {
  Rng rng(4);
  const Index H = 6;
  const Mat<double> q = random_orthogonal<double>(H, rng);
  Vec<double> lambda(H);
  lambda << 1.3, -0.9, 0.7, 0.5, -0.3, 0.1;
  Elman<double> lin(1, H, Activation::identity);
  lin.params.weight_hh = q * lambda.asDiagonal() * q.transpose();  // symmetric, so normal
  const auto c = lin.forward(rng.normal_matrix<double>(1, 400), 1);
  const auto exps = lyapunov_spectrum(lin, c, 0, 0, 200);
  ASSERT_EQ(exps.size(), static_cast<size_t>(H));
  for (Index i = 0; i < H; ++i) EXPECT_NEAR(exps[static_cast<size_t>(i)], std::log(std::abs(lambda(i))), 1e-6) << i;
  const auto top2 = lyapunov_spectrum(lin, c, 0, 2, 200);
  ASSERT_EQ(top2.size(), 2u);
  EXPECT_NEAR(top2[0], std::log(1.3), 1e-6);
}

TEST(Lyapunov, LargestExponentIsTheChainGrowthRate) {
  Rng rng(5);
  const Index H = 10, T = 3000;
  for (double scale : {1.0, 3.0}) {
    auto cell = elman(1, H, Activation::tanh, rng, scale);
    const auto c = cell.forward(rng.normal_matrix<double>(1, T), 1);
    const auto exps = lyapunov_spectrum(cell, c, 0);
    const auto norms = jacobian_chain_norms(cell, c, 0);
    const double growth = norms.log10_spectral.back() * std::log(10.0) / static_cast<double>(T);
    EXPECT_NEAR(exps[0], growth, 0.01) << "scale " << scale;
  }
}

TEST(Lyapunov, NormalMatrixWithComplexPairsGivesLogModuli) {
  // W = Q diag(r_k R(theta_k)) Q^T: normal, eigenvalues r_k e^{+-i theta_k} in pairs.
  Rng rng(41);
  const Index H = 6;
  const double r[] = {1.2, 0.8, 0.4}, theta[] = {0.7, 2.1, 0.2};
  Mat<double> blocks = Mat<double>::Zero(H, H);
  for (Index k = 0; k < 3; ++k) {
    const double c = r[k] * std::cos(theta[k]), s = r[k] * std::sin(theta[k]);
    blocks.block<2, 2>(2 * k, 2 * k) << c, -s, s, c;
  }
  const Mat<double> q = random_orthogonal<double>(H, rng);
  Elman<double> lin(1, H, Activation::identity);
  lin.params.weight_hh = q * blocks * q.transpose();
  const auto c = lin.forward(rng.normal_matrix<double>(1, 400), 1);
  const auto exps = lyapunov_spectrum(lin, c, 0, 0, 200);
  ASSERT_EQ(exps.size(), static_cast<size_t>(H));
  for (Index i = 0; i < H; ++i) EXPECT_NEAR(exps[static_cast<size_t>(i)], std::log(r[i / 2]), 1e-6) << i;
}

TEST(Contributions, SumToTheBpttGradient) {
  Rng rng(6);
  const Index I = 3, H = 4, B = 2, T = 9;
  for (Activation f : {Activation::sigmoid, Activation::tanh, Activation::relu}) {
    auto cell = elman(I, H, f, rng, 1.5);
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
    const auto c = cell.forward(x, B);
    const auto buckets = contributions_by_distance(cell, c, dy);
    ASSERT_EQ(buckets.size(), static_cast<size_t>(T));
    const auto full = bptt(cell, c, dy, Mat<double>());
    Vec<double> sum = Vec<double>::Zero(check::flatten(full.params).size());
    for (Index d = 0; d < T; ++d) {
      sum += check::flatten(buckets[static_cast<size_t>(d)]);
      // The buckets below distance K are exactly truncated BPTT with window K.
      const auto truncated = bptt(cell, c, dy, Mat<double>(), d + 1);
      EXPECT_LT(relative_difference(sum, check::flatten(truncated.params)), 1e-10) << "K=" << d + 1;
    }
    EXPECT_LT(relative_difference(sum, check::flatten(full.params)), 1e-10) << to_string(f);
    const auto norms = contribution_norms(buckets, "weight_hh");
    EXPECT_EQ(norms.size(), static_cast<size_t>(T));
    EXPECT_GT(norms[0], 0);
  }
}

TEST(Contributions, ScaledBucketsKeepTheDigitsBelowTheSmallestDouble) {
  // A contracting network (about 1e-2 a step): from some distance on the plain buckets are exact zeros. The scaled
  // buckets are the plain ones where those are well above the underflow, and they are linear in the cotangent to
  // the bit: the cotangent times 2^-1000 (where every term is below 1e-300) gives the same mantissas, 1000 lower in
  // their exponents.
  Rng rng(61);
  const Index I = 3, H = 4, B = 2, T = 250;
  auto cell = elman(I, H, Activation::tanh, rng, 0.02);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> r = rng.normal_matrix<double>(H, T * B);
  const auto c = cell.forward(x, B);
  const auto plain = contributions_by_distance(cell, c, r);
  const auto scaled = scaled_contributions_by_distance(cell, c, r);
  const auto tiny = scaled_contributions_by_distance(cell, c, Mat<double>(r * std::ldexp(1.0, -1000)));
  ASSERT_EQ(scaled.params.size(), static_cast<size_t>(T));
  // The premise: a plain bucket underflows to exact zeros. (The last, d = T - 1, is an exact zero in any case: the
  // term (T - 1, 0), whose d+s_0/dW_hh holds the zero initial state.)
  EXPECT_EQ(plain[T - 2].weight_hh.cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(scaled.params.back().weight_hh.cwiseAbs().maxCoeff(), 0.0);
  std::vector<double> log10_norm;
  for (size_t d = 0; d + 1 < scaled.params.size(); ++d) {
    const Mat<double>& m = scaled.params[d].weight_hh;
    ASSERT_GT(m.norm(), 0.0) << d;
    log10_norm.push_back(std::log10(m.norm()) + scaled.exponent[d] * std::log10(2.0));
    const int shift = tiny.exponent[d] + 1000 - scaled.exponent[d];
    const Mat<double> back = tiny.params[d].weight_hh.unaryExpr([shift](double v) { return std::ldexp(v, shift); });
    EXPECT_LT((back - m).norm(), 1e-13 * m.norm()) << d;
    if (log10_norm.back() > -290) {  // entrywise: a norm of such entries would square them below the range
      const Mat<double> unscaled = m.unaryExpr([e = scaled.exponent[d]](double v) { return std::ldexp(v, e); });
      EXPECT_LE((plain[d].weight_hh - unscaled).cwiseAbs().maxCoeff(), 1e-13 * unscaled.cwiseAbs().maxCoeff()) << d;
      EXPECT_GT(unscaled.cwiseAbs().maxCoeff(), 0.0) << d;
    }
  }
  EXPECT_LT(log10_norm.back(), -330.0);
  // Past the underflow the curve keeps its slope: the decay a step over the last 100 distances is that over the
  // 50 before, within 5 %.
  const double early = (log10_norm[100] - log10_norm[50]) / 50, late = (log10_norm[248] - log10_norm[148]) / 100;
  EXPECT_LT(early, -1.0);
  EXPECT_NEAR(late / early, 1.0, 0.05);
}

TEST(Contributions, TermsSumToTheBpttGradientAndToFiniteDifferences) {
  // sum_t sum_{k<=t} term (t, k) = dL/dW_hh, for L = sum_t <r_t, out_t>: by BPTT and by central differences of L.
  Rng rng(8);
  const Index I = 2, H = 3, B = 2, T = 5;
  auto check_cell = [&](const auto& cell, const char* name) {
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const Mat<double> r = rng.normal_matrix<double>(H, T * B);
    const auto c = cell.forward(x, B);
    const auto terms = weight_hh_terms(cell, c, r);
    ASSERT_EQ(terms.size(), static_cast<size_t>(T * (T + 1) / 2));
    Mat<double> sum = Mat<double>::Zero(cell.params.weight_hh.rows(), H);
    for (const auto& term : terms) sum += term.weight_hh;
    const Mat<double> full = bptt(cell, c, r, Mat<double>()).params.weight_hh;
    EXPECT_LT((sum - full).cwiseAbs().maxCoeff(), 1e-12) << name;
    auto loss = [&](const Mat<double>& w) {
      auto perturbed = cell;
      perturbed.params.weight_hh = w;
      const auto pc = perturbed.forward(x, B);
      return (pc.states.rightCols(T * B).topRows(H).cwiseProduct(r)).sum();
    };
    Mat<double> numeric(sum.rows(), sum.cols());
    const double eps = 1e-6;
    for (Index i = 0; i < sum.rows(); ++i)
      for (Index j = 0; j < sum.cols(); ++j) {
        Mat<double> up = cell.params.weight_hh, down = up;
        up(i, j) += eps;
        down(i, j) -= eps;
        numeric(i, j) = (loss(up) - loss(down)) / (2 * eps);
      }
    EXPECT_LT(relative_difference(sum, numeric), 1e-8) << name;
  };
  for (Activation f : {Activation::sigmoid, Activation::tanh, Activation::relu})
    check_cell(elman(I, H, f, rng, 1.5), to_string(f).data());
  LSTM<double> lstm(I, H);
  lstm.init_uniform(rng);
  check_cell(lstm, "lstm");
}

TEST(Contributions, TermsOfThreeStepsAreTheExpansionWrittenOut) {
  // T = 3, tanh: h_t = tanh(a_t), D_t = diag(1 - h_t^2), J_t = D_t W. The immediate partial of h_k holds
  // h_{k-1} fixed: d+h_k[i]/dW[p][q] = D_k[i] [i = p] h_{k-1}[q]. So with v the row vector dL_t/dh_t J_t ... J_{k+1},
  // term (t, k) = diag(D_k) v^T h_{k-1}^T, and
  //   dL/dW = sum_t dL_t/dh_t [d+h_t/dW + J_t d+h_{t-1}/dW + J_t J_{t-1} d+h_{t-2}/dW]  (the terms with k >= 0),
  // each product written out here with Eigen, summed over the batch.
  Rng rng(9);
  const Index I = 2, H = 4, B = 2, T = 3;
  auto cell = elman(I, H, Activation::tanh, rng, 1.5);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B), h0 = rng.normal_matrix<double>(H, B);
  const Mat<double> r = rng.normal_matrix<double>(H, T * B);
  const auto terms = weight_hh_terms(cell, cell.forward(x, B, h0), r);
  ASSERT_EQ(terms.size(), 6u);
  const auto& p = cell.params;
  const Mat<double>& W = p.weight_hh;
  Mat<double> expected[3][3];
  for (auto& row : expected)
    for (auto& m : row) m = Mat<double>::Zero(H, H);
  for (Index b = 0; b < B; ++b) {
    Vec<double> h[T + 1], D[T];  // h[0] = h_{-1}, h[t + 1] = h_t
    h[0] = h0.col(b);
    for (Index t = 0; t < T; ++t) {
      const Vec<double> a = p.weight_ih * x.col(t * B + b) + p.bias_ih + p.bias_hh + W * h[t];
      h[t + 1] = a.array().tanh();
      D[t] = 1 - h[t + 1].array().square();
    }
    auto J = [&](Index t) -> Mat<double> { return D[t].asDiagonal() * W; };
    auto term = [&](Index k, const Vec<double>& v) -> Mat<double> {
      return (D[k].array() * v.array()).matrix() * h[k].transpose();
    };
    const Vec<double> r0 = r.col(0 * B + b), r1 = r.col(1 * B + b), r2 = r.col(2 * B + b);
    expected[0][0] += term(0, r0);
    expected[1][1] += term(1, r1);
    expected[1][0] += term(0, (r1.transpose() * J(1)).transpose());
    expected[2][2] += term(2, r2);
    expected[2][1] += term(1, (r2.transpose() * J(2)).transpose());
    expected[2][0] += term(0, (r2.transpose() * J(2) * J(1)).transpose());
  }
  for (const auto& t : terms) {
    const Mat<double>& want = expected[t.t][t.k];
    EXPECT_LT((t.weight_hh - want).cwiseAbs().maxCoeff(), 1e-14 * want.cwiseAbs().maxCoeff())
        << "(t, k) = (" << t.t << ", " << t.k << ")";
  }
}

// W = c R with R a rotation (||R^n||_2 = 1): log10 ||W^n||_2 = n log10 c, also where c^n is far outside a double's
// range (before, W^n overflowed to inf and NaN, or underflowed to 0, read as an exact zero).
TEST(Spectrum, PowersOfHugeAndTinyMatricesKeepTheirLog10) {
  for (const double c : {1e200, 1e-200, 1e300}) {
    Mat<double> w(2, 2);
    w << 0.6 * c, -0.8 * c, 0.8 * c, 0.6 * c;
    const auto p = matrix_powers(w, 50);
    ASSERT_EQ(p.log10_norm_power.size(), 50u);
    // The eigen path is withheld where the eigenvectors lose their condition at such scales; where it is
    // given, it is rescaled alike.
    const bool eigen = !p.log10_norm_eigen.empty();
    for (size_t i = 0; i < p.n.size(); ++i) {
      const double want = p.n[i] * std::log10(c);
      EXPECT_NEAR(p.log10_norm_power[i], want, 1e-9 * std::abs(want)) << "c = " << c << ", n = " << p.n[i];
      if (!eigen) continue;
      EXPECT_NEAR(p.log10_norm_eigen[i], want, 1e-9 * std::abs(want)) << "c = " << c << ", n = " << p.n[i];
      EXPECT_LT(p.relative_difference[i], 1e-12) << "c = " << c << ", n = " << p.n[i];
    }
  }
}

TEST(Spectrum, EigenvaluesPowersAndConditions) {
  Mat<double> rot(2, 2);
  const double r = 0.9, th = 0.3;
  rot << r * std::cos(th), -r * std::sin(th), r * std::sin(th), r * std::cos(th);
  const auto s = analyse_spectrum(rot);
  EXPECT_NEAR(s.spectral_radius, 0.9, 1e-14);
  EXPECT_NEAR(std::abs(s.eigenvalues[0].imag()), r * std::sin(th), 1e-14);
  EXPECT_NEAR(s.singular_values[0], 0.9, 1e-14);
  EXPECT_TRUE(s.diagonalisable);
  const auto p = matrix_powers(rot, 50);
  for (size_t i = 0; i < p.n.size(); ++i) {
    EXPECT_NEAR(p.log10_norm_power[i], p.n[i] * std::log10(0.9), 1e-12);
    EXPECT_NEAR(p.log10_norm_eigen[i], p.n[i] * std::log10(0.9), 1e-12);
    EXPECT_LT(p.relative_difference[i], 1e-12);
  }
  // A Jordan block is not diagonalisable: the eigen path is withheld with a message.
  Mat<double> jordan(2, 2);
  jordan << 1, 1, 0, 1;
  const auto sj = analyse_spectrum(jordan);
  EXPECT_FALSE(sj.diagonalisable);
  EXPECT_NE(sj.note.find("not diagonalisable"), std::string::npos);
  const auto pj = matrix_powers(jordan, 10);
  EXPECT_TRUE(pj.log10_norm_eigen.empty());
  EXPECT_NEAR(std::pow(10.0, pj.log10_norm_power[9]), Eigen::JacobiSVD<Mat<double>>(Mat<double>(
      (Mat<double>(2, 2) << 1, 10, 0, 1).finished())).singularValues()(0), 1e-12);
  // Pascanu: ||W|| = 3, rho = 3 with gamma = 1/4 -> 1/gamma = 4: vanishing guaranteed, no explosion possible.
  const Mat<double> w = 3.0 * Mat<double>::Identity(3, 3);
  const auto pc = pascanu_conditions(w, 0.25);
  EXPECT_TRUE(pc.vanishing_guaranteed);
  EXPECT_FALSE(pc.exploding_possible);
  const auto pt = pascanu_conditions(w, 1.0);
  EXPECT_FALSE(pt.vanishing_guaranteed);
  EXPECT_TRUE(pt.exploding_possible);
  // Non-normal: ||W||_2 > 1/gamma > rho(W), so neither condition holds.
  Mat<double> nn(2, 2);
  nn << 0.5, 10, 0, 0.5;
  const auto pn = pascanu_conditions(nn, 1.0);
  EXPECT_NEAR(pn.radius, 0.5, 1e-14);
  EXPECT_GT(pn.norm, 10.0);
  EXPECT_FALSE(pn.vanishing_guaranteed);
  EXPECT_FALSE(pn.exploding_possible);
  EXPECT_STREQ(pn.verdict(), "neither");
  // At the threshold, within the stated tolerance: an orthogonal W (radius 1 up to rounding) reads as the
  // identity does, neither; 1e-6 beyond it, the conditions hold.
  Rng rng(4);
  for (const Mat<double>& m :
       {Mat<double>(random_orthogonal<double>(16, rng)), Mat<double>(Mat<double>::Identity(16, 16))}) {
    const auto at = pascanu_conditions(m, 1.0);
    EXPECT_NEAR(at.radius, 1.0, 1e-12);
    EXPECT_FALSE(at.exploding_possible);
    EXPECT_FALSE(at.vanishing_guaranteed);
    EXPECT_FALSE(pascanu_conditions((1 - 1e-6) * m, 1.0).exploding_possible);
    EXPECT_TRUE(pascanu_conditions((1 - 1e-6) * m, 1.0).vanishing_guaranteed);
    EXPECT_TRUE(pascanu_conditions((1 + 1e-6) * m, 1.0).exploding_possible);
    EXPECT_STREQ(pascanu_conditions((1 + 1e-6) * m, 1.0).verdict(), "may explode");
  }
  // Nearly a Jordan block: diagonalisable, but Q is ill-conditioned; the eigen
  // path is kept, its lost digits are named and its difference reported.
  Mat<double> near(2, 2);
  near << 1, 1, 0, 1 + 1e-8;
  const auto sn = analyse_spectrum(near);
  EXPECT_TRUE(sn.diagonalisable);
  EXPECT_GT(sn.eigenvector_condition, 1e7);
  EXPECT_NE(sn.note.find("ill-conditioned"), std::string::npos) << sn.note;
  const auto pnear = matrix_powers(near, 20);
  ASSERT_EQ(pnear.relative_difference.size(), 20u);
  EXPECT_GT(pnear.relative_difference.back(), 1e-12);  // digits are lost ...
  EXPECT_LT(pnear.relative_difference.back(), 1e-4);   // ... about eight of them
  EXPECT_THROW(analyse_spectrum(Mat<double>(2, 3)), InvalidInput);
  EXPECT_THROW(matrix_powers(w, 0), InvalidInput);
}

// log10_spectral_norm (tridiagonal form, top eigenvalue by bisection) against
// the largest singular value from Eigen's SVD, on the matrices a chain can be:
// random, rank one, rank deficient, with every singular value equal (C_0 = I
// and orthogonal matrices), with a cluster at the top, scaled far above and
// below one, rectangular, 1 x 1 and zero.
TEST(SpectralNorm, MatchesTheSvdOnHardCases) {
  Rng rng(71);
  std::vector<std::pair<std::string, Mat<double>>> cases;
  cases.emplace_back("random 128", rng.normal_matrix<double>(128, 128));
  const Vec<double> u = rng.normal_matrix<double>(50, 1), v = rng.normal_matrix<double>(50, 1);
  cases.emplace_back("rank one", u * v.transpose());
  Mat<double> deficient = rng.normal_matrix<double>(40, 10) * rng.normal_matrix<double>(10, 40);
  cases.emplace_back("rank 10 of 40", deficient);
  cases.emplace_back("identity", Mat<double>::Identity(64, 64));
  const Eigen::HouseholderQR<Mat<double>> qr(rng.normal_matrix<double>(30, 30));
  cases.emplace_back("orthogonal", qr.householderQ() * Mat<double>::Identity(30, 30));
  Vec<double> s = Vec<double>::LinSpaced(60, 1.0, 0.01);
  s(1) = 1.0 - 1e-12;  // a top pair 1e-12 apart
  const Eigen::HouseholderQR<Mat<double>> q1(rng.normal_matrix<double>(60, 60)), q2(rng.normal_matrix<double>(60, 60));
  const Mat<double> Q1 = q1.householderQ() * Mat<double>::Identity(60, 60),
                    Q2 = q2.householderQ() * Mat<double>::Identity(60, 60);
  cases.emplace_back("clustered top", Q1 * s.asDiagonal() * Q2.transpose());
  cases.emplace_back("scaled 1e-200", 1e-200 * rng.normal_matrix<double>(20, 20));
  cases.emplace_back("scaled 1e200", 1e200 * rng.normal_matrix<double>(20, 20));
  cases.emplace_back("rectangular 7 x 3", rng.normal_matrix<double>(7, 3));
  cases.emplace_back("1 x 1", Mat<double>::Constant(1, 1, -3.0));
  for (const auto& [name, a] : cases) {
    const double want = std::log10(Eigen::BDCSVD<Mat<double>>(a).singularValues()(0));
    EXPECT_NEAR(log10_spectral_norm(a), want, 1e-14 * std::max(1.0, std::abs(want))) << name;
  }
  EXPECT_EQ(log10_spectral_norm(Mat<double>::Zero(5, 5)), -std::numeric_limits<double>::infinity());
  EXPECT_NEAR(log10_spectral_norm(qr.householderQ() * Mat<double>::Identity(30, 30)), 0.0, 1e-15);
}

// A workspace kept from call to call (ChainWorkspace) gives the norms of a
// fresh call, identical, for a second sequence after a first and for a cell of
// another size after that.
TEST(JacobianChain, AReusedWorkspaceGivesTheNormsOfAFreshCall) {
  Rng rng(89);
  ChainWorkspace workspace;
  for (const Index H : {Index{12}, Index{12}, Index{7}}) {
    Elman<double> cell(3, H, Activation::tanh);
    cell.init_uniform(rng);
    const auto cache = cell.forward(rng.normal_matrix<double>(3, 23 * 2), 2);
    for (const Index b : {Index{0}, Index{1}}) {
      const ChainNorms fresh = jacobian_chain_norms(cell, cache, b);
      const ChainNorms reused = jacobian_chain_norms(cell, cache, b, false, &workspace);
      EXPECT_EQ(reused.log10_spectral, fresh.log10_spectral) << "H " << H << " b " << b;
      EXPECT_EQ(reused.log10_frobenius, fresh.log10_frobenius) << "H " << H << " b " << b;
    }
  }
}

// The k-th largest eigenvalue of a symmetric tridiagonal matrix by bisection
// equals that of Eigen's dense eigensolver, with no guess of it and with
// guesses that are close (the previous Lanczos step's Ritz value), a little
// off, far off, outside the spectrum or not finite: a guess only narrows the
// starting bracket where the Sturm count confirms it.
// Entries of every magnitude a double holds: the norm of c R (R a rotation) is c, read from its log10. At
// c = 1e100 the Gram matrix's iteration overflowed and the norm came out as -inf.
TEST(SpectralNorm, HugeAndTinyEntries) {
  for (const double c : {1e-150, 1e-80, 1e60, 1e80, 1e100, 1e150, 1e300}) {
    Mat<double> w(3, 3);
    w << 0.6 * c, -0.8 * c, 0, 0.8 * c, 0.6 * c, 0, 0, 0, 0.5 * c;
    EXPECT_NEAR(log10_spectral_norm(w), std::log10(c), 1e-12 * std::max(1.0, std::abs(std::log10(c)))) << c;
  }
}

TEST(SpectralNorm, TridiagonalEigenvalueWithAndWithoutAGuess) {
  Rng rng(83);
  for (const Index n : {Index{1}, Index{2}, Index{9}, Index{40}}) {
    const Vec<double> d = rng.normal_matrix<double>(n, 1);
    const Vec<double> e = n > 1 ? Vec<double>(rng.normal_matrix<double>(n - 1, 1)) : Vec<double>();
    Mat<double> t = Mat<double>::Zero(n, n);
    t.diagonal() = d;
    if (n > 1) {
      t.diagonal(1) = e;
      t.diagonal(-1) = e;
    }
    const Vec<double> eig = Eigen::SelfAdjointEigenSolver<Mat<double>>(t, Eigen::EigenvaluesOnly).eigenvalues();
    // Both are backward stable: each is within a small multiple of n eps ||T|| of the truth.
    const double eps = std::numeric_limits<double>::epsilon();
    const double dense_tol = double(n) * eps * t.cwiseAbs().rowwise().sum().maxCoeff();
    for (const Index k : {Index{1}, std::min<Index>(n, 2)}) {
      const double want = eig(n - k), plain = detail::tridiagonal_eigenvalue_from_top(d, e, k);
      EXPECT_NEAR(plain, want, dense_tol) << "n " << n << " k " << k;
      // A guess changes only the bracket the bisection starts from: the same
      // eigenvalue to the width the bisection stops at (2 eps relative).
      for (const double guess : {want, want * (1 + 3e-9), want * (1 - 5e-6), want + 1.0, -want, 1e9,
                                 std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()})
        EXPECT_NEAR(detail::tridiagonal_eigenvalue_from_top(d, e, k, guess), plain, 4 * eps * std::abs(plain))
            << "n " << n << " k " << k << " guess " << guess;
    }
  }
}

// SpectralNorm started from a guess: a good one (the answer itself), a bad one
// (orthogonal to the answer: the fixed spread vector added to every start
// brings the answer in), and non-finite or wrongly sized ones (ignored); and a
// top cluster 1e-12 wide, which Lanczos cannot settle within its step limit,
// going the exact way (Householder and bisection).
TEST(SpectralNorm, GuessesAndTheExactFallback) {
  Rng rng(79);
  const Index n = 40;
  const Eigen::HouseholderQR<Mat<double>> q1(rng.normal_matrix<double>(n, n)), q2(rng.normal_matrix<double>(n, n));
  const Mat<double> Q1 = q1.householderQ() * Mat<double>::Identity(n, n),
                    Q2 = q2.householderQ() * Mat<double>::Identity(n, n);
  Vec<double> s = Vec<double>::LinSpaced(n, 3.0, 0.1);
  const Mat<double> a = Q1 * s.asDiagonal() * Q2.transpose();  // top left singular vector: Q1.col(0)
  const double want = std::log10(3.0);
  const auto tol = 1e-14;
  SpectralNorm sn;
  EXPECT_NEAR(sn.log10_norm(a), want, tol);
  const Index cold = sn.steps();
  EXPECT_LE(cold, SpectralNorm::kMaxSteps);
  EXPECT_GT(std::abs(sn.vector().dot(Q1.col(0))), 1.0 - 1e-6);  // the Ritz vector is the top singular vector
  EXPECT_NEAR(sn.log10_norm(a, Q1.col(0)), want, tol);
  EXPECT_LT(sn.steps(), cold);  // a good guess saves steps
  EXPECT_NEAR(sn.log10_norm(a, Q1.col(n - 1)), want, tol);  // orthogonal to the answer
  EXPECT_NEAR(sn.log10_norm(a, Vec<double>::Constant(n, std::nan(""))), want, tol);
  EXPECT_NEAR(sn.log10_norm(a, Vec<double>::Ones(n + 1)), want, tol);
  EXPECT_NEAR(sn.log10_norm(a.transpose().topRows(30)), std::log10(Eigen::BDCSVD<Mat<double>>(
                                                             Mat<double>(a.transpose().topRows(30))).singularValues()(0)),
              tol);  // wide: the left Gram matrix
  // The cluster of 128 x 128: 1e-12 apart at the top, the rest spread below.
  const Index m = 128;
  const Eigen::HouseholderQR<Mat<double>> p1(rng.normal_matrix<double>(m, m)), p2(rng.normal_matrix<double>(m, m));
  Vec<double> c = Vec<double>::LinSpaced(m, 1.0, 0.9);
  c(1) = 1.0 - 1e-12;
  const Mat<double> b = (p1.householderQ() * Mat<double>::Identity(m, m)) * c.asDiagonal() *
                        (p2.householderQ() * Mat<double>::Identity(m, m)).transpose();
  EXPECT_NEAR(sn.log10_norm(b), 0.0, tol);
  EXPECT_EQ(sn.steps(), SpectralNorm::kMaxSteps + 1) << "the exact route";
}

// The chains' norms, computed through the ring over the threads, equal those of each
// chain matrix computed on its own, for every L of a sequence longer than a group.
TEST(SpectralNorm, ChainNormsInGroupsEqualEachChainsOwn) {
  Rng rng(73);
  Elman<double> cell(3, 9, Activation::tanh);
  cell.init_uniform(rng);
  const auto cache = cell.forward(rng.normal_matrix<double>(3, 37 * 2), 2);
  const ChainNorms n = jacobian_chain_norms(cell, cache, 1, true);
  const auto chains = jacobian_chains(cell, cache, 1);
  ASSERT_EQ(n.log10_spectral.size(), chains.size());
  for (size_t L = 0; L < chains.size(); ++L) {
    const Eigen::BDCSVD<Mat<double>> svd(chains[L]);
    EXPECT_NEAR(n.log10_spectral[L], std::log10(svd.singularValues()(0)), 1e-12) << "L " << L;
    EXPECT_NEAR(n.log10_frobenius[L], std::log10(chains[L].norm()), 1e-12) << "L " << L;
    // The largest of all singular values (the smallest are not comparable: the
    // unscaled reference product holds them only to eps times the largest).
    ASSERT_EQ(n.log10_singular_values[L].size(), 9u);
    EXPECT_NEAR(n.log10_singular_values[L].front(), std::log10(svd.singularValues()(0)), 1e-12) << "L " << L;
  }
}
