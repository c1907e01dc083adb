#include "rnnscope/activations/activation.hpp"

#include <fmt/format.h>

#include <numeric>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

std::string_view to_string(Activation f) {
  switch (f) {
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::relu: return "relu";
    case Activation::identity: return "identity";
  }
  return "?";
}

Activation parse_activation(std::string_view name) {
  for (Activation f : {Activation::sigmoid, Activation::tanh, Activation::relu, Activation::identity})
    if (name == to_string(f)) return f;
  throw InvalidInput(fmt::format("unknown nonlinearity '{}' (expected sigmoid, tanh, relu or identity)",
                                 name));
}

double derivative_bound(Activation f) { return f == Activation::sigmoid ? 0.25 : 1.0; }

namespace {

int128 abs128(int128 v) { return v < 0 ? -v : v; }

int128 gcd128(int128 a, int128 b) {
  a = abs128(a);
  b = abs128(b);
  while (b != 0) {
    const int128 r = a % b;
    a = b;
    b = r;
  }
  return a;
}

[[noreturn]] void overflow(int order) {
  throw InvalidInput(fmt::format(
      "exact Maclaurin coefficients of order {} overflow 128-bit integers; use the double ones", order));
}

int128 mul(int128 a, int128 b, int order) {
  int128 r;
  if (__builtin_mul_overflow(a, b, &r)) overflow(order);
  return r;
}

int128 add(int128 a, int128 b, int order) {
  int128 r;
  if (__builtin_add_overflow(a, b, &r)) overflow(order);
  return r;
}

Rational normalise(int128 num, int128 den) {
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const int128 g = gcd128(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  if (num == 0) den = 1;
  return {num, den};
}

Rational plus(Rational a, Rational b, int order) {
  const int128 g = gcd128(a.den, b.den);
  const int128 da = a.den / g;
  const int128 db = b.den / g;
  return normalise(add(mul(a.num, db, order), mul(b.num, da, order), order), mul(a.den, db, order));
}

Rational times(Rational a, Rational b, int order) {
  const int128 g1 = gcd128(a.num, b.den);
  const int128 g2 = gcd128(b.num, a.den);
  const int128 n1 = g1 > 1 ? a.num / g1 : a.num, d2 = g1 > 1 ? b.den / g1 : b.den;
  const int128 n2 = g2 > 1 ? b.num / g2 : b.num, d1 = g2 > 1 ? a.den / g2 : a.den;
  return normalise(mul(n1, n2, order), mul(d1, d2, order));
}

void require_analytic(Activation f, int order) {
  require(order >= 0, fmt::format("Maclaurin order must be >= 0, got {}", order));
  require(f != Activation::relu, "relu has no Maclaurin series at 0 (its derivative jumps there)");
}

}  // namespace

std::string Rational::to_string() const {
  auto str = [](int128 v) {
    if (v == 0) return std::string("0");
    const bool negative = v < 0;
    std::string s;
    for (int128 u = negative ? -v : v; u > 0; u /= 10) s.insert(s.begin(), char('0' + int(u % 10)));
    return negative ? "-" + s : s;
  };
  return den == 1 ? str(num) : str(num) + "/" + str(den);
}

// tanh = sum t_k x^k solves T' = 1 - T^2, T(0) = 0, so (k+1) t_{k+1} = [k = 0] - sum_{i+j=k} t_i t_j,
// and tanh' = sum (k+1) t_{k+1} x^k. sigmoid(x) = (1 + tanh(x/2)) / 2 gives
// sigmoid'(x) = tanh'(x/2) / 4, whose k-th coefficient is that of tanh' over 4 * 2^k.
std::vector<Rational> derivative_maclaurin_exact(Activation f, int order) {
  require_analytic(f, order);
  std::vector<Rational> c(static_cast<size_t>(order) + 1, Rational{0, 1});
  if (f == Activation::identity) {
    c[0] = {1, 1};
    return c;
  }
  std::vector<Rational> t(static_cast<size_t>(order) + 2, Rational{0, 1});
  for (int k = 0; k <= order; ++k) {
    Rational s{k == 0 ? 1 : 0, 1};
    for (int i = 0; i <= k; ++i)
      s = plus(s, times(Rational{-1, 1}, times(t[i], t[k - i], order), order), order);
    t[k + 1] = times(s, Rational{1, k + 1}, order);
  }
  int128 scale = 4;
  for (int k = 0; k <= order; ++k) {
    const Rational dk = times(t[k + 1], Rational{k + 1, 1}, order);
    c[k] = f == Activation::tanh ? dk : times(dk, Rational{1, scale}, order);
    if (k < order) scale = mul(scale, 2, order);
  }
  return c;
}

std::vector<double> derivative_maclaurin(Activation f, int order) {
  require_analytic(f, order);
  std::vector<double> c(static_cast<size_t>(order) + 1, 0.0);
  if (f == Activation::identity) {
    c[0] = 1.0;
    return c;
  }
  std::vector<double> t(static_cast<size_t>(order) + 2, 0.0);
  for (int k = 0; k <= order; ++k) {
    double s = k == 0 ? 1.0 : 0.0;
    for (int i = 0; i <= k; ++i) s -= t[i] * t[k - i];
    t[k + 1] = s / (k + 1);
  }
  double scale = 4.0;
  for (int k = 0; k <= order; ++k) {
    const double dk = (k + 1) * t[k + 1];
    c[k] = f == Activation::tanh ? dk : dk / scale;
    scale *= 2.0;
  }
  return c;
}

double evaluate_polynomial(const std::vector<double>& c, double x) {
  double y = 0.0;
  for (auto it = c.rbegin(); it != c.rend(); ++it) y = y * x + *it;
  return y;
}

}  // namespace rnnscope
