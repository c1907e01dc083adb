// Spectral analysis of a recurrent matrix W (H, H): eigenvalues, spectral
// radius, singular values, and W^n both by repeated multiplication and by the
// eigendecomposition W = Q Lambda Q^-1 (W^n = Q Lambda^n Q^-1), with their
// difference. The eigendecomposition path is only as good as Q's condition
// number; where Q is singular W is not diagonalisable and that path is withheld.
#pragma once

#include <complex>
#include <string>
#include <vector>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

struct Spectrum {
  std::vector<std::complex<double>> eigenvalues;  // by decreasing modulus
  double spectral_radius = 0;
  std::vector<double> singular_values;  // descending; the first is ||W||_2
  double eigenvector_condition = 0;     // cond_2(Q), infinite when Q is singular
  bool diagonalisable = true;           // Q numerically invertible (cond < 1e12)
  std::string note;                     // what a reader should know about the eigen path, or empty
};

/// Throws InvalidInput unless W is square, non-empty and finite.
Spectrum analyse_spectrum(const Mat<double>& w);

struct PowerComparison {
  std::vector<int> n;                   // 1..max_n
  std::vector<double> log10_norm_power;  // log10 ||W^n||_2 by repeated multiplication
  std::vector<double> log10_norm_eigen;  // log10 ||Q Lambda^n Q^-1||_2 (NaN-free: empty if withheld)
  std::vector<double> relative_difference;  // ||W^n - Q Lambda^n Q^-1||_F / ||W^n||_F (empty if withheld)
  std::string note;
};

/// W^n for n = 1..max_n both ways (max_n >= 1).
PowerComparison matrix_powers(const Mat<double>& w, int max_n);

/// The relative tolerance of the Pascanu comparisons: a norm or radius within it of 1/gamma is at the
/// threshold, where neither condition holds. An orthogonal W's radius comes out as 1 + 1e-15 in floating
/// point, and without a tolerance it would read "exploding possible" while the identity's reads not.
inline constexpr double kPascanuTolerance = 1e-9;

/// Pascanu, Mikolov and Bengio (2013) for a recurrent matrix and activation bound gamma:
/// ||W||_2 < 1/gamma suffices for vanishing; rho(W) > 1/gamma is necessary for exploding.
struct PascanuConditions {
  double gamma = 0, norm = 0, radius = 0, threshold = 0;  // threshold = 1/gamma
  double tolerance = kPascanuTolerance;
  bool vanishing_guaranteed = false;  // norm < (1 - tolerance) / gamma
  bool exploding_possible = false;    // radius > (1 + tolerance) / gamma
  /// The conditions in words for tables: "vanishing", "may explode" or "neither".
  const char* verdict() const {
    return vanishing_guaranteed ? "vanishing" : exploding_possible ? "may explode" : "neither";
  }
};
PascanuConditions pascanu_conditions(const Mat<double>& w, double gamma);

/// What W^n does as n grows, from a modulus (an eigenvalue's, or the spectral radius): |lambda|^n vanishes
/// below 1, explodes above it, and persists at the edge, within the relative tolerance kPascanuTolerance of 1.
/// (A non-diagonalisable W with rho = 1 still grows like a polynomial in n along its Jordan chains.)
enum class PowerRegime { vanishing, edge, exploding };
PowerRegime power_regime(double modulus);
/// "vanishing", "at the edge" or "exploding".
const char* to_string(PowerRegime r);

}  // namespace rnnscope
