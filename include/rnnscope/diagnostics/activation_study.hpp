// The activation study: how much faster products of sigmoid' than of tanh'
// shrink near the origin, exactly and in Maclaurin approximations of any order.
//
//   rho(eps)        = sigmoid'(eps) / tanh'(eps) = cosh^2(eps) / (4 cosh^2(eps/2))
//   rho_n(eps)      = P_n[sigmoid'](eps) / P_n[tanh'](eps), P_n the order-n Maclaurin polynomial
//   interval        the eps where P_n[sigmoid'](eps) <= P_n[tanh'](eps), by root finding
//
// Closed forms it is checked against: exactly |eps| <= 2 acosh((1 + sqrt 3)/2);
// order 2 |eps| <= 2/sqrt 5; order 1 every eps.
#pragma once

#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace rnnscope {

/// A closed interval [lo, hi]; infinite ends are +-infinity.
struct Interval {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool unbounded() const { return hi == std::numeric_limits<double>::infinity(); }
};

struct ActivationStudy {
  double eps = 0;
  int order = 0;
  double sigmoid_prime = 0, tanh_prime = 0;                // exact at eps
  double sigmoid_prime_approx = 0, tanh_prime_approx = 0;  // order-n Maclaurin at eps
  double sigmoid_prime_first = 0, tanh_prime_first = 0;    // first-order Maclaurin at eps (1/4 and 1)
  double rho = 0, rho_approx = 0, rho_first = 0;
  double sigmoid_value = 0, tanh_value = 0;  // sigmoid(eps), tanh(eps)
  double tanh_from_sigmoid = 0;              // 2 sigmoid(2 eps) - 1, which equals tanh(eps)
  // The identity tanh(x) = 2 sigmoid(2x) - 1 checked numerically: the largest
  // |tanh(x) - (2 sigmoid(2x) - 1)| over x = -20, -19.99, ..., 20 and eps.
  double identity_max_error = 0;
  // The Maclaurin coefficients c_0..c_n of sigmoid' and tanh' at the study's
  // order, as doubles, and exactly ("1/4", "0", "-1/16", ...; empty where
  // they overflow 128-bit integers, orders beyond about 40).
  std::vector<double> sigmoid_prime_coefficients, tanh_prime_coefficients;
  std::vector<std::string> sigmoid_prime_series, tanh_prime_series;
  Interval interval_approx;             // the interval around 0 where approx sigmoid' <= approx tanh'
  std::vector<Interval> all_intervals;  // every interval where it holds (symmetric in eps)
  Interval interval_exact;              // the same for the exact derivatives
  std::vector<int> steps;               // T = 1 .. T_max
  std::vector<double> rho_pow, rho_approx_pow, rho_first_pow;  // rho^T, rho_n^T, rho_1^T as doubles
  // The same as T log10 |rho| (a power below 1e-308 underflows a double to 0,
  // one above 1.8e308 overflows to inf; these stay exact), and the ratio
  // rho^T / rho_n^T as T (log10 |rho| - log10 |rho_n|). A negative base gives
  // a negative power at odd T (power_sign).
  std::vector<double> rho_log10_pow, rho_approx_log10_pow, rho_first_log10_pow, ratio_log10;
  // The ratio rho^T / rho_n^T as a double: the quotient of the two powers where
  // both doubles hold them (finite, and zero or normal), else its sign times
  // 10^ratio_log10, which stays finite where the powers underflow.
  std::vector<double> ratio;
};

/// The study's values by name, in the order activation_values.csv lists them:
/// eps, sigmoid(eps), tanh(eps), 2 sigmoid(2 eps) - 1, the identity's largest
/// error, sigmoid'(eps), tanh'(eps).
std::vector<std::pair<std::string, double>> named_values(const ActivationStudy& s);

/// The largest --T of the activation study: its tables hold 8 values per T.
inline constexpr int kMaxActivationSteps = 1000000;

/// Runs the study at eps for T = 1..max_steps with order-n approximations.
/// Throws InvalidInput on a non-finite eps, max_steps outside
/// 1..kMaxActivationSteps or order < 0, and where rho itself is not a finite
/// double (it overflows, or the order-n approximation of tanh' vanishes at
/// eps), naming which. Powers that leave a double's range are kept in log10.
ActivationStudy activation_study(double eps, int max_steps, int order);

/// The sign of base^T: -1 for a negative base and odd T, else 1.
inline double power_sign(double base, int T) { return base < 0 && T % 2 != 0 ? -1.0 : 1.0; }

/// Where P_n[tanh'](x) - P_n[sigmoid'](x) >= 0, by the real roots of that
/// (even) polynomial in u = x^2 (companion-matrix eigenvalues, polished by bisection).
std::vector<Interval> approx_derivative_intervals(int order);

/// The positive root of tanh'(x) = sigmoid'(x), by bisection to full precision.
double exact_derivative_crossing();

/// Closed form of the exact crossing: 2 acosh((1 + sqrt 3) / 2).
double exact_derivative_crossing_closed_form();

}  // namespace rnnscope
