// Elementwise activations: value, derivative from the output, second
// derivative, and the Maclaurin coefficients of the derivative.
//
//   sigmoid(x) = 1 / (1 + e^-x)      sigmoid' = y (1 - y)     sup = 1/4
//   tanh(x)    = 2 sigmoid(2x) - 1   tanh'    = 1 - y^2       sup = 1
//   relu(x)    = max(0, x)           relu'    = [y > 0]       sup = 1
//   identity(x) = x                  identity' = 1            sup = 1
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

enum class Activation { sigmoid, tanh, relu, identity };

/// "sigmoid", "tanh", "relu", "identity".
std::string_view to_string(Activation f);
/// Parses a name; throws InvalidInput naming the unknown one and the choices.
Activation parse_activation(std::string_view name);

/// sigmoid without overflow for any finite x: the exponential is always of -|x|.
template <class S>
inline S stable_sigmoid(S x) {
  if (x >= S(0)) return S(1) / (S(1) + std::exp(-x));
  const S e = std::exp(x);
  return e / (S(1) + e);
}

/// f(x).
template <class S>
inline S activate(Activation f, S x) {
  switch (f) {
    case Activation::sigmoid: return stable_sigmoid(x);
    case Activation::tanh: return std::tanh(x);
    case Activation::relu: return x > S(0) ? x : S(0);
    case Activation::identity: return x;
  }
  return x;
}

/// f'(x) expressed through the output y = f(x).
template <class S>
inline S derivative_from_output(Activation f, S y) {
  switch (f) {
    case Activation::sigmoid: return y * (S(1) - y);
    case Activation::tanh: return S(1) - y * y;
    case Activation::relu: return y > S(0) ? S(1) : S(0);
    case Activation::identity: return S(1);
  }
  return S(1);
}

/// f''(x) expressed through the output y = f(x).
template <class S>
inline S second_derivative_from_output(Activation f, S y) {
  switch (f) {
    case Activation::sigmoid: return y * (S(1) - y) * (S(1) - S(2) * y);  // s'(1 - 2s)
    case Activation::tanh: return S(-2) * y * (S(1) - y * y);             // -2 t t'
    case Activation::relu:  // almost everywhere
    case Activation::identity: return S(0);
  }
  return S(0);
}

/// f'(x) and f''(x) computed from x.
template <class S>
inline S derivative(Activation f, S x) {
  return derivative_from_output(f, activate(f, x));
}
template <class S>
inline S second_derivative(Activation f, S x) {
  return second_derivative_from_output(f, activate(f, x));
}

/// sup over x of |f'(x)|: the gamma of the gradient bound (gamma ||W||)^L.
double derivative_bound(Activation f);

/// y = f(a) elementwise on a block, in place.
template <class Derived>
void activate_inplace(Activation f, Eigen::MatrixBase<Derived>& a) {
  using S = typename Derived::Scalar;
  switch (f) {
    case Activation::sigmoid: a.derived() = a.unaryExpr([](S x) { return stable_sigmoid(x); }); break;
    case Activation::tanh: a.derived() = a.array().tanh().matrix(); break;
    case Activation::relu: a.derived() = a.cwiseMax(S(0)); break;
    case Activation::identity: break;
  }
}

/// Multiplies g in place by f' taken from the outputs y (the backward of y = f(a)).
template <class DerivedG, class DerivedY>
void multiply_by_derivative(Activation f, Eigen::MatrixBase<DerivedG>& g,
                            const Eigen::MatrixBase<DerivedY>& y) {
  using S = typename DerivedG::Scalar;
  switch (f) {
    case Activation::sigmoid: g.array() *= y.array() * (S(1) - y.array()); break;
    case Activation::tanh: g.array() *= S(1) - y.array().square(); break;
    case Activation::relu: g.array() *= (y.array() > S(0)).template cast<S>(); break;
    case Activation::identity: break;
  }
}

/// 128-bit integers (a GCC/Clang extension) for the exact series coefficients.
__extension__ typedef __int128 int128;

/// An exact rational p/q with q > 0, in lowest terms.
struct Rational {
  int128 num = 0;
  int128 den = 1;
  double to_double() const { return static_cast<double>(num) / static_cast<double>(den); }
  std::string to_string() const;
};

/// Maclaurin coefficients c_0..c_n of f'(x) = sum_k c_k x^k, exactly.
/// Throws InvalidInput if an exact coefficient overflows 128-bit integers
/// (sigmoid and tanh: beyond order 40 or so) or f is relu (no series at 0).
std::vector<Rational> derivative_maclaurin_exact(Activation f, int order);
/// The same coefficients in double, for any order.
std::vector<double> derivative_maclaurin(Activation f, int order);

/// Evaluates sum_k c_k x^k (Horner).
double evaluate_polynomial(const std::vector<double>& c, double x);

}  // namespace rnnscope
