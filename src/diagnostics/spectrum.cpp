#include "rnnscope/diagnostics/spectrum.hpp"

#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"

namespace rnnscope {

namespace {

void check_square(const Mat<double>& w) {
  require(w.rows() > 0 && w.rows() == w.cols(),
          fmt::format("recurrent matrix: expected a non-empty square matrix, got ({}, {})", w.rows(), w.cols()));
  check_finite("recurrent matrix", w);
}

constexpr double max_condition = 1e12;

}  // namespace

Spectrum analyse_spectrum(const Mat<double>& w) {
  check_square(w);
  Spectrum s;
  const Eigen::EigenSolver<Mat<double>> eig(w, true);
  for (Index i = 0; i < w.rows(); ++i) s.eigenvalues.push_back(eig.eigenvalues()(i));
  std::sort(s.eigenvalues.begin(), s.eigenvalues.end(),
            [](auto a, auto b) { return std::abs(a) > std::abs(b); });
  s.spectral_radius = std::abs(s.eigenvalues.front());
  const Eigen::JacobiSVD<Mat<double>> svd(w);
  for (Index i = 0; i < w.rows(); ++i) s.singular_values.push_back(svd.singularValues()(i));
  const Eigen::JacobiSVD<Eigen::MatrixXcd> qsvd(eig.eigenvectors());
  const auto& q = qsvd.singularValues();
  s.eigenvector_condition = q(q.size() - 1) > 0 ? q(0) / q(q.size() - 1) : INFINITY;
  s.diagonalisable = s.eigenvector_condition < max_condition;
  if (!s.diagonalisable)
    s.note = fmt::format("W is not diagonalisable to working precision (cond(Q) = {:.3g}); Q Lambda^n Q^-1 is withheld",
                         s.eigenvector_condition);
  else if (s.eigenvector_condition > 1e6)
    s.note = fmt::format("Q is ill-conditioned (cond(Q) = {:.3g}): Q Lambda^n Q^-1 loses about {:.0f} digits",
                         s.eigenvector_condition, std::log10(s.eigenvector_condition));
  return s;
}

PowerComparison matrix_powers(const Mat<double>& w, int max_n) {
  check_square(w);
  require(max_n >= 1, fmt::format("largest power must be >= 1, got {}", max_n));
  PowerComparison p;
  const Spectrum s = analyse_spectrum(w);
  p.note = s.note;
  const Eigen::EigenSolver<Mat<double>> eig(w, true);
  const Eigen::MatrixXcd q = eig.eigenvectors();
  const Eigen::VectorXcd& lambda = eig.eigenvalues();
  Eigen::MatrixXcd q_inv;
  if (s.diagonalisable) q_inv = q.fullPivLu().inverse();
  // W^n = power 2^e (and Lambda^n = lambda_n 2^e): once the product's largest entry leaves [2^-500, 2^500] both
  // are rescaled by a power of two, which is exact, so that a matrix with huge or tiny entries keeps the log10 of
  // its powers instead of overflowing to inf (then NaN) or underflowing to a 0 that would read as an exact zero.
  Mat<double> power = Mat<double>::Identity(w.rows(), w.cols());
  Eigen::VectorXcd lambda_n = Eigen::VectorXcd::Ones(lambda.size());
  int e = 0;
  for (int n = 1; n <= max_n; ++n) {
    power = power * w;
    if (s.diagonalisable) lambda_n = lambda_n.cwiseProduct(lambda);
    const double top = power.cwiseAbs().maxCoeff();
    if (top > 0 && std::isfinite(top) && (top > 0x1p500 || top < 0x1p-500)) {
      int k = 0;
      (void)std::frexp(top, &k);
      power *= std::ldexp(1.0, -k);
      lambda_n *= std::ldexp(1.0, -k);
      e += k;
    }
    const double log10_scale = e * std::log10(2.0);  // 0 (and each sum below exact) until a rescale
    p.n.push_back(n);
    const double pn = power.norm();
    p.log10_norm_power.push_back(pn > 0 ? log10_spectral_norm(power) + log10_scale : -INFINITY);
    if (s.diagonalisable) {
      const Mat<double> eigen_power = (q * lambda_n.asDiagonal() * q_inv).real();
      p.log10_norm_eigen.push_back(log10_spectral_norm(eigen_power) + log10_scale);
      p.relative_difference.push_back(pn > 0 ? (power - eigen_power).norm() / pn : eigen_power.norm());
    }
  }
  return p;
}

PascanuConditions pascanu_conditions(const Mat<double>& w, double gamma) {
  check_square(w);
  require(gamma > 0, "activation bound gamma must be positive");
  const Spectrum s = analyse_spectrum(w);
  PascanuConditions c;
  c.gamma = gamma;
  c.norm = s.singular_values.front();
  c.radius = s.spectral_radius;
  c.threshold = 1.0 / gamma;
  c.vanishing_guaranteed = c.norm < c.threshold * (1 - c.tolerance);
  c.exploding_possible = c.radius > c.threshold * (1 + c.tolerance);
  return c;
}

PowerRegime power_regime(double modulus) {
  if (modulus < 1 - kPascanuTolerance) return PowerRegime::vanishing;
  if (modulus > 1 + kPascanuTolerance) return PowerRegime::exploding;
  return PowerRegime::edge;
}

const char* to_string(PowerRegime r) {
  switch (r) {
    case PowerRegime::vanishing: return "vanishing";
    case PowerRegime::edge: return "at the edge";
    case PowerRegime::exploding: return "exploding";
  }
  return "?";
}

}  // namespace rnnscope
