#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/activation_study.hpp"

using namespace rnnscope;

namespace {
const Activation smooth[] = {Activation::sigmoid, Activation::tanh, Activation::identity};
}

TEST(Activations, SigmoidIsStableAtLargeArguments) {
  for (double x : {1000.0, -1000.0, 745.0, -745.0, 1e300, -1e300}) {
    const double y = stable_sigmoid(x);
    EXPECT_TRUE(std::isfinite(y)) << x;
    EXPECT_GE(y, 0.0);
    EXPECT_LE(y, 1.0);
  }
  EXPECT_EQ(stable_sigmoid(1000.0), 1.0);
  EXPECT_EQ(stable_sigmoid(-1000.0), 0.0);
  EXPECT_EQ(stable_sigmoid(1000.0f), 1.0f);
  EXPECT_DOUBLE_EQ(stable_sigmoid(-30.0), std::exp(-30.0) / (1 + std::exp(-30.0)));
  EXPECT_DOUBLE_EQ(2 * stable_sigmoid(2 * 0.3) - 1, std::tanh(0.3));
}

TEST(Activations, DerivativesMatchFiniteDifferences) {
  const double h = 1e-5;
  for (Activation f : {Activation::sigmoid, Activation::tanh, Activation::relu, Activation::identity}) {
    for (double x = -20.0; x <= 20.0; x += 0.137) {
      if (f == Activation::relu && std::abs(x) < 1e-3) continue;  // the kink
      const double fd1 = (activate(f, x + h) - activate(f, x - h)) / (2 * h);
      EXPECT_NEAR(derivative(f, x), fd1, 1e-9) << to_string(f) << " f' at " << x;
      const double fd2 = (derivative(f, x + h) - derivative(f, x - h)) / (2 * h);
      EXPECT_NEAR(second_derivative(f, x), fd2, 1e-9) << to_string(f) << " f'' at " << x;
    }
  }
  EXPECT_DOUBLE_EQ(derivative_bound(Activation::sigmoid), 0.25);
  EXPECT_DOUBLE_EQ(derivative_bound(Activation::tanh), 1.0);
}

TEST(Activations, MaclaurinCoefficientsMatchKnownSeries) {
  // tanh'(x) = 1 - x^2 + 2x^4/3 - 17x^6/45 + 62x^8/315 - ...
  const auto t = derivative_maclaurin_exact(Activation::tanh, 8);
  const std::pair<long, long> tanh_known[] = {{1, 1}, {0, 1}, {-1, 1}, {0, 1}, {2, 3},
                                              {0, 1}, {-17, 45}, {0, 1}, {62, 315}};
  for (size_t k = 0; k < 9; ++k) {
    EXPECT_EQ(static_cast<long>(t[k].num), tanh_known[k].first) << k;
    EXPECT_EQ(static_cast<long>(t[k].den), tanh_known[k].second) << k;
  }
  // sigmoid(x) = 1/2 + x/4 - x^3/48 + x^5/480 - 17x^7/80640 + 31x^9/1451520 - ..., so
  // sigmoid'(x) = 1/4 - x^2/16 + x^4/96 - 17x^6/11520 + 31x^8/161280 - ...
  const auto s = derivative_maclaurin_exact(Activation::sigmoid, 8);
  const std::pair<long, long> sigmoid_known[] = {{1, 4}, {0, 1}, {-1, 16}, {0, 1}, {1, 96},
                                                 {0, 1}, {-17, 11520}, {0, 1}, {31, 161280}};
  for (size_t k = 0; k < 9; ++k) {
    EXPECT_EQ(static_cast<long>(s[k].num), sigmoid_known[k].first) << k;
    EXPECT_EQ(static_cast<long>(s[k].den), sigmoid_known[k].second) << k;
  }
  EXPECT_EQ(s[6].to_string(), "-17/11520");
}

TEST(Activations, MaclaurinDoubleAgreesWithExactAndConverges) {
  for (Activation f : smooth) {
    const auto exact = derivative_maclaurin_exact(f, 30);
    const auto approx = derivative_maclaurin(f, 30);
    for (size_t k = 0; k < exact.size(); ++k)
      EXPECT_NEAR(approx[k], exact[k].to_double(), 1e-14 * std::abs(exact[k].to_double()) + 1e-300);
    // Inside the radius of convergence (pi/2 for tanh', pi for sigmoid') the series converges.
    for (double x : {-0.7, 0.1, 0.5, 1.0})
      EXPECT_NEAR(evaluate_polynomial(derivative_maclaurin(f, 200), x), derivative(f, x), 1e-12)
          << to_string(f) << " at " << x;
  }
  EXPECT_THROW(derivative_maclaurin_exact(Activation::tanh, 400), InvalidInput);
  EXPECT_THROW(derivative_maclaurin(Activation::relu, 3), InvalidInput);
  EXPECT_THROW(derivative_maclaurin(Activation::tanh, -1), InvalidInput);
}

TEST(ActivationStudy, IntervalsMatchClosedForms) {
  EXPECT_NEAR(exact_derivative_crossing(), 2 * std::acosh((1 + std::sqrt(3.0)) / 2), 1e-9);
  EXPECT_NEAR(exact_derivative_crossing(), 1.6629, 1e-4);
  // Order 0 and 1: 1/4 <= 1 everywhere.
  for (int order : {0, 1}) {
    const auto iv = approx_derivative_intervals(order);
    ASSERT_EQ(iv.size(), 1u);
    EXPECT_TRUE(iv[0].unbounded());
  }
  // Order 2 and 3 (the cubic terms vanish): 1 - x^2 >= 1/4 - x^2/16 for |x| <= 2/sqrt(5).
  for (int order : {2, 3}) {
    const auto iv = approx_derivative_intervals(order);
    ASSERT_EQ(iv.size(), 1u);
    EXPECT_NEAR(iv[0].hi, 2 / std::sqrt(5.0), 1e-9);
    EXPECT_NEAR(iv[0].lo, -2 / std::sqrt(5.0), 1e-9);
  }
  // Order 4: q(u) = 3/4 - 15u/16 + 21u^2/32 has a negative discriminant, so it holds everywhere.
  const double disc = 15.0 / 16 * 15.0 / 16 - 4 * 21.0 / 32 * 3.0 / 4;
  ASSERT_LT(disc, 0);
  EXPECT_TRUE(approx_derivative_intervals(4)[0].unbounded());
  // Order 6: P(x) is a cubic in u; its sign change is where the difference vanishes.
  const auto iv6 = approx_derivative_intervals(6);
  const auto t6 = derivative_maclaurin(Activation::tanh, 6), s6 = derivative_maclaurin(Activation::sigmoid, 6);
  for (const auto& iv : iv6)
    for (double end : {iv.lo, iv.hi})
      if (std::isfinite(end)) {
        EXPECT_NEAR(evaluate_polynomial(t6, end), evaluate_polynomial(s6, end), 1e-12);
      }
}

TEST(ActivationStudy, RhoMatchesMathSheet) {
  const auto s = activation_study(0.05, 20, 1);
  EXPECT_NEAR(s.rho, 0.250469, 5e-7);
  EXPECT_NEAR(s.rho_pow[19], 9.44e-13, 0.005e-13);
  EXPECT_DOUBLE_EQ(s.rho_approx, 0.25);
  EXPECT_NEAR(s.rho_approx_pow[19], std::pow(0.25, 20), 1e-25);
  for (double eps : {0.0, 0.05, 0.5, 2.0, -1.3}) {
    const auto st = activation_study(eps, 3, 2);
    const double closed = std::pow(std::cosh(eps), 2) / (4 * std::pow(std::cosh(eps / 2), 2));
    EXPECT_NEAR(st.rho, closed, 1e-14) << eps;
  }
  EXPECT_NEAR(s.interval_exact.hi, exact_derivative_crossing_closed_form(), 1e-9);
  EXPECT_THROW(activation_study(NAN, 20, 1), InvalidInput);
  EXPECT_THROW(activation_study(0.05, 0, 1), InvalidInput);
  EXPECT_THROW(activation_study(0.05, 20, -2), InvalidInput);
  EXPECT_THROW(parse_activation("softplus"), InvalidInput);
  EXPECT_THROW(activation_study(0.05, kMaxActivationSteps + 1, 1), InvalidInput);
  EXPECT_THROW(activation_study(1000, 5, 1), InvalidInput);  // rho itself overflows a double
}

// Past T = 600 at eps = 0.05 rho^T (about 10^-361) underflows a double: the log10 columns keep it, exactly
// T log10 rho, and the ratio of exact to approximate stays finite, (rho / rho_1)^T.
TEST(ActivationStudy, ValuesSeriesAndTheTanhSigmoidIdentity) {
  // Seeds 000 and 004: the values at eps = 0.05, the textbook series
  // sigmoid(x) = 1/2 + x/4 - x^3/48 + x^5/480 - 17 x^7/80640 and
  // tanh(x) = x - x^3/3 + 2 x^5/15 - 17 x^7/315, differentiated term by term.
  const ActivationStudy s = activation_study(0.05, 3, 6);
  EXPECT_DOUBLE_EQ(s.sigmoid_value, 1 / (1 + std::exp(-0.05)));
  EXPECT_DOUBLE_EQ(s.tanh_value, std::tanh(0.05));
  EXPECT_NEAR(s.tanh_from_sigmoid, std::tanh(0.05), 1e-16);
  EXPECT_LT(s.identity_max_error, 1e-15);
  EXPECT_GT(s.identity_max_error, 0.0);  // rounding shows: the check is numerical, not an identity of code
  EXPECT_EQ(s.sigmoid_prime_series, (std::vector<std::string>{"1/4", "0", "-1/16", "0", "1/96", "0", "-17/11520"}));
  EXPECT_EQ(s.tanh_prime_series, (std::vector<std::string>{"1", "0", "-1", "0", "2/3", "0", "-17/45"}));
  // Past 128-bit integers the exact series is left empty; the study still runs on the doubles.
  const ActivationStudy high = activation_study(0.05, 3, 120);
  EXPECT_TRUE(high.sigmoid_prime_series.empty());
  EXPECT_TRUE(std::isfinite(high.rho_approx));
}

TEST(ActivationStudy, PowersBeyondADoublesRangeStayInLog10) {
  for (const int T : {600, 100000}) {
    const auto s = activation_study(0.05, T, 1);
    const double l = std::log10(s.rho), l1 = std::log10(0.25);
    const size_t last = static_cast<size_t>(T - 1);
    EXPECT_EQ(s.rho_pow[last], 0.0) << T;  // the double underflowed
    EXPECT_NEAR(s.rho_log10_pow[last], T * l, 1e-12 * T) << T;
    EXPECT_NEAR(s.rho_approx_log10_pow[last], T * l1, 1e-12 * T) << T;
    EXPECT_NEAR(s.ratio_log10[last], T * std::log10(s.rho / 0.25), 1e-12 * T) << T;
    EXPECT_TRUE(std::isfinite(s.ratio_log10[last]));
    // Where the doubles still hold the powers, the log10s agree with them.
    EXPECT_NEAR(s.rho_log10_pow[99], std::log10(s.rho_pow[99]), 1e-12);
  }
  // A base above 1 overflows instead (eps = 3: rho = 2.75), and the log10 keeps that too.
  const auto big = activation_study(3.0, 1000, 1);
  EXPECT_TRUE(std::isinf(big.rho_pow.back()));
  EXPECT_NEAR(big.rho_log10_pow.back(), 1000 * std::log10(big.rho), 1e-9);
}
