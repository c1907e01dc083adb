// Mean-field theory of gradient flow in wide random recurrent networks
// (docs/theory.md): what a cell, an initialisation and the input's statistics
// predict for the typical rate at which a gradient shrinks or grows per step,
// set beside the measured look-back ratio and Lyapunov exponent.
//
// For an Elman cell h_t = f(a_t), a_t = W_hh h_{t-1} + W_ih x_t + b, with the
// entries of W_hh of variance g^2/H, the pre-activations are Gaussian across
// units with a variance q that settles at the fixed point
//
//   q* = g^2 E[f(sqrt(q*) z)^2] + s^2,   z ~ N(0, 1),
//
// where s^2 is the inputs' and biases' share (I Var(W_ih) input_scale^2 +
// Var(b_ih + b_hh)), and a gradient's squared norm is multiplied per step by
//
//   chi = g^2 E[f'(sqrt(q*) z)^2],
//
// so the largest Lyapunov exponent is lambda = ln(chi) / 2, the look-back
// ratio falls by log10(chi) / 2 per step, and xi = 1 / |ln chi| is the number
// of steps over which a squared gradient norm changes by e. chi = 1 is the edge
// of chaos; g_c is the recurrent scale at which chi = 1 for the given input.
// For the sigmoid, E[f^2] is the units' second moment, mean 1/2 included.
//
// The CT-RNN h_t = (1 - dt) h_{t-1} + dt tanh(a_t) with dt < 1: successive step Jacobians (1 - dt) I +
// dt diag(f') W_hh are strongly correlated, so the one-step average fails. rnnscope solves the dynamic mean
// field of the Euler steps instead: the stationary two-time covariance of the pre-activations (Sompolinsky,
// Crisanti and Sommers 1988, in discrete time) and then a perturbation's two-time equation, whose growth rate
// is the largest eigenvalue of a tridiagonal problem in the lag. It holds on both sides of the edge; at dt = 1
// it is the Elman formula, and without input (state at 0) ln(1 - dt + dt g).
//
// The LSTM and GRU: the stationary second moments of state and gates from the mean-field fixed point, and the
// rate from the step Jacobian linearised there with W_hh quenched (the same matrix every step): a diagonal drift
// (the forget gate; the GRU's update gate) plus a random part, whose spectrum's edge rho gives lambda = ln rho.
// Gilboa et al. (2019) treat the weights as redrawn every step; for tied weights that underestimates the rate
// (PyTorch's initialisation: annealed -0.65, measured -0.44, linearised -0.44). Past the edge (rho > 1) the
// gates move and no exponent is given, only the phase.
//
// Where no theory holds the result says why and carries no numbers: W_hh = scale I (identity) is not random;
// the remedy cells (residual, skip, antisymmetric) are not covered.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "rnnscope/sequence/model.hpp"
#include "rnnscope/training/init.hpp"

namespace rnnscope {

enum class Phase { ordered, critical, chaotic, unknown };
/// "ordered", "critical", "chaotic", "unknown".
std::string_view to_string(Phase p);

/// |ln chi| at or below this is "critical" (xi of 100 steps or more); below it ordered, above it chaotic.
inline constexpr double kCriticalBand = 0.01;

/// The variances an initialisation gives a cell's blocks (the mean-field theory's inputs).
struct InitVariances {
  double recurrent = 0;  ///< g^2: H times the variance of a W_hh entry
  double input = 0;      ///< the variance of a W_ih entry
  double bias = 0;       ///< the variance of b_ih + b_hh per unit
  bool random = true;    ///< false where W_hh is not random (identity)
  std::string rule;      ///< the rule in words, for the tables and docs/theory.md
};
/// Per block (gate blocks of W_hh are H x H; W_ih is (G, I), G = gates * H):
///   pytorch     U(-k, k), k = 1/sqrt(H), every tensor: variance k^2/3 = 1/(3H); g^2 = 1/3; bias 2/(3H)
///   xavier      U(-a, a), a^2 = 6/(fan_in + fan_out): W_hh blocks 1/H (g = 1), W_ih 2/(G + I); bias 0
///   scaled      W_hh N(0, scale^2/H) (g = scale); W_ih xavier; bias 0
///   critical    as scaled with scale = g_c
///   orthogonal  W_hh blocks scale Q, Q Haar-orthogonal (entries of variance scale^2/H, g = scale); W_ih xavier
///   identity    W_hh blocks scale I: not random
InitVariances init_variances(Init init, double scale, CellKind cell, Index input_size, Index hidden_size, bool bias);

/// What the theory is asked about: a single-layer cell and its initialisation,
/// fed inputs N(0, input_scale^2) (as the studies' random networks are).
struct MeanFieldSpec {
  ModelSpec model;
  Init init = Init::pytorch;
  double scale = 1.0;         ///< of the recurrent initialisation (scaled, orthogonal, identity)
  double input_scale = 1.0;   ///< the inputs' standard deviation
  bool with_critical = true;  ///< compute g_c (tens of milliseconds; a phase diagram's grid leaves it out)
  double forget_bias = 0.0;   ///< LSTM: the forget gate's bias mean
};

struct MeanField {
  bool available = false;  ///< false: no theory holds; `reason` says why and the numbers are NaN
  std::string reason;
  std::string regime;         ///< which formula gave lambda (discrete time, Euler solution, gated linearisation)
  double g = 0;               ///< recurrent scale sqrt(H Var(W_hh entry))
  double input_variance = 0;  ///< s^2
  double q_star = 0;  ///< Var(a) at the fixed point (+inf when it diverges: relu with g^2 >= 2); gated: of the gates
  double chi = 0;     ///< per-step factor of a squared gradient norm, g^2 E[f'^2]; gated cells: rho^2
  double lambda = 0;          ///< predicted largest Lyapunov exponent per step (NaN where only the phase is known)
  double slope_log10 = 0;     ///< predicted log10 look-back ratio per step: lambda / ln 10
  double xi = 0;              ///< 1 / (2 |lambda|): steps for a squared gradient norm to change by e (inf at the edge)
  Phase phase = Phase::unknown;
  double g_critical = 0;  ///< g with chi = 1 for this input (NaN where there is none)
};

/// True for the cells the theory covers: rnn_tanh, rnn_relu, rnn_sigmoid, ctrnn, lstm and gru.
bool has_mean_field(CellKind cell);
/// Why a cell has no theory ("" for the covered cells).
std::string mean_field_gap(CellKind cell);

/// The theory for a spec; never throws for a valid spec (an unsupported cell
/// or initialisation gives available = false and the reason).
MeanField mean_field(const MeanFieldSpec& spec);

/// The theory for given block variances: an initialisation's (init_variances) or a model's own.
MeanField mean_field(const ModelSpec& model, const InitVariances& variances, double input_scale,
                     double forget_bias = 0.0, bool with_critical = true);

/// A loaded or trained layer's own statistics, for the theory beside `analyze`: g^2 = H mean(W_hh^2), the mean
/// square of W_ih, and that of b_ih + b_hh per unit; for the LSTM the forget block about its mean, which is
/// returned as the forget bias. Means of squares, not variances: W's mean is part of what a unit sums.
struct EmpiricalBlocks {
  InitVariances variances;
  double forget_bias = 0.0;
};
EmpiricalBlocks empirical_variances(CellKind cell, const Mat<double>& weight_ih, const Mat<double>& weight_hh,
                                    const Vec<double>& bias_ih, const Vec<double>& bias_hh);

/// The predicted log10 look-back ratio L * slope_log10 for L = 0..T (empty where unavailable).
std::vector<double> predicted_lookback(const MeanField& m, Index T);

/// g_c for a cell, its sizes and inputs N(0, input_scale^2) under the critical
/// initialisation (W_ih xavier, no bias variance). Throws InvalidInput naming
/// the cell and the reason where the theory has none.
double critical_scale(const ModelSpec& model, double input_scale = 1.0, double forget_bias = 0.0);

/// The scale an initialisation is drawn with: g_c for critical, else `scale`.
double resolve_scale(Init init, double scale, const ModelSpec& model, double input_scale = 1.0,
                     double forget_bias = 0.0);

namespace mean_field_detail {
/// E[F(sqrt(q) z)], z ~ N(0, 1): composite 8-point Gauss-Legendre over a in [-9 sqrt(q), 9 sqrt(q)] in
/// panels of width min(sqrt(q), 1) / refine (docs/theory.md: accuracy).
double gaussian_expectation(const std::function<double(double)>& F, double q, int refine = 2);
/// The Elman fixed point and chi for an activation (f, f') and g^2, s^2.
struct ElmanPoint {
  double q_star, chi;
};
ElmanPoint elman_point(double (*f)(double), double (*fprime)(double), double g2, double s2);
/// E[F(x) F(y)] for centred jointly Gaussian x, y of variance q and covariance c (0 <= c <= q), by nested
/// gaussian_expectation (refine 1): slow, accurate, the reference for the Euler solution's series.
double gaussian_pair_expectation(double (*F)(double), double q, double c);
/// The same by the Euler solution's Mehler series (docs/theory.md: numerics); q > 0.
double gaussian_pair_series(double (*F)(double), double q, double c);
/// The dynamic mean-field solution of the wide CT-RNN h_t = (1 - dt) h_(t-1) + dt tanh(a_t) driven by inputs of
/// variance su2 fresh every step and biases of variance sb2 (docs/theory.md): the stationary variance q0 of a,
/// its covariance q_inf at infinite lag, chi = g^2 E[tanh'(a)^2] at q0, and the largest Lyapunov exponent.
struct EulerSolution {
  double q0 = 0, q_inf = 0, chi = 0;
  double lambda = std::numeric_limits<double>::quiet_NaN();
  int iterations = 0;
  bool converged = false;
};
EulerSolution euler_dynamic_mean_field(double g2, double dt, double su2, double sb2);
}  // namespace mean_field_detail

}  // namespace rnnscope
