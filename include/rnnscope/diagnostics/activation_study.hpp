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
  Interval interval_approx;             // the interval around 0 where approx sigmoid' <= approx tanh'
  std::vector<Interval> all_intervals;  // every interval where it holds (symmetric in eps)
  Interval interval_exact;              // the same for the exact derivatives
  std::vector<int> steps;               // T = 1 .. T_max
  std::vector<double> rho_pow, rho_approx_pow, rho_first_pow;  // rho^T, rho_n^T, rho_1^T
};

/// Runs the study at eps for T = 1..max_steps with order-n approximations.
/// Throws InvalidInput on a non-finite eps, max_steps < 1 or order < 0, and
/// where a result is not a finite double (rho(eps)^T overflows, or the
/// order-n approximation of tanh' vanishes at eps), naming which.
ActivationStudy activation_study(double eps, int max_steps, int order);

/// Where P_n[tanh'](x) - P_n[sigmoid'](x) >= 0, by the real roots of that
/// (even) polynomial in u = x^2 (companion-matrix eigenvalues, polished by bisection).
std::vector<Interval> approx_derivative_intervals(int order);

/// The positive root of tanh'(x) = sigmoid'(x), by bisection to full precision.
double exact_derivative_crossing();

/// Closed form of the exact crossing: 2 acosh((1 + sqrt 3) / 2).
double exact_derivative_crossing_closed_form();

}  // namespace rnnscope
