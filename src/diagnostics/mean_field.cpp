#include "rnnscope/diagnostics/mean_field.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/number_text.hpp"

namespace rnnscope {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double tanh_f(double a) { return std::tanh(a); }
double tanh_d(double a) {
  const double t = std::tanh(a);
  return 1.0 - t * t;
}
double sigmoid_f(double a) { return 1.0 / (1.0 + std::exp(-a)); }
double sigmoid_d(double a) {
  const double s = sigmoid_f(a);
  return s * (1.0 - s);
}

// 8-point Gauss-Legendre on [-1, 1] (Abramowitz and Stegun, table 25.4).
constexpr std::array<double, 4> kNodes{0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363};
constexpr std::array<double, 4> kWeights{0.3626837833783620, 0.3137066458778873, 0.2223810344533745,
                                         0.1012285362903763};

// The cells the Elman theory covers, by their activation; nullptr for the others.
struct Activation2 {
  double (*f)(double) = nullptr;
  double (*fprime)(double) = nullptr;
  bool relu = false;
};
Activation2 activation_of(CellKind c) {
  switch (c) {
    case CellKind::rnn_tanh:
    case CellKind::ctrnn:
      return {tanh_f, tanh_d, false};
    case CellKind::rnn_sigmoid:
      return {sigmoid_f, sigmoid_d, false};
    case CellKind::rnn_relu:
      return {nullptr, nullptr, true};
    default:
      return {};
  }
}

std::string uncovered(CellKind c) {
  switch (c) {
    case CellKind::rnn_residual:
    case CellKind::rnn_antisymmetric:
      return fmt::format(
          "the {} cell adds its update to h_(t-1): its state variance grows without a fixed point, so the "
          "stationary theory does not apply",
          to_string(c));
    case CellKind::rnn_skip:
      return "the skip cell's chain has paths of several lengths (its state holds K hidden vectors); the one-step "
             "theory does not describe it";
    default:
      return "";
  }
}

Index gates_of(CellKind c) {
  switch (c) {
    case CellKind::lstm:
      return 4;
    case CellKind::gru:
      return 3;
    default:
      return 1;
  }
}

Phase phase_of(double log_chi) {
  if (std::isnan(log_chi)) return Phase::unknown;
  if (std::abs(log_chi) <= kCriticalBand) return Phase::critical;
  return log_chi < 0 ? Phase::ordered : Phase::chaotic;
}

// The root of a continuous fn on [a, b] where fn(a) and fn(b) differ in sign: the Illinois variant of
// regula falsi (superlinear; the halved end value keeps both ends moving), to a relative step of `rel`.
template <class F>
double bracketed_root(F&& fn, double a, double b, double rel) {
  double fa = fn(a), fb = fn(b), c = a;
  int kept = 0;  // which end stayed last time: +1 a, -1 b
  for (int i = 0; i < 300; ++i) {
    double next = (a * fb - b * fa) / (fb - fa);
    if (!(next > std::min(a, b) && next < std::max(a, b))) next = 0.5 * (a + b);
    const bool done = std::abs(next - c) <= rel * std::abs(next);
    c = next;
    const double fc = fn(c);
    if (fc == 0 || done) break;
    if ((fc > 0) == (fb > 0)) {
      b = c;
      fb = fc;
      if (kept == 1) fa *= 0.5;
      kept = 1;
    } else {
      a = c;
      fa = fc;
      if (kept == -1) fb *= 0.5;
      kept = -1;
    }
  }
  return c;
}

}  // namespace

std::vector<double> predicted_lookback(const MeanField& m, Index T) {
  std::vector<double> v;
  if (!m.available || !std::isfinite(m.slope_log10)) return v;
  for (Index L = 0; L <= T; ++L) v.push_back(L == 0 ? 0.0 : static_cast<double>(L) * m.slope_log10);  // not -0
  return v;
}

bool has_mean_field(CellKind cell) { return uncovered(cell).empty(); }

std::string mean_field_gap(CellKind cell) { return uncovered(cell); }

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::ordered:
      return "ordered";
    case Phase::critical:
      return "critical";
    case Phase::chaotic:
      return "chaotic";
    case Phase::unknown:
      break;
  }
  return "unknown";
}

namespace {

// C(rho) = E[F(x) F(y)] for (x, y) centred Gaussian with variances q and covariance rho q, rho in [0, 1], by
// Mehler's expansion: with u ~ N(0, 1) and c_k = E[F(sqrt(q) u) He_k(u)] / sqrt(k!), C(rho) = sum_k c_k^2 rho^k.
// The c_k come from composite 8-point Gauss-Legendre over u in [-10, 10] in panels of width min(1/4, 1/(2
// sqrt(q))), fine enough for He_k up to the largest degree kept (600); the series stops where the remaining
// share of E[F^2] = sum_k c_k^2 is below 1e-13, and whatever is left is carried as one term rho^(K+1), exact at
// rho = 0 and 1.
class HermiteSeries {
 public:
  HermiteSeries(double (*F)(double), double q) {
    const double width = std::min(0.25, 0.5 / std::sqrt(std::max(q, 1e-300)));
    const auto panels = static_cast<long>(std::ceil(20.0 / width));
    const double h = 20.0 / static_cast<double>(panels);
    std::vector<double> u, wf;  // nodes, and density weight times F
    double second = 0;
    for (long p = 0; p < panels; ++p) {
      const double mid = -10.0 + (static_cast<double>(p) + 0.5) * h;
      for (size_t i = 0; i < kNodes.size(); ++i)
        for (const double side : {-1.0, 1.0}) {
          const double z = mid + side * 0.5 * h * kNodes[i];
          const double w = 0.5 * h * kWeights[i] * std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
          const double f = F(std::sqrt(q) * z);
          u.push_back(z);
          wf.push_back(w * f);
          second += w * f * f;
        }
    }
    std::vector<double> previous(u.size(), 0.0), current(u.size(), 1.0);  // He_(k-1), He_k normalised by sqrt(k!)
    double kept = 0;
    for (int k = 0; k <= kMaxDegree; ++k) {
      double c = 0;
      for (size_t i = 0; i < u.size(); ++i) c += wf[i] * current[i];
      squares_.push_back(c * c);
      kept += c * c;
      if (second - kept <= 1e-13 * second) break;
      for (size_t i = 0; i < u.size(); ++i) {
        const double next = (u[i] * current[i] - std::sqrt(static_cast<double>(k)) * previous[i]) /
                            std::sqrt(static_cast<double>(k + 1));
        previous[i] = current[i];
        current[i] = next;
      }
    }
    tail_ = std::max(0.0, second - kept);
  }
  double operator()(double rho) const {
    rho = std::clamp(rho, 0.0, 1.0);
    double sum = tail_ * rho;
    for (size_t k = squares_.size(); k-- > 0;) sum = sum * rho + squares_[k];
    return sum;
  }

 private:
  static constexpr int kMaxDegree = 600;
  std::vector<double> squares_;
  double tail_ = 0;
};

}  // namespace

namespace mean_field_detail {

double gaussian_expectation(const std::function<double(double)>& F, double q, int refine) {
  require(q >= 0 && std::isfinite(q), fmt::format("mean field: a variance must be finite and >= 0, got {}", q));
  require(refine >= 1, "mean field: refine must be >= 1");
  if (q == 0) return F(0.0);
  const double sd = std::sqrt(q);
  const double width = std::min(sd, 1.0) / refine;  // F varies on a scale of 1 in a, the density on sd
  const double reach = 9.0 * sd;                    // the density beyond 9 sd is below 1e-18 of its peak
  const auto panels = static_cast<long>(std::ceil(2.0 * reach / width));
  const double h = 2.0 * reach / static_cast<double>(panels);
  const double norm = 1.0 / (sd * std::sqrt(2.0 * M_PI));
  double sum = 0;
  for (long p = 0; p < panels; ++p) {
    const double mid = -reach + (static_cast<double>(p) + 0.5) * h;
    double panel = 0;
    for (size_t i = 0; i < kNodes.size(); ++i)
      for (const double side : {-1.0, 1.0}) {
        const double a = mid + side * 0.5 * h * kNodes[i];
        panel += kWeights[i] * F(a) * std::exp(-0.5 * a * a / q);
      }
    sum += 0.5 * h * panel;
  }
  return norm * sum;
}

ElmanPoint elman_point(double (*f)(double), double (*fprime)(double), double g2, double s2) {
  // q* is the root of G(q) = g^2 E[f^2](q) + s^2 - q above s^2 (bracketed_root); the upper end starts at
  // s^2 + g^2 (enough where f^2 <= 1: tanh, the sigmoid) and doubles until G <= 0 there (an unbounded f,
  // as in the linear limit); past 1e300 q* is taken as infinite. For f(0) = 0 and s = 0 the ordered root is 0.
  const auto second_moment = [f](double a) {
    const double v = f(a);
    return v * v;
  };
  const auto G = [&](double q) { return g2 * gaussian_expectation(second_moment, q) + s2 - q; };
  // Without input (s = 0) and f(0) = 0, q = 0 is a root, and it is the one a network started at h_0 = 0
  // follows: it never leaves the fixed point 0, stable or not, so the exponent is ln(g f'(0)) (measured so).
  // Past the edge another root q* > 0 exists, which any input, however small, selects.
  double lo = s2, hi = s2 + g2 + 1e-300;
  double q = lo;
  while (G(hi) > 0) {
    hi *= 2;
    if (hi > 1e300) return {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
  }
  if (G(lo) > 0 && G(hi) < 0) q = bracketed_root(G, lo, hi, 1e-15);
  if (G(lo) > 0 && G(hi) == 0) q = hi;
  const auto slope_squared = [fprime](double a) {
    const double d = fprime(a);
    return d * d;
  };
  return {q, g2 * gaussian_expectation(slope_squared, q)};
}

double gaussian_pair_expectation(double (*F)(double), double q, double c) {
  require(q >= 0 && std::isfinite(q) && c >= 0 && c <= q,
          fmt::format("mean field: a pair's variance and covariance must satisfy 0 <= c <= q, got q {} c {}", q, c));
  // x = m + sqrt(q - c) z1, y = m + sqrt(q - c) z2 with m ~ N(0, c): E[F(x) F(y)] = E_m[(E_z1 F(x))^2].
  const auto smoothed = [&](double m) {
    const double e = gaussian_expectation([&](double a) { return F(m + a); }, q - c, 1);
    return e * e;
  };
  return gaussian_expectation(smoothed, c, 1);
}

double gaussian_pair_series(double (*F)(double), double q, double c) {
  require(q > 0 && std::isfinite(q) && c >= 0 && c <= q,
          fmt::format("mean field: a pair's variance and covariance must satisfy 0 <= c <= q, q > 0, got q {} c {}",
                      q, c));
  return HermiteSeries(F, q)(c / q);
}

EulerSolution euler_dynamic_mean_field(double g2, double dt, double su2, double sb2) {
  require(g2 >= 0 && std::isfinite(g2) && dt > 0 && dt <= 1 && su2 >= 0 && sb2 >= 0,
          "mean field: the Euler solution needs g^2 >= 0, 0 < dt <= 1 and non-negative input variances");
  // Stationary two-time statistics of the wide CT-RNN h_t = keep h_(t-1) + dt tanh(a_t), a_t = W h_(t-1) + u_t
  // + b: Q(tau) = Cov(a_t, a_(t+tau)) = g^2 D(tau) + sb2 + su2 [tau = 0], D = Cov(h_t, h_(t+tau)) the AR(1)
  // filter of C(tau) = E[tanh(a_t) tanh(a_(t+tau))]: D(tau) = C(inf) + dt^2/(1 - keep^2) sum_k keep^|tau-k|
  // (C(k) - C(inf)). Solved by iterating Q -> Q' on lags 0..N until max |Q' - Q| <= 1e-11 Q(0).
  const double keep = 1.0 - dt;
  const auto N = static_cast<size_t>(std::clamp(std::ceil(40.0 / dt), 64.0, 40000.0));
  std::vector<double> Q(N + 1, sb2 + 0.5 * g2), C(N + 1), full(2 * N + 1), forward(2 * N + 1), backward(2 * N + 1);
  Q[0] = g2 + su2 + sb2;
  EulerSolution out;
  const double gain = dt * dt / (1.0 - keep * keep);
  std::vector<double> step(N + 1);
  double last_change = 0, last_ratio = 0;
  for (out.iterations = 1; out.iterations <= 20000; ++out.iterations) {
    const double q0 = Q[0];
    if (q0 <= 0) break;
    const HermiteSeries table(tanh_f, q0);
    for (size_t k = 0; k <= N; ++k) C[k] = table(Q[k] / q0);
    const double c_inf = C[N];
    for (size_t i = 0; i < full.size(); ++i) full[i] = C[i >= N ? i - N : N - i] - c_inf;
    for (size_t i = 0; i < full.size(); ++i) forward[i] = full[i] + (i > 0 ? keep * forward[i - 1] : 0.0);
    for (size_t i = full.size(); i-- > 0;)
      backward[i] = full[i] + (i + 1 < full.size() ? keep * backward[i + 1] : 0.0);
    double change = 0;
    for (size_t k = 0; k <= N; ++k) {
      const double d = c_inf + gain * (forward[N + k] + backward[N + k] - full[N + k]);
      const double next = g2 * d + sb2 + (k == 0 ? su2 : 0.0);
      step[k] = next - Q[k];
      change = std::max(change, std::abs(step[k]));
      Q[k] = next;
    }
    if (change <= 1e-11 * Q[0]) {
      out.converged = true;
      break;
    }
    // Near the edge the iteration slows down along one mode, its change shrinking by a steady ratio r per
    // iteration: once r has held to 1e-3 for two iterations, jump to the limit of that geometric series.
    const double ratio = change / last_change;
    if (ratio > 0 && ratio < 0.999 && std::abs(ratio - last_ratio) <= 1e-3 * ratio &&
        Q[0] + ratio / (1 - ratio) * step[0] > 0) {
      for (size_t k = 0; k <= N; ++k) Q[k] += ratio / (1 - ratio) * step[k];
      last_change = last_ratio = 0;
      continue;
    }
    last_ratio = ratio;
    last_change = change;
  }
  out.q0 = Q[0];
  out.q_inf = Q[N];
  if (!out.converged || !(out.q0 > 0)) return out;
  // The exponent: a perturbation's two-time correlation P(t, s) obeys (1 - keep B_t)(1 - keep B_s) P = dt^2
  // K(t - s) P(t - 1, s - 1), K(tau) = g^2 E[tanh'(a_t) tanh'(a_(t+tau))]; P = mu^((t+s)/2) psi(t - s) turns it
  // into the eigenproblem (mu + keep^2 - dt^2 K(tau)) psi(tau) = keep sqrt(mu) (psi(tau - 1) + psi(tau + 1)),
  // whose largest mu with a bounded psi >= 0 gives lambda = ln(mu) / 2: the largest mu at which the tridiagonal
  // matrix A(mu) = diag(dt^2 K - keep^2) + keep sqrt(mu) (shifts) has an eigenvalue of at least mu.
  const HermiteSeries slope(tanh_d, out.q0);
  std::vector<double> diagonal(2 * N + 1);
  double k_max = 0;
  for (size_t i = 0; i < diagonal.size(); ++i) {
    const double K = g2 * slope(Q[i >= N ? i - N : N - i] / out.q0);
    k_max = std::max(k_max, K);
    diagonal[i] = dt * dt * K - keep * keep;
  }
  // Beyond lag N, K is constant and psi(tau) = r^|tau| with r <= 1 the decaying root of the free equation
  // r + 1/r = (mu - A_NN) / (keep sqrt(mu)) (r = 1 where mu is in the continuum): the ends carry keep sqrt(mu) r,
  // which makes a truncated chain exact for a bound psi and for the flat one.
  const auto eigenvalue_above = [&](double mu) {  // Sturm count: eigenvalues of A(mu) below mu
    const double e = keep * std::sqrt(mu), e2 = e * e;
    double end = 0;
    if (e > 0) {
      const double b = std::max(2.0, (mu - diagonal.back()) / e);
      end = e * 0.5 * (b - std::sqrt(b * b - 4.0));
    }
    size_t below = 0;
    double pivot = 1;
    for (size_t i = 0; i < diagonal.size(); ++i) {
      const double ends = (i == 0 || i + 1 == diagonal.size()) ? end : 0.0;
      pivot = diagonal[i] + ends - mu - (i > 0 ? e2 / pivot : 0.0);
      if (pivot == 0) pivot = -1e-300;
      if (pivot < 0) ++below;
    }
    return below < diagonal.size();
  };
  double lo = keep * keep, hi = std::pow(keep + dt * std::sqrt(k_max), 2) * (1 + 1e-12) + 1e-300;
  if (!eigenvalue_above(lo)) hi = lo;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (eigenvalue_above(mid) ? lo : hi) = mid;
  }
  out.lambda = 0.5 * std::log(0.5 * (lo + hi));
  out.chi = g2 * gaussian_expectation(
                     [](double a) {
                       const double d = tanh_d(a);
                       return d * d;
                     },
                     out.q0);
  return out;
}

}  // namespace mean_field_detail

namespace {

// chi at recurrent scale g (g^2 = g2) for the activation and input share s^2.
double chi_at(const Activation2& act, double g2, double s2) {
  if (act.relu) return g2 / 2.0;
  return mean_field_detail::elman_point(act.f, act.fprime, g2, s2).chi;
}

// g_c: chi(g_c) = 1, by bracketed_root on g in [1e-6, 1e3] (chi grows with g); NaN if chi stays below 1.
double critical_g(const Activation2& act, double s2) {
  if (act.relu) return std::sqrt(2.0);
  double lo = 1e-6, hi = 1e3;
  if (chi_at(act, hi * hi, s2) < 1.0) return kNaN;
  return bracketed_root([&](double g) { return chi_at(act, g * g, s2) - 1.0; }, lo, hi, 1e-14);
}

// g_c of the CT-RNN with dt < 1, where the Euler solution's exponent crosses 0 (bracketed_root to 1e-6 in g);
// without input the state stays at the fixed point 0 and the edge is g = 1.
double euler_critical_g(double dt, double su2, double sb2) {
  if (su2 + sb2 == 0) return 1.0;
  const auto rate = [&](double g) { return mean_field_detail::euler_dynamic_mean_field(g * g, dt, su2, sb2).lambda; };
  double lo = 0.5, hi = 2.0;
  while (rate(lo) > 0 && lo > 1e-6) lo /= 2;
  while (rate(hi) < 0) {
    hi *= 2;
    if (hi > 1e3) return kNaN;
  }
  return bracketed_root(rate, lo, hi, 1e-6);
}


// s^2 of a cell under the critical (and scaled) initialisation: W_ih xavier, no bias variance.
double critical_input_variance(const ModelSpec& model, double input_scale) {
  const InitVariances v =
      init_variances(Init::critical, 1.0, model.cell, model.input_size, model.hidden_size, model.bias);
  return static_cast<double>(model.input_size) * v.input * input_scale * input_scale + v.bias;
}

}  // namespace

namespace {

double sigmoid_squared(double a) { return sigmoid_f(a) * sigmoid_f(a); }
double sigmoid_slope_squared(double a) { return sigmoid_d(a) * sigmoid_d(a); }
double tanh_squared(double a) { return tanh_f(a) * tanh_f(a); }
double tanh_slope_squared(double a) { return tanh_d(a) * tanh_d(a); }

// E[F(mean + a)], a ~ N(0, q).
double shifted(double (*F)(double), double mean, double q) {
  return mean_field_detail::gaussian_expectation([F, mean](double a) { return F(mean + a); }, q);
}

// The stationary second moment Q_h of a gated cell's state: the root of map(Q) - Q on [0, 1] (|h| <= 1), the
// root 0 where the map keeps 0 (no input or bias: a network started at 0 stays there).
template <class Map>
double gated_state(Map&& map) {
  const auto G = [&](double Q) { return map(Q) - Q; };
  if (G(0.0) <= 0) return 0.0;
  if (G(1.0) >= 0) return 1.0;
  return bracketed_root(G, 0.0, 1.0, 1e-14);
}

// The largest rho > drift with rho^2 = g2 (a^2 rho^2 / (rho - drift)^2 + b): the edge of the spectrum of the
// linearised step [[F, R1], [O F, O R1 + R2]] (LSTM; a^2 = E[O^2] Var-share of R1, b that of R2) or, with a = 0,
// of drift I + R (GRU: rho = drift + sqrt(g2 b)).
double gated_radius(double drift, double g2, double a2, double b) {
  if (a2 == 0) return drift + std::sqrt(g2 * b);
  const auto F = [&](double rho) {
    const double x = rho - drift;
    return rho * rho * x * x - g2 * (a2 * rho * rho + b * x * x);
  };
  double hi = drift + std::sqrt(g2 * (a2 + b)) + 1.0;
  while (F(hi) < 0) hi *= 2;
  return bracketed_root(F, drift + 1e-300, hi, 1e-15);
}

// The gated cells' theory (docs/theory.md): the stationary statistics from the mean-field fixed point, and the
// rate from the step Jacobian linearised there, gates at their stationary moments and W_hh quenched. Returns
// rho, the edge of that Jacobian's spectrum; q is the gates' pre-activation variance at the fixed point.
struct GatedPoint {
  double q = 0, rho = 0;
};

GatedPoint lstm_point(double g2, double su2, double sb2, double forget_bias) {
  using mean_field_detail::gaussian_expectation;
  const auto moments = [&](double Qh) {
    const double q = g2 * Qh + su2 + sb2;
    const double f2 = shifted(sigmoid_squared, forget_bias, q), i2 = gaussian_expectation(sigmoid_squared, q),
                 g2_gate = gaussian_expectation(tanh_squared, q);
    return std::array<double, 5>{q, f2, i2, g2_gate, i2 * g2_gate / (1.0 - f2)};  // ..., Q_c
  };
  // c_t = f c + i g (E[g] = 0): Q_c = E[i^2] E[g^2] / (1 - E[f^2]); h = o tanh(c): Q_h = E[o^2] E[tanh(c)^2].
  const double Qh =
      gated_state([&](double Q) { const auto m = moments(Q); return m[2] * gaussian_expectation(tanh_squared, m[4]); });
  // Named one by one: lambdas below capture them (clang 14 cannot capture structured bindings).
  const auto m = moments(Qh);
  const double q = m[0], i2 = m[2], gg2 = m[3], Qc = m[4];
  const double f = shifted(sigmoid_f, forget_bias, q);
  // dc' = F dc + (D_f W_f + D_i W_i + D_g W_g) dh, D_f = c sigma'(a_f), D_i = g sigma'(a_i), D_g = i tanh'(a_g);
  // dh' = O dc' + tanh(c') sigma'(a_o) W_o dh, O = o tanh'(c').
  const double omega2 = i2 * gaussian_expectation(tanh_slope_squared, Qc);
  const double d1 = Qc * shifted(sigmoid_slope_squared, forget_bias, q) +
                    gg2 * gaussian_expectation(sigmoid_slope_squared, q) +
                    i2 * gaussian_expectation(tanh_slope_squared, q);
  const double d2 = gaussian_expectation(tanh_squared, Qc) * gaussian_expectation(sigmoid_slope_squared, q);
  return {q, gated_radius(f, g2, omega2 * d1, d2)};
}

GatedPoint gru_point(double g2, double su2, double sb2) {
  using mean_field_detail::gaussian_expectation;
  // a_n = u + r m: u = W_in x + b_in (variance su2 + sb2/2), m = W_hn h + b_hn (g2 Q_h + sb2/2), r = sigmoid(a_r).
  const double sbn = 0.5 * sb2;
  const auto over_reset = [&](double q, const std::function<double(double)>& of_r) {
    return gaussian_expectation([&](double a) { return of_r(sigmoid_f(a)); }, q);
  };
  const auto moments = [&](double Qh) {
    const double q = g2 * Qh + su2 + sb2, qm = g2 * Qh + sbn, qu = su2 + sbn;
    const double n2 = over_reset(q, [&](double r) { return gaussian_expectation(tanh_squared, qu + r * r * qm, 1); });
    return std::array<double, 5>{q, qm, qu, n2, gaussian_expectation(sigmoid_squared, q)};
  };
  // h' = (1 - z) n + z h, E[n | h] = 0: Q_h = E[(1 - z)^2] E[n^2] / (1 - E[z^2]), E[(1 - z)^2] = E[z^2].
  const double Qh = gated_state([&](double Q) {
    const auto m = moments(Q);
    return m[4] * m[3] / (1.0 - m[4]);
  });
  const auto m = moments(Qh);  // named one by one, as in lstm_point
  const double q = m[0], qm = m[1], qu = m[2], n2 = m[3], z2 = m[4];
  const double zbar = gaussian_expectation(sigmoid_f, q);
  // dh' = Z dh + (h - n) sigma'(a_z) W_hz dh + (1 - z) tanh'(a_n) (r W_hn + m sigma'(a_r) W_hr) dh: drift Z and
  // a random part whose rows have variance g2 times `row`. For the last term, m given v = u + r m is Gaussian:
  // E[m^2 | v] = (r qm / s)^2 v^2 + qm qu / s, s = qu + r^2 qm.
  double row = (Qh + n2) * gaussian_expectation(sigmoid_slope_squared, q);
  row += z2 * over_reset(q, [&](double r) {
    return r * r * gaussian_expectation(tanh_slope_squared, qu + r * r * qm, 1);
  });
  row += z2 * gaussian_expectation(
                  [&](double a) {
                    const double r = sigmoid_f(a), s = qu + r * r * qm;
                    if (s <= 0) return 0.0;
                    const double beta = r * qm / s, rest = qm * qu / s;
                    const double d = sigmoid_d(a);
                    const auto weighted = [&](double v) {
                      return tanh_slope_squared(v) * (beta * beta * v * v + rest);
                    };
                    return d * d * gaussian_expectation(weighted, s, 1);
                  },
                  q);
  return {q, gated_radius(zbar, g2, 0.0, row)};
}

GatedPoint gated_point(CellKind cell, double g2, double su2, double sb2, double forget_bias) {
  return cell == CellKind::lstm ? lstm_point(g2, su2, sb2, forget_bias) : gru_point(g2, su2, sb2);
}

// g_c of a gated cell: rho(g) = 1 by bracketed_root to 1e-10, the upper end growing from 2.5 (the edge with the
// gates at 1/2 is g = 2) by half until rho passes 1, up to 20 (the quadrature's cost grows with g); NaN where rho
// stays on one side.
double gated_critical_g(CellKind cell, double su2, double sb2, double forget_bias) {
  const auto excess = [&](double g) { return gated_point(cell, g * g, su2, sb2, forget_bias).rho - 1.0; };
  double lo = 1e-3, hi = 2.5;
  if (excess(lo) > 0) return kNaN;
  while (excess(hi) < 0) {
    lo = hi;
    hi *= 1.5;
    if (hi > 20) return kNaN;
  }
  return bracketed_root(excess, lo, hi, 1e-10);
}
// g_c for the cell under the critical initialisation (inputs s2, no bias variance): the Elman chi = 1, the
// Euler solution's edge, or the gated cells' rho = 1.
double critical_g_of(const ModelSpec& model, double s2, double forget_bias) {
  if (model.cell == CellKind::lstm || model.cell == CellKind::gru)
    return gated_critical_g(model.cell, s2, 0.0, forget_bias);
  if (model.cell == CellKind::ctrnn && model.dt != 1.0) return euler_critical_g(model.dt, s2, 0.0);
  return critical_g(activation_of(model.cell), s2);
}

}  // namespace

double critical_scale(const ModelSpec& model, double input_scale, double forget_bias) {
  if (const std::string why = uncovered(model.cell); !why.empty())
    throw InvalidInput(fmt::format("--init critical needs the mean-field theory of the cell, and {}", why));
  const double g = critical_g_of(model, critical_input_variance(model, input_scale), forget_bias);
  require(std::isfinite(g), fmt::format("--init critical: the {} cell has no recurrent scale up to 1000 at which "
                                        "chi = 1 for these inputs",
                                        to_string(model.cell)));
  return g;
}

double resolve_scale(Init init, double scale, const ModelSpec& model, double input_scale, double forget_bias) {
  return init == Init::critical ? critical_scale(model, input_scale, forget_bias) : scale;
}

InitVariances init_variances(Init init, double scale, CellKind cell, Index input_size, Index hidden_size, bool bias) {
  const auto H = static_cast<double>(hidden_size), I = static_cast<double>(input_size);
  const auto G = static_cast<double>(gates_of(cell)) * H;
  InitVariances v;
  const double xavier_input = 2.0 / (G + I);
  switch (init) {
    case Init::pytorch:
      v.recurrent = 1.0 / 3.0;
      v.input = 1.0 / (3.0 * H);
      v.bias = bias ? 2.0 / (3.0 * H) : 0.0;
      v.rule = "every tensor U(-1/sqrt(H), 1/sqrt(H)), variance 1/(3H): g = 1/sqrt(3), biases 2/(3H)";
      break;
    case Init::xavier:
      v.recurrent = 1.0;
      v.input = xavier_input;
      v.rule = "U(-a, a), a^2 = 6/(fan_in + fan_out): W_hh blocks variance 1/H (g = 1), W_ih 2/(G + I), biases 0";
      break;
    case Init::scaled:
    case Init::critical:
      v.recurrent = scale * scale;
      v.input = xavier_input;
      v.rule = fmt::format("W_hh N(0, g^2/H) with g = {:g}; W_ih xavier, 2/(G + I); biases 0", scale);
      break;
    case Init::orthogonal:
      v.recurrent = scale * scale;
      v.input = xavier_input;
      v.rule = fmt::format(
          "W_hh blocks {:g} Q, Q Haar-orthogonal (entries of variance g^2/H, g = {:g}, and ||W v|| = g ||v||); W_ih "
          "xavier; biases 0",
          scale, scale);
      break;
    case Init::identity:
      v.random = false;
      v.recurrent = scale * scale;
      v.input = xavier_input;
      v.rule = fmt::format("W_hh blocks {:g} I: not random", scale);
      break;
  }
  return v;
}

namespace {
// The look-back slope and xi from lambda.
void set_time_scales(MeanField& m) {
  m.slope_log10 = m.lambda / std::log(10.0);
  // At the edge the time scale diverges: inf rather than the reciprocal of a rounding error.
  m.xi = std::abs(m.lambda) < 1e-12 ? std::numeric_limits<double>::infinity() : 1.0 / (2.0 * std::abs(m.lambda));
}
}  // namespace

MeanField mean_field(const MeanFieldSpec& spec) {
  if (!has_mean_field(spec.model.cell)) return mean_field(spec.model, InitVariances{}, spec.input_scale);
  const double scale =
      spec.init == Init::critical
          ? critical_g_of(spec.model, critical_input_variance(spec.model, spec.input_scale), spec.forget_bias)
          : spec.scale;
  const ModelSpec& model = spec.model;
  const InitVariances v = init_variances(spec.init, scale, model.cell, model.input_size, model.hidden_size, model.bias);
  return mean_field(model, v, spec.input_scale, spec.forget_bias, spec.with_critical);
}

EmpiricalBlocks empirical_variances(CellKind cell, const Mat<double>& weight_ih, const Mat<double>& weight_hh,
                                    const Vec<double>& bias_ih, const Vec<double>& bias_hh) {
  EmpiricalBlocks e;
  const auto H = static_cast<double>(weight_hh.cols());
  e.variances.recurrent =
      weight_hh.size() > 0 ? H * weight_hh.squaredNorm() / static_cast<double>(weight_hh.size()) : 0;
  e.variances.input = weight_ih.size() > 0 ? weight_ih.squaredNorm() / static_cast<double>(weight_ih.size()) : 0;
  if (bias_ih.size() > 0) {
    Vec<double> b = bias_ih + bias_hh;
    if (cell == CellKind::lstm) {  // gates i, f, g, o: the forget block about its mean
      const Index h = weight_hh.cols();
      e.forget_bias = b.segment(h, h).mean();
      b.segment(h, h).array() -= e.forget_bias;
    }
    e.variances.bias = b.squaredNorm() / static_cast<double>(b.size());
  }
  e.variances.rule = "empirical: the model's own blocks (H mean(W_hh^2), mean(W_ih^2), mean((b_ih + b_hh)^2))";
  return e;
}

MeanField mean_field(const ModelSpec& model, const InitVariances& v, double input_scale, double forget_bias,
                     bool with_critical) {
  MeanField m;
  m.lambda = m.slope_log10 = m.xi = m.chi = m.q_star = m.g_critical = kNaN;
  if (const std::string why = uncovered(model.cell); !why.empty()) {
    m.reason = why;
    m.phase = Phase::unknown;
    return m;
  }
  const Activation2 act = activation_of(model.cell);
  m.g = std::sqrt(v.recurrent);
  m.input_variance = static_cast<double>(model.input_size) * v.input * input_scale * input_scale + v.bias;
  // Weights near 1e160 and above have variances a double cannot hold: no prediction, rather than a refusal of
  // the measurement that the weights still allow.
  if (!std::isfinite(v.recurrent) || !std::isfinite(m.input_variance)) {
    m.reason = fmt::format("the variances overflow a double (g^2 = {}, input variance {}): no mean-field prediction",
                           number_text(v.recurrent), number_text(m.input_variance));
    m.phase = Phase::unknown;
    return m;
  }
  if (!v.random) {
    m.reason =
        "W_hh = scale I is not random: every unit is its own one-dimensional map and the largest exponent is that "
        "of the slowest unit, not a mean-field average";
    return m;
  }
  const double g2 = v.recurrent, s2 = m.input_variance;
  if (model.cell == CellKind::lstm || model.cell == CellKind::gru) {
    const double su2 = s2 - v.bias;
    const GatedPoint p = gated_point(model.cell, g2, su2, v.bias, forget_bias);
    m.q_star = p.q;
    m.chi = p.rho * p.rho;
    m.phase = phase_of(std::log(m.chi));
    m.available = true;
    if (with_critical) m.g_critical = gated_critical_g(model.cell, su2, v.bias, forget_bias);
    if (m.phase == Phase::chaotic) {
      m.regime = "linearised at the stationary state: past the edge (rho > 1) the gates move and the linearisation "
                 "no longer gives the exponent (not computed)";
    } else {
      m.regime = "linearised at the stationary state: ln rho, rho the edge of the step Jacobian's spectrum";
      m.lambda = std::log(p.rho);
    }
    set_time_scales(m);
  return m;
  }
  if (act.relu) {
    // E[relu'(a)^2] = 1/2 for any q > 0, and E[relu(a)^2] = q/2: q* = s^2 / (1 - g^2/2), finite below g^2 = 2.
    m.chi = g2 / 2.0;
    m.q_star = g2 < 2.0 ? s2 / (1.0 - g2 / 2.0) : kInf;
    m.g_critical = std::sqrt(2.0);
  } else {
    const auto p = mean_field_detail::elman_point(act.f, act.fprime, g2, s2);
    m.q_star = p.q_star;
    m.chi = p.chi;
    if (with_critical) m.g_critical = critical_g(act, s2);
  }
  const double log_chi = std::log(m.chi);
  m.phase = phase_of(log_chi);
  m.available = true;
  if (model.cell == CellKind::ctrnn && model.dt != 1.0 && m.q_star == 0) {
    // Without input the state stays at the fixed point 0 (q* = 0) on both sides of the edge, where the step
    // Jacobian (1 - dt) I + dt W_hh is constant and diag(f') W_hh = W_hh has its eigenvalues in a disk of radius g.
    m.regime = "fixed point 0 (no input): ln(1 - dt + dt g)";
    m.lambda = std::log(1.0 - model.dt + model.dt * m.g);
    m.phase = phase_of(2.0 * m.lambda / model.dt);
  } else if (model.cell == CellKind::ctrnn && model.dt != 1.0) {
    const double su2 = static_cast<double>(model.input_size) * v.input * input_scale * input_scale;
    const auto e = mean_field_detail::euler_dynamic_mean_field(g2, model.dt, su2, v.bias);
    m.q_star = e.q0;
    m.chi = e.chi;
    m.lambda = e.lambda;
    m.regime = e.converged ? "dynamic mean field of the Euler steps (two-time equations)"
                           : "dynamic mean field of the Euler steps: not converged in 20000 iterations";
    // The phase by the rate per unit of time, 2 lambda / dt, in the band of the discrete cells' ln chi.
    m.phase = phase_of(2.0 * m.lambda / model.dt);
    if (with_critical) m.g_critical = euler_critical_g(model.dt, su2, v.bias);
  } else {
    m.regime = "discrete time: ln(chi) / 2";
    m.lambda = 0.5 * log_chi;
  }
  set_time_scales(m);
  return m;
}

}  // namespace rnnscope
