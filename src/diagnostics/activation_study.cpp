#include "rnnscope/diagnostics/activation_study.hpp"

#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// Bisection on [a, b] where f changes sign, down to adjacent doubles.
template <class F>
double bisect(F&& f, double a, double b) {
  double fa = f(a);
  for (int i = 0; i < 2000; ++i) {
    const double m = 0.5 * (a + b);
    if (m <= a || m >= b) break;
    const double fm = f(m);
    if (fm == 0) return m;
    if ((fm > 0) == (fa > 0)) {
      a = m;
      fa = fm;
    } else {
      b = m;
    }
  }
  return 0.5 * (a + b);
}

// Coefficients q_k of q(u) = sum_k q_k u^k with q(x^2) = P_n[tanh'](x) - P_n[sigmoid'](x).
std::vector<double> difference_in_u(int order) {
  const auto t = derivative_maclaurin(Activation::tanh, order);
  const auto s = derivative_maclaurin(Activation::sigmoid, order);
  std::vector<double> q;
  for (int k = 0; k <= order; k += 2) q.push_back(t[k] - s[k]);  // odd coefficients vanish
  while (q.size() > 1 && q.back() == 0.0) q.pop_back();
  return q;
}

}  // namespace

double exact_derivative_crossing_closed_form() { return 2.0 * std::acosh((1.0 + std::sqrt(3.0)) / 2.0); }

double exact_derivative_crossing() {
  auto d = [](double x) { return derivative(Activation::tanh, x) - derivative(Activation::sigmoid, x); };
  return bisect(d, 0.0, 10.0);  // d(0) = 3/4 > 0, d(10) < 0
}

std::vector<Interval> approx_derivative_intervals(int order) {
  require(order >= 0, fmt::format("order must be >= 0, got {}", order));
  const auto q = difference_in_u(order);
  auto q_at = [&](double u) {
    double y = 0;
    for (auto it = q.rbegin(); it != q.rend(); ++it) y = y * u + *it;
    return y;
  };
  // Positive real roots of q: eigenvalues of the companion matrix, each polished
  // by bisection on a bracket around it where q changes sign.
  std::vector<double> roots;
  const Index m = static_cast<Index>(q.size()) - 1;
  if (m >= 1) {
    Eigen::MatrixXd companion = Eigen::MatrixXd::Zero(m, m);
    for (Index i = 1; i < m; ++i) companion(i, i - 1) = 1.0;
    for (Index i = 0; i < m; ++i) companion(i, m - 1) = -q[i] / q[m];
    const Eigen::VectorXcd eig = Eigen::EigenSolver<Eigen::MatrixXd>(companion, false).eigenvalues();
    for (const auto& z : eig) {
      if (z.real() <= 0 || std::abs(z.imag()) > 1e-6 * (1 + std::abs(z.real()))) continue;
      double a = z.real() * (1 - 1e-6), b = z.real() * (1 + 1e-6);
      if ((q_at(a) > 0) != (q_at(b) > 0)) roots.push_back(bisect(q_at, a, b));
    }
  }
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  // Between consecutive sign changes q keeps its sign; q(0) = 3/4 > 0.
  std::vector<Interval> positive;  // in x >= 0
  double start = 0;
  bool holds = q_at(0) >= 0;
  for (double r : roots) {
    if (holds) positive.push_back({start, std::sqrt(r)});
    start = std::sqrt(r);
    holds = !holds;
  }
  if (holds) positive.push_back({start, inf});
  // Mirror to x <= 0; the interval through 0 is [-a, a].
  std::vector<Interval> all;
  for (auto it = positive.rbegin(); it != positive.rend(); ++it)
    if (it->lo > 0) all.push_back({-it->hi, -it->lo});
  for (const auto& iv : positive) all.push_back(iv.lo == 0 ? Interval{-iv.hi, iv.hi} : iv);
  return all;
}

namespace {

/// log cosh(x) without overflow: |x| + log1p(exp(-2|x|)) - log 2.
double log_cosh(double x) {
  const double a = std::abs(x);
  return a + std::log1p(std::exp(-2 * a)) - std::log(2.0);
}

}  // namespace

std::vector<std::pair<std::string, double>> named_values(const ActivationStudy& s) {
  return {{"eps", s.eps},
          {"sigmoid(eps)", s.sigmoid_value},
          {"tanh(eps)", s.tanh_value},
          {"2 sigmoid(2 eps) - 1", s.tanh_from_sigmoid},
          {"max |tanh(x) - (2 sigmoid(2x) - 1)| for x in [-20; 20]", s.identity_max_error},
          {"sigmoid'(eps)", s.sigmoid_prime},
          {"tanh'(eps)", s.tanh_prime}};
}

ActivationStudy activation_study(double eps, int max_steps, int order) {
  require(std::isfinite(eps), "--eps must be a finite number");
  require(max_steps >= 1 && max_steps <= kMaxActivationSteps,
          fmt::format("--T must be in 1..{}, got {}", kMaxActivationSteps, max_steps));
  require(order >= 0, fmt::format("--order must be >= 0, got {}", order));
  ActivationStudy s;
  s.eps = eps;
  s.order = order;
  s.sigmoid_prime = derivative(Activation::sigmoid, eps);
  s.tanh_prime = derivative(Activation::tanh, eps);
  s.sigmoid_prime_coefficients = derivative_maclaurin(Activation::sigmoid, order);
  s.tanh_prime_coefficients = derivative_maclaurin(Activation::tanh, order);
  s.sigmoid_prime_approx = evaluate_polynomial(s.sigmoid_prime_coefficients, eps);
  s.tanh_prime_approx = evaluate_polynomial(s.tanh_prime_coefficients, eps);
  s.sigmoid_prime_first = evaluate_polynomial(derivative_maclaurin(Activation::sigmoid, 1), eps);
  s.tanh_prime_first = evaluate_polynomial(derivative_maclaurin(Activation::tanh, 1), eps);
  // rho = cosh^2(eps) / (4 cosh^2(eps/2)) in logs: tanh'(eps) underflows to 0 for |eps| > ~19.
  s.rho = std::exp(2 * log_cosh(eps) - std::log(4.0) - 2 * log_cosh(eps / 2));
  require(s.tanh_prime_approx != 0,
          fmt::format("the order-{} approximation of tanh' vanishes at eps = {}: rho is undefined there", order, eps));
  s.rho_approx = s.sigmoid_prime_approx / s.tanh_prime_approx;
  s.rho_first = s.sigmoid_prime_first / s.tanh_prime_first;
  s.sigmoid_value = activate(Activation::sigmoid, eps);
  s.tanh_value = activate(Activation::tanh, eps);
  s.tanh_from_sigmoid = 2 * activate(Activation::sigmoid, 2 * eps) - 1;
  s.identity_max_error = std::abs(s.tanh_value - s.tanh_from_sigmoid);
  for (int i = -2000; i <= 2000; ++i) {
    const double x = i / 100.0;
    s.identity_max_error =
        std::max(s.identity_max_error, std::abs(activate(Activation::tanh, x) -
                                                (2 * activate(Activation::sigmoid, 2 * x) - 1)));
  }
  try {
    for (const Rational& c : derivative_maclaurin_exact(Activation::sigmoid, order))
      s.sigmoid_prime_series.push_back(c.to_string());
    for (const Rational& c : derivative_maclaurin_exact(Activation::tanh, order))
      s.tanh_prime_series.push_back(c.to_string());
  } catch (const InvalidInput&) {  // beyond 128-bit integers: the doubles serve
    s.sigmoid_prime_series.clear();
    s.tanh_prime_series.clear();
  }
  s.all_intervals = approx_derivative_intervals(order);
  for (const auto& iv : s.all_intervals)
    if (iv.lo <= 0 && 0 <= iv.hi) s.interval_approx = iv;
  const double c = exact_derivative_crossing();
  s.interval_exact = {-c, c};
  require(std::isfinite(s.rho) && std::isfinite(s.rho_approx),
          fmt::format("rho(eps) at eps = {} overflows a double (exact rho = {:.6g}, order-{} rho = {:.6g}); use a "
                      "smaller --eps",
                      eps, s.rho, order, s.rho_approx));
  // Powers as doubles where they are representable (0 or inf past that), and in log10 always: T log10 |rho|.
  const double l = std::log10(std::abs(s.rho)), la = std::log10(std::abs(s.rho_approx)),
               lf = std::log10(std::abs(s.rho_first));
  for (int T = 1; T <= max_steps; ++T) {
    s.steps.push_back(T);
    s.rho_pow.push_back(std::pow(s.rho, T));
    s.rho_approx_pow.push_back(std::pow(s.rho_approx, T));
    s.rho_first_pow.push_back(std::pow(s.rho_first, T));
    s.rho_log10_pow.push_back(T * l);
    s.rho_approx_log10_pow.push_back(T * la);
    s.rho_first_log10_pow.push_back(T * lf);
    s.ratio_log10.push_back(T * (l - la));
    const auto held = [](double v, double log10_v) {
      return std::isfinite(v) && std::abs(v) >= std::numeric_limits<double>::min() && std::isfinite(log10_v);
    };
    s.ratio.push_back(held(s.rho_pow.back(), s.rho_log10_pow.back()) &&
                              held(s.rho_approx_pow.back(), s.rho_approx_log10_pow.back())
                          ? s.rho_pow.back() / s.rho_approx_pow.back()
                          : power_sign(s.rho, T) * power_sign(s.rho_approx, T) * std::pow(10.0, s.ratio_log10.back()));
  }
  return s;
}

}  // namespace rnnscope
