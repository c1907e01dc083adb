#include "sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "json_util.hpp"
#include "rnnscope/activations/activation.hpp"
#include "rnnscope/diagnostics/activation_study.hpp"

namespace rnnscope::cli {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// 10^v for plotting on a log axis; a floored (exactly zero) value becomes NaN, which is not drawn.
std::vector<double> unlog(const std::vector<double>& log10_values) {
  std::vector<double> y;
  for (const double v : log10_values) y.push_back(v > -300 ? std::pow(10.0, v) : kNaN);
  return y;
}

template <class T>
std::vector<double> as_doubles(const std::vector<T>& v) {
  return {v.begin(), v.end()};
}

/// File-name form of a label: "CT-RNN dt 0.1" -> "ct-rnn_dt_0.1".
std::string slug(const std::string& label) {
  std::string s;
  for (const char c : label) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!s.empty() && s.back() != '_')
      s += '_';
  }
  return s;
}

/// A log10 value for the screen: "zero" for an exact zero (floored at -324), "-" when missing.
std::string fixed(double v, int digits = 3) {
  if (std::isfinite(v) && v <= -300) return "zero";
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-";
}

Series line(std::string label, std::vector<double> x, std::vector<double> y,
            Series::Style style = Series::Style::lines) {
  Series s;
  s.label = std::move(label);
  s.x = std::move(x);
  s.y = std::move(y);
  s.style = style;
  return s;
}

nlohmann::json json_array(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const double x : v) a.push_back(json_number(x));
  return a;
}

nlohmann::json spec_json(const LookbackSpec& s) {
  return {{"cell", std::string(to_string(s.model.cell))},
          {"hidden", s.model.hidden_size},
          {"input_size", s.model.input_size},
          {"dt", s.model.dt},
          {"T", s.steps},
          {"init", std::string(to_string(s.init))},
          {"scale", s.scale},
          {"forget_bias", s.forget_bias},
          {"seeds", s.seeds},
          {"batch", s.batch},
          {"seed", s.seed}};
}

/// Rows at most `shown`, evenly spaced, always the first and the last.
std::vector<size_t> screen_rows(size_t n, size_t shown) {
  shown = std::min(n, shown);
  std::vector<size_t> rows;
  for (size_t k = 0; k < shown; ++k) rows.push_back(shown == n ? k : k * (n - 1) / (shown - 1));
  return rows;
}

/// Figure text without underscore markup: "W_hh" becomes "Wₕₕ".
std::string plain(std::string text) {
  for (size_t at = text.find("W_hh"); at != std::string::npos; at = text.find("W_hh", at))
    text.replace(at, 4, "Wₕₕ");
  return text;
}

/// Writes the figure and lists it, with its caption, in the section.
void add_figure(OutputFolder& out, Section& sec, const Figure& f) {
  out.figure(f);
  sec.html.figures.push_back(f.name);
  if (!f.caption.empty()) sec.html.captions[f.name] = plain(f.caption);
}

/// "10⁻⁹": a power of ten with a Unicode superscript exponent (figure text is drawn literally).
std::string power_of_ten(int k) {
  static const char* const digits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string e = std::to_string(k < 0 ? -k : k), out = k < 0 ? "10⁻" : "10";
  for (const char c : e) out += digits[c - '0'];
  return out;
}

/// "≈ 10⁵⁴" for a log10 value of 53.8 (legend text).
std::string about(double log10_value) { return "≈ " + power_of_ten(static_cast<int>(std::lround(log10_value))); }

bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

/// A series whose points equal an earlier one's would be hidden under it (the
/// CT-RNN with dt 1 is the Elman tanh cell, same seed, same numbers): it is
/// drawn as sparse open circles over the earlier curve, and its legend entry says so.
void show_coincident(Figure& f) {
  for (size_t j = 1; j < f.series.size(); ++j)
    for (size_t i = 0; i < j; ++i) {
      const Series &a = f.series[i];
      Series& b = f.series[j];
      if (a.key_only || b.key_only || a.label.empty() || !same_values(a.x, b.x) || !same_values(a.y, b.y)) continue;
      b.style = Series::Style::points;
      b.point = 6;
      b.markers = 14;
      b.y_low.clear();
      b.y_high.clear();
      b.band_label.clear();
      b.label += " = " + a.label + " (circles)";
      break;
    }
}

/// Positive finite values of the given curves: their smallest and largest, as log10.
std::pair<double, double> log10_span(const std::vector<const std::vector<double>*>& curves) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* c : curves)
    for (const double v : *c)
      if (std::isfinite(v) && v > 0) {
        lo = std::min(lo, std::log10(v));
        hi = std::max(hi, std::log10(v));
      }
  return {lo, hi};
}

/// Fixes a log y range around the given curves with a margin of 5 % of their
/// decades (at least 0.1, at most 1 decade) either side; other curves (bounds)
/// are clipped to it. Returns false, leaving the figure alone, if no value is drawable.
bool fit_log_y(Figure& f, const std::vector<const std::vector<double>*>& curves) {
  const auto [lo, hi] = log10_span(curves);
  if (!(lo <= hi)) return false;
  const double margin = std::clamp(0.05 * (hi - lo), 0.1, 1.0);
  f.ymin = std::pow(10.0, lo - margin);
  f.ymax = std::pow(10.0, hi + margin);
  return true;
}

/// The legend entry of a bound drawn in a clipped range: where it leaves the plot and what it reaches.
std::string bound_note(const std::vector<double>& L, const std::vector<double>& bound, double ymax) {
  for (size_t i = 0; i < bound.size(); ++i)
    if (bound[i] > ymax)
      return fmt::format(", above the plot from L = {:g} on ({} at L = {:g})", L[i], about(std::log10(bound.back())),
                         L.back());
  return "";
}

}  // namespace

std::string cell_label(const ModelSpec& m) {
  switch (m.cell) {
    case CellKind::rnn_tanh: return "Elman tanh";
    case CellKind::rnn_relu: return "Elman relu";
    case CellKind::rnn_sigmoid: return "Elman sigmoid";
    case CellKind::lstm: return "LSTM";
    case CellKind::gru: return "GRU";
    case CellKind::ctrnn: return fmt::format("CT-RNN dt {}", m.dt);
  }
  return "?";
}

// ---- activations ----

Section activations_section(OutputFolder& out, Progress& progress, double eps, int steps, int order) {
  progress.begin("activations: sigmoid' against tanh'", 1);
  const ActivationStudy s = activation_study(eps, steps, order);
  CsvTable rho{{"T", "rho_exact_pow_T", "rho_approx_pow_T", "rho_first_order_pow_T"}, {}};
  for (size_t i = 0; i < s.steps.size(); ++i)
    rho.add_row({std::to_string(s.steps[i]), format_number(s.rho_pow[i]), format_number(s.rho_approx_pow[i]),
                 format_number(s.rho_first_pow[i])});
  out.table("activations.csv", rho);

  // The library's derivatives and Maclaurin polynomials, sampled on [-4, 4] for the figure.
  const auto ps = derivative_maclaurin(Activation::sigmoid, order);
  const auto pt = derivative_maclaurin(Activation::tanh, order);
  CsvTable curves{{"x", "sigmoid_prime", "tanh_prime", "sigmoid_prime_approx", "tanh_prime_approx"}, {}};
  std::vector<double> x, sp, tp, spa, tpa;
  for (int i = -200; i <= 200; ++i) {
    x.push_back(i / 50.0);
    sp.push_back(derivative(Activation::sigmoid, x.back()));
    tp.push_back(derivative(Activation::tanh, x.back()));
    spa.push_back(evaluate_polynomial(ps, x.back()));
    tpa.push_back(evaluate_polynomial(pt, x.back()));
    curves.add_row({format_number(x.back()), format_number(sp.back()), format_number(tp.back()),
                    format_number(spa.back()), format_number(tpa.back())});
  }
  out.table("activation_curves.csv", curves);

  nlohmann::json intervals = nlohmann::json::array();
  for (const auto& iv : s.all_intervals) intervals.push_back({json_number(iv.lo), json_number(iv.hi)});
  const nlohmann::json summary = {
      {"eps", s.eps},
      {"order", s.order},
      {"sigmoid_prime", s.sigmoid_prime},
      {"tanh_prime", s.tanh_prime},
      {"sigmoid_prime_approx", json_number(s.sigmoid_prime_approx)},
      {"tanh_prime_approx", json_number(s.tanh_prime_approx)},
      {"rho", s.rho},
      {"rho_approx", json_number(s.rho_approx)},
      {"sigmoid_prime_first_order", s.sigmoid_prime_first},
      {"tanh_prime_first_order", s.tanh_prime_first},
      {"rho_first_order", s.rho_first},
      {"rho_pow_T", json_number(s.rho_pow.back())},
      {"rho_approx_pow_T", json_number(s.rho_approx_pow.back())},
      {"interval_approx", {json_number(s.interval_approx.lo), json_number(s.interval_approx.hi)}},
      {"intervals_approx", intervals},
      {"interval_exact", {s.interval_exact.lo, s.interval_exact.hi}},
      {"interval_exact_closed_form", exact_derivative_crossing_closed_form()}};
  out.json("activations.json", summary);

  Section sec;
  Figure d;
  d.name = "activation_derivatives";
  d.title = fmt::format("sigmoid′ and tanh′ with their order-{} Maclaurin approximations", order);
  d.xlabel = "pre-activation x (dimensionless)";
  d.ylabel = "derivative f′(x) (dimensionless)";
  d.caption = fmt::format(
      "The exact derivatives sigmoid′(x) and tanh′(x) (solid) and their order-{} Maclaurin polynomials (dashed, "
      "same colour), with the point x = ε = {} at which the ratio ρ(ε) = sigmoid′(ε)/tanh′(ε) is taken.",
      order, eps);
  // Each approximation in the colour of its exact curve, dashed.
  Series tanh_exact = line("tanh′(x), exact", x, tp), sigmoid_exact = line("sigmoid′(x), exact", x, sp);
  tanh_exact.colour = 0;
  sigmoid_exact.colour = 1;
  tanh_exact.dash = sigmoid_exact.dash = 1;
  // Polynomials leave the plotted range quickly; clip them to it so the exact curves stay readable.
  auto clip = [](std::vector<double> v) {
    for (auto& y : v)
      if (y < -0.25 || y > 1.25) y = kNaN;
    return v;
  };
  Series tanh_approx = line(fmt::format("tanh′(x), order {}", order), x, clip(tpa), Series::Style::dashed);
  Series sigmoid_approx = line(fmt::format("sigmoid′(x), order {}", order), x, clip(spa), Series::Style::dashed);
  tanh_approx.colour = 0;
  sigmoid_approx.colour = 1;
  tanh_approx.dash = sigmoid_approx.dash = 2;
  // x = eps: a grey dotted vertical line across the plotted range of f'.
  Series at_eps = line(fmt::format("x = ε = {}", eps), {eps, eps}, {-0.05, 1.1});
  at_eps.colour = Series::grey;
  at_eps.dash = 3;
  d.series = {tanh_exact, tanh_approx, sigmoid_exact, sigmoid_approx, at_eps};
  d.ymin = -0.05;
  d.ymax = 1.1;
  d.key_rows = 2;
  add_figure(out, sec, d);

  Figure r;
  r.name = "activation_rho_power";
  r.title = fmt::format("ρ(ε)ᵀ = (sigmoid′(ε) / tanh′(ε))ᵀ at ε = {}", eps);
  r.xlabel = "number of steps T";
  r.ylabel = "ρ(ε)ᵀ (dimensionless)";
  r.logy = true;
  r.caption = fmt::format(
      "How much less a chain of T sigmoid steps passes back than a chain of T tanh steps at ε = {}: ρ(ε)ᵀ exactly "
      "and from the order-{} approximation.",
      eps, order);
  // The two nearly coincide: the exact values as a line, the approximation as open circles on it.
  r.series.push_back(line("exact", as_doubles(s.steps), s.rho_pow));
  r.series.push_back(line(fmt::format("order-{} approximation (circles)", order), as_doubles(s.steps),
                          s.rho_approx_pow, Series::Style::points));
  r.series.back().point = 6;
  add_figure(out, sec, r);
  progress.end();

  sec.html.id = "activations";
  sec.html.title = "Activations: sigmoid' against tanh'";
  sec.html.reading = fmt::format(
      "At eps = {} one sigmoid step passes rho = {:.6f} of what a tanh step passes (order-{} approximation {:.6f}); "
      "after T = {} steps the ratio is {:.3e} exactly against {:.3e} approximated. sigmoid' <= tanh' exactly for "
      "|eps| <= {:.4f}.",
      eps, s.rho, order, s.rho_approx, s.steps.back(), s.rho_pow.back(), s.rho_approx_pow.back(),
      s.interval_exact.hi);
  sec.html.tables = {"activations.csv", "activation_curves.csv", "activations.json"};
  sec.summary = summary;
  std::string& o = sec.screen;
  o += fmt::format("activation study at eps = {}, Maclaurin order {}\n\n", eps, order);
  // The first-order column (1/4 and 1, the textbook approximation) beside order n when n != 1.
  const bool first = order != 1;
  auto row = [&](const char* name, double exact, double approx, double first_order) {
    o += fmt::format("{:<16}{:>16.6g}{:>16.6g}", name, exact, approx);
    o += first ? fmt::format("{:>16.6g}\n", first_order) : std::string("\n");
  };
  o += fmt::format("{:<16}{:>16}{:>16}", "", "exact", fmt::format("order {}", order));
  o += first ? fmt::format("{:>16}\n", "order 1") : std::string("\n");
  row("sigmoid'(eps)", s.sigmoid_prime, s.sigmoid_prime_approx, s.sigmoid_prime_first);
  row("tanh'(eps)", s.tanh_prime, s.tanh_prime_approx, s.tanh_prime_first);
  row("rho(eps)", s.rho, s.rho_approx, s.rho_first);
  o += "\n";
  auto interval_text = [](const Interval& iv) {
    return iv.unbounded() ? std::string("every eps") : fmt::format("|eps| <= {:.10g}", iv.hi);
  };
  o += fmt::format("sigmoid' <= tanh' for {} exactly, for {} at order {}\n\n", interval_text(s.interval_exact),
                   interval_text(s.interval_approx), order);
  o += fmt::format("{:>5}{:>16}{:>16}{:>14}", "T", "rho^T exact", fmt::format("rho^T order {}", order), "ratio");
  o += first ? fmt::format("{:>16}\n", "rho^T order 1") : std::string("\n");
  for (const size_t i : screen_rows(s.steps.size(), 20)) {
    o += fmt::format("{:>5}{:>16.6e}{:>16.6e}{:>14.6g}", s.steps[i], s.rho_pow[i], s.rho_approx_pow[i],
                     s.rho_pow[i] / s.rho_approx_pow[i]);
    o += first ? fmt::format("{:>16.6e}\n", s.rho_first_pow[i]) : std::string("\n");
  }
  return sec;
}

// ---- look-back ----

Section lookback_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs) {
  progress.begin("look-back window", static_cast<int>(specs.size()));
  CsvTable t{{"model", "L", "mean_log10_ratio", "std_log10_ratio", "min_log10_ratio", "max_log10_ratio",
              "bound_log10"},
             {}};
  Figure all;
  all.name = "lookback";
  all.title = "Gradient reaching the state L steps back (mean over seeds and sequences)";
  all.xlabel = "look-back distance L (steps)";
  all.ylabel = "‖∂L/∂s(T−L)‖ / ‖∂L/∂s(T)‖ (dimensionless)";
  all.logy = true;
  Section sec;
  sec.html.id = "lookback";
  sec.html.title = "The look-back window";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("look-back study: log10 ||dL/dh_(T-L)|| / ||dL/dh_T||, mean over seeds x sequences\n\n");
  sec.screen += fmt::format("{:<16}{:>6}{:>14}{:>10}{:>14}{:>14}\n", "model", "L", "mean log10", "std",
                            "bound log10", "Lyapunov max");
  std::string reading;
  std::vector<Series> bounds;  // drawn after every measured curve
  std::string last_bound;      // the formula of the last bound, for a legend with one
  std::vector<std::vector<double>> measured;
  std::vector<std::string> per_cell;
  for (const auto& [label, spec] : specs) {
    const LookbackResult r = lookback_study(spec);
    const auto L = as_doubles(r.distance);
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.mean_log10[i]), format_number(r.std_log10[i]),
                 format_number(r.min_log10[i]), format_number(r.max_log10[i]),
                 r.bound_log10.empty() ? "" : format_number(r.bound_log10[i])});
    // Measured: solid with markers; bounds: dashed in the same colour, no markers.
    const int colour = static_cast<int>(all.series.size() % 7);
    Series mean = line(label, L, unlog(r.mean_log10), Series::Style::linespoints);
    mean.colour = colour;
    mean.dash = 1;
    mean.markers = 10;
    all.series.push_back(mean);
    measured.push_back(all.series.back().y);
    const std::string bound_name = spec.model.cell == CellKind::ctrnn ? "(|1 − dt| + dt ‖Wₕₕ‖₂)ᴸ" : "(γ ‖Wₕₕ‖₂)ᴸ";
    if (!r.bound_log10.empty()) {
      last_bound = bound_name;
      Series b = line("", L, unlog(r.bound_log10), Series::Style::dashed);
      b.colour = colour;
      b.dash = 2;
      bounds.push_back(b);
    }

    Figure one;
    one.name = "lookback_" + slug(label);
    one.title = fmt::format("Look-back window: {} ({} initialisation, H = {}, T = {})", label, to_string(spec.init),
                            spec.model.hidden_size, spec.steps);
    one.xlabel = all.xlabel;
    one.ylabel = all.ylabel;
    one.logy = true;
    Series m = line("measured, mean over seeds and sequences", L, unlog(r.mean_log10));
    m.y_low = unlog(r.min_log10);
    m.y_high = unlog(r.max_log10);
    m.band_label = "measured, range over seeds and sequences";
    // The range follows the measurement; a bound far above it leaves the plot, and its legend entry says where.
    fit_log_y(one, {&m.y_low, &m.y_high, &m.y});
    one.series.push_back(std::move(m));
    if (!r.bound_log10.empty()) {
      const auto b = unlog(r.bound_log10);
      one.series.push_back(line("bound " + bound_name + bound_note(L, b, one.ymax), L, b, Series::Style::dashed));
      one.series.back().dash = 2;
    }
    one.caption = fmt::format(
        "The share of the final gradient that reaches the state L steps back in the {} network, mean (line) and "
        "range (band) over seeds and sequences{}.",
        label,
        r.bound_log10.empty() ? std::string(" (the gated cell has no closed-form bound)")
                              : fmt::format(", with the bound {} (dashed)", bound_name));
    per_cell.push_back(one.name);
    out.figure(one);
    sec.html.captions[one.name] = plain(one.caption);

    double lyap = 0;
    for (const double v : r.lyapunov_top) lyap += v / static_cast<double>(r.lyapunov_top.size());
    const double at_t = r.mean_log10.back();
    const double bound_t = r.bound_log10.empty() ? kNaN : r.bound_log10.back();
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"mean_log10_ratio_at_T", json_number(at_t)},
                          {"std_log10_ratio_at_T", json_number(r.std_log10.back())},
                          {"bound_log10_at_T", json_number(bound_t)},
                          {"mean_log10_ratio", json_array(r.mean_log10)},
                          {"bound_log10", json_array(r.bound_log10)},
                          {"lyapunov_top_mean", json_number(lyap)}};
    // One model: the curve at up to 12 distances; several: each at L = T.
    for (const size_t i : specs.size() == 1 ? screen_rows(r.distance.size(), 12) : std::vector<size_t>{r.distance.size() - 1})
      sec.screen += fmt::format("{:<16}{:>6}{:>14}{:>10}{:>14}{:>14}\n", label, r.distance[i], fixed(r.mean_log10[i]),
                                fixed(r.std_log10[i]), r.bound_log10.empty() ? "-" : fixed(r.bound_log10[i]),
                                i + 1 == r.distance.size() ? fixed(lyap, 4) : "");
    reading += fmt::format("{}{} {}", reading.empty() ? "" : ", ", label,
                           at_t > -300 ? fmt::format("1e{:.1f}", at_t) : std::string("exactly 0"));
    progress.advance();
  }
  show_coincident(all);
  all.key_rows = static_cast<int>((all.series.size() + (bounds.empty() ? 0 : 1) + 1) / 2);
  if (!bounds.empty()) {
    // The bounds of every cell that has one; the range follows the measured curves, so a bound above 1 leaves the plot.
    std::vector<const std::vector<double>*> curves;
    for (const auto& c : measured) curves.push_back(&c);
    fit_log_y(all, curves);
    all.series.insert(all.series.end(), bounds.begin(), bounds.end());
    Series key;
    key.label = bounds.size() == 1 ? "dashed: bound " + last_bound : "dashed: bounds, in the cell's colour";
    key.key_only = true;
    key.colour = Series::grey;
    key.dash = 2;
    all.series.push_back(key);
  }
  all.caption =
      "The share of the final gradient that reaches the state L steps back, for every cell (mean over seeds and "
      "sequences), with the closed-form bounds of the Elman cells, (γ ‖Wₕₕ‖₂)ᴸ, and the CT-RNN, "
      "(|1 − dt| + dt ‖Wₕₕ‖₂)ᴸ, dashed.";
  out.figure(all);
  sec.html.figures.push_back(all.name);
  sec.html.captions[all.name] = plain(all.caption);
  sec.html.figures.insert(sec.html.figures.end(), per_cell.begin(), per_cell.end());
  out.table("lookback.csv", t);
  out.json("lookback.json", sec.summary);
  progress.end();
  const Index T = specs.front().spec.steps;
  bool tanh = false, ct1 = false;
  for (const auto& [label, spec] : specs) {
    tanh = tanh || spec.model.cell == CellKind::rnn_tanh;
    ct1 = ct1 || (spec.model.cell == CellKind::ctrnn && spec.model.dt == 1.0);
  }
  const std::string coincide = tanh && ct1 ? " The CT-RNN with dt 1 is exactly the Elman tanh cell, so with the "
                                             "same seed their curves coincide; it is drawn as open circles over "
                                             "the Elman tanh curve."
                                           : "";
  sec.html.reading = fmt::format(
      "The share of the final gradient that survives L steps back, measured exactly through the cells' step "
      "Jacobians (mean over seeds; in the per-cell figures the band is the range). After L = {} steps: {}. Dashed: "
      "the bound where the cell has one, (γ ‖W_hh‖₂)^L for the Elman cells and (|1 − dt| + dt ‖W_hh‖₂)^L for the "
      "CT-RNN; a bound above 1 guarantees nothing, and the plots end a little above the measured values, so such a "
      "bound leaves them at the top.{}",
      T, reading, coincide);
  sec.html.tables = {"lookback.csv", "lookback.json"};
  return sec;
}

// ---- spectra ----

namespace {

/// Eigenvalue and power figures and tables of labelled matrices, files named stem_*.
void spectrum_files(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                    const std::string& what, Section& sec, const std::string& title_prefix = "") {
  CsvTable eig{{"matrix", "index", "real", "imag", "modulus"}, {}};
  CsvTable pow{{"matrix", "n", "log10_norm_power", "log10_norm_eigen", "relative_difference"}, {}};
  Figure plane;
  plane.name = stem + "_eigenvalues";
  plane.title = title_prefix + "Eigenvalues of " + plain(what) + " in the complex plane";
  plane.xlabel = "Re λ (dimensionless)";
  plane.ylabel = "Im λ (dimensionless)";
  plane.equal_aspect = true;
  plane.unit_circle = true;
  plane.caption = "The eigenvalues λ of " + what +
                  " with the unit circle: those outside are directions Wⁿ stretches, those inside directions it "
                  "shrinks; ρ is the spectral radius.";
  Figure powers;
  powers.name = stem + "_powers";
  powers.title = title_prefix + "‖Wⁿ‖₂ by repeated multiplication and by eigendecomposition";
  powers.xlabel = "power n";
  powers.ylabel = "‖Wⁿ‖₂ (dimensionless)";
  powers.logy = true;
  powers.caption = "The spectral norm of Wⁿ for " + what +
                   ", computed by repeated multiplication (lines) and as ‖Q Λⁿ Q⁻¹‖₂ from the eigendecomposition "
                   "(open circles, same colour); the two agree where Q is well conditioned.";
  // One colour per matrix: its power path a solid line, its eigendecomposition path sparse open circles.
  std::vector<Series> eigen_points;
  for (const auto& [label, b] : blocks) {
    std::vector<double> re, im;
    for (size_t i = 0; i < b.spectrum.eigenvalues.size(); ++i) {
      const auto e = b.spectrum.eigenvalues[i];
      re.push_back(e.real());
      im.push_back(e.imag());
      eig.add_row({label, std::to_string(i), format_number(e.real()), format_number(e.imag()),
                   format_number(std::abs(e))});
    }
    plane.series.push_back(line(fmt::format("{} (ρ = {:.3f})", label, b.spectrum.spectral_radius), re, im,
                                Series::Style::points));
    const auto& p = b.powers;
    const auto n = as_doubles(p.n);
    for (size_t i = 0; i < p.n.size(); ++i)
      pow.add_row({label, std::to_string(p.n[i]), format_number(p.log10_norm_power[i]),
                   p.log10_norm_eigen.empty() ? "" : format_number(p.log10_norm_eigen[i]),
                   p.relative_difference.empty() ? "" : format_number(p.relative_difference[i])});
    const int colour = static_cast<int>(powers.series.size() % 7);
    Series pw = line(fmt::format("{} (ρ = {:.3f}){}", label, b.spectrum.spectral_radius,
                                 p.log10_norm_eigen.empty() ? ", no eigendecomposition (not diagonalisable)" : ""),
                     n, unlog(p.log10_norm_power));
    pw.colour = colour;
    pw.dash = 1;
    powers.series.push_back(pw);
    if (!p.log10_norm_eigen.empty()) {
      Series e = line("", n, unlog(p.log10_norm_eigen), Series::Style::points);
      e.colour = colour;
      e.point = 6;
      e.markers = 20;
      eigen_points.push_back(e);
    }
    double worst = 0;
    for (const double d : p.relative_difference) worst = std::max(worst, d);
    nlohmann::json j = {{"spectral_radius", b.spectrum.spectral_radius},
                        {"norm_2", b.spectrum.singular_values.front()},
                        {"eigenvector_condition", json_number(b.spectrum.eigenvector_condition)},
                        {"diagonalisable", b.spectrum.diagonalisable},
                        {"note", b.spectrum.note + (p.note.empty() ? "" : " " + p.note)},
                        {"max_n", p.n.back()},
                        {"log10_norm_power_at_max_n", json_number(p.log10_norm_power.back())},
                        {"max_relative_difference_power_vs_eigen",
                         p.relative_difference.empty() ? nlohmann::json(nullptr) : json_number(worst)}};
    if (b.has_conditions)
      j["pascanu"] = {{"gamma", b.conditions.gamma},
                      {"threshold_1_over_gamma", b.conditions.threshold},
                      {"vanishing_guaranteed", b.conditions.vanishing_guaranteed},
                      {"exploding_possible", b.conditions.exploding_possible}};
    sec.summary[label] = j;
    sec.screen += fmt::format("{:<22}{:>10.4f}{:>10.4f}{:>12.3g}{:>16}{:>12}\n", label, b.spectrum.spectral_radius,
                              b.spectrum.singular_values.front(), b.spectrum.eigenvector_condition,
                              fixed(p.log10_norm_power.back()),
                              p.relative_difference.empty() ? std::string("withheld") : fmt::format("{:.1e}", worst));
  }
  // The matrices fill the legend's first column, the two styles its second.
  const size_t matrices = powers.series.size();
  powers.series.insert(powers.series.end(), eigen_points.begin(), eigen_points.end());
  Series by_power = line("lines: repeated product W·…·W", {}, {});
  by_power.key_only = true;
  by_power.colour = Series::grey;
  by_power.dash = 1;
  Series by_eigen = line("circles: Q Λⁿ Q⁻¹", {}, {}, Series::Style::points);
  by_eigen.key_only = true;
  by_eigen.colour = Series::grey;
  by_eigen.point = 6;
  powers.series.push_back(by_power);
  if (!eigen_points.empty()) powers.series.push_back(by_eigen);
  powers.key_rows = static_cast<int>(std::max<size_t>(matrices, 2));
  add_figure(out, sec, plane);
  add_figure(out, sec, powers);
  out.table(stem + "_eigenvalues.csv", eig);
  out.table(stem + "_powers.csv", pow);
  sec.html.tables.push_back(stem + "_eigenvalues.csv");
  sec.html.tables.push_back(stem + "_powers.csv");
}

std::string spectrum_screen_header(int max_n) {
  return fmt::format("{:<22}{:>10}{:>10}{:>12}{:>16}{:>12}\n", "matrix", "rho(W)", "||W||_2", "cond(Q)",
                     fmt::format("log10||W^{}||", max_n), "power/eigen");
}

}  // namespace

Section spectrum_section(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                         const std::string& what) {
  Section sec;
  sec.html.id = stem;
  sec.html.title = "Spectra of " + what;
  sec.summary = nlohmann::json::object();
  sec.screen = spectrum_screen_header(blocks.front().block.powers.n.back());
  spectrum_files(out, blocks, stem, what, sec);
  out.json(stem + ".json", sec.summary);
  sec.html.tables.push_back(stem + ".json");
  std::string radii;
  for (const auto& [label, b] : blocks)
    radii += fmt::format("{}{} {:.3f}", radii.empty() ? "" : ", ", label, b.spectrum.spectral_radius);
  sec.html.reading = fmt::format(
      "Eigenvalues outside the unit circle are directions W^n stretches, inside ones it shrinks (spectral radius: "
      "{}). ||W^n|| computed by repeated multiplication and by Q Lambda^n Q^-1 agree where Q is well conditioned; "
      "the table gives their relative difference.",
      radii);
  return sec;
}

// ---- LSTM paths ----

Section lstm_paths_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs) {
  progress.begin("LSTM cell path against hidden path", static_cast<int>(specs.size()));
  CsvTable t{{"model", "L", "cell_path_log10", "hidden_path_log10", "total_log10"}, {}};
  Figure f;
  f.name = "lstm_paths";
  f.title = "LSTM: gradient through the cell path c and through the hidden path h";
  f.xlabel = "distance L (steps)";
  f.ylabel = "gradient norm relative to L = 0 (dimensionless)";
  f.logy = true;
  f.caption =
      "The gradient carried back L steps through the LSTM's cell path alone (solid, the forget gates only) and "
      "through its hidden path alone (dashed, W_hh and the gate derivatives), one colour per forget bias.";
  f.key_rows = 2;
  Section sec;
  sec.html.id = "lstm";
  sec.html.title = "The LSTM's two gradient paths";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("{:<26}{:>6}{:>14}{:>14}{:>14}\n", "model", "L", "cell log10", "hidden log10",
                           "total log10");
  std::string reading;
  for (const auto& [label, spec] : specs) {
    const LstmPathResult r = lstm_path_study(spec);
    const auto L = as_doubles(r.distance);
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.cell_log10[i]),
                 format_number(r.hidden_log10[i]), format_number(r.total_log10[i])});
    // One colour per model: its cell path solid, its hidden path dashed.
    const int colour = static_cast<int>(f.series.size() / 2 % 7);
    Series cell = line("cell path c, " + label, L, unlog(r.cell_log10));
    Series hidden = line("hidden path h, " + label, L, unlog(r.hidden_log10), Series::Style::dashed);
    cell.colour = hidden.colour = colour;
    cell.dash = 1;
    hidden.dash = 2;
    f.series.push_back(cell);
    f.series.push_back(hidden);
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"cell_path_log10_at_T", json_number(r.cell_log10.back())},
                          {"hidden_path_log10_at_T", json_number(r.hidden_log10.back())},
                          {"total_log10_at_T", json_number(r.total_log10.back())},
                          {"cell_path_log10", json_array(r.cell_log10)},
                          {"hidden_path_log10", json_array(r.hidden_log10)}};
    sec.screen += fmt::format("{:<26}{:>6}{:>14}{:>14}{:>14}\n", label, r.distance.back(), fixed(r.cell_log10.back()),
                              fixed(r.hidden_log10.back()), fixed(r.total_log10.back()));
    reading += fmt::format("{}{}: cell path 1e{:.1f}, hidden path 1e{:.1f}", reading.empty() ? "" : "; ", label,
                           r.cell_log10.back(), r.hidden_log10.back());
    progress.advance();
  }
  add_figure(out, sec, f);
  out.table("lstm_paths.csv", t);
  out.json("lstm_paths.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "Through c the gradient is multiplied only by the forget gates, diag(f_t); through h it meets W_hh and the "
      "gate derivatives at every step. After {} steps: {}. A forget bias of 1 keeps the cell path open far longer.",
      specs.front().spec.steps, reading);
  sec.html.tables = {"lstm_paths.csv", "lstm_paths.json"};
  return sec;
}

// ---- Lyapunov ----

namespace {

Figure lyapunov_figure(const std::string& name, const std::string& title) {
  Figure f;
  f.name = name;
  f.title = title;
  f.xlabel = "exponent index i (largest first)";
  f.ylabel = "exponent λᵢ (1/step, natural log)";
  return f;
}

/// "LSTM, state (h, c): 2H = 64 exponents" for a cell whose state is wider than H.
std::string lyapunov_label(const std::string& label, CellKind cell, size_t exponents) {
  return cell == CellKind::lstm ? fmt::format("{}, state (h, c): 2H = {} exponents", label, exponents) : label;
}

/// Dead relu units give exponents of -inf and a few far below the rest, which
/// would squeeze the leading exponents (the informative ones, near 0) into a
/// line. When one series reaches more than twice as far down as every other,
/// the y axis is cut at 1.25 times the next lowest series' smallest exponent:
/// the title says where, and each series' legend entry counts the exponents
/// below the cut and the -inf ones.
void clip_lyapunov(Figure& f) {
  // Every index in view, including those of -inf exponents at the end.
  size_t most = 0;
  for (const Series& s : f.series) most = std::max(most, s.x.size());
  f.xmin = 0.5;
  f.xmax = static_cast<double>(most) + 0.5;
  std::vector<double> lows;  // each series' smallest finite exponent
  for (const Series& s : f.series) {
    double low = INFINITY;
    for (const double y : s.y)
      if (std::isfinite(y)) low = std::min(low, y);
    if (std::isfinite(low)) lows.push_back(low);
  }
  std::sort(lows.begin(), lows.end());
  const double cut = lows.size() >= 2 ? 1.25 * std::min(lows[1], -0.5) : -INFINITY;
  const bool clipped = lows.size() >= 2 && lows[0] < 2 * std::min(lows[1], -0.5);
  if (clipped) {
    f.ymin = cut;
    f.title += fmt::format("; y axis cut at {:.1f}", cut);  // the legend counts what is below
  }
  for (Series& s : f.series) {
    size_t below = 0, minus_inf = 0;
    double lowest = INFINITY;
    for (const double y : s.y) {
      if (std::isinf(y) && y < 0) ++minus_inf;
      if (clipped && std::isfinite(y) && y < cut) ++below, lowest = std::min(lowest, y);
    }
    std::string note;
    if (below > 0) note = fmt::format("{} below {:.1f}, min {:.1f}", below, cut, lowest);
    if (minus_inf > 0) note += fmt::format("{}{} dead units at −∞", note.empty() ? "" : "; ", minus_inf);
    if (!note.empty()) s.label += " (" + note + ")";
  }
}

}  // namespace

Section lyapunov_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs, Index k) {
  progress.begin("Lyapunov spectra", static_cast<int>(specs.size()));
  CsvTable t{{"model", "index", "mean", "std"}, {}};
  Figure f = lyapunov_figure("lyapunov", "Lyapunov spectra (mean over seeds and sequences)");
  Section sec;
  sec.html.id = "lyapunov";
  sec.html.title = "Lyapunov spectra";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("{:<16}{:>12}{:>12}{:>12}\n", "model", "lambda_1", "lambda_2", "lambda_last");
  std::string reading;
  for (const auto& [label, spec] : specs) {
    const LyapunovResult r = lyapunov_study(spec, k);
    std::vector<double> idx, lo, hi;
    for (size_t i = 0; i < r.mean.size(); ++i) {
      idx.push_back(static_cast<double>(i + 1));
      lo.push_back(r.mean[i] - r.std[i]);
      hi.push_back(r.mean[i] + r.std[i]);
      t.add_row({label, std::to_string(i + 1), format_number(r.mean[i]), format_number(r.std[i])});
    }
    Series s = line(lyapunov_label(label, spec.model.cell, r.mean.size()), idx, r.mean, Series::Style::linespoints);
    s.y_low = lo;
    s.y_high = hi;
    s.markers = 16;
    s.dash = 1;
    f.series.push_back(std::move(s));
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"largest", json_number(r.mean.front())},
                          {"smallest", json_number(r.mean.back())},
                          {"mean", json_array(r.mean)},
                          {"std", json_array(r.std)}};
    sec.screen += fmt::format("{:<16}{:>12.4f}{:>12}{:>12.4f}\n", label, r.mean.front(),
                              r.mean.size() > 1 ? fixed(r.mean[1], 4) : std::string("-"), r.mean.back());
    reading += fmt::format("{}{} {:.3f}", reading.empty() ? "" : ", ", label, r.mean.front());
    progress.advance();
  }
  show_coincident(f);
  clip_lyapunov(f);
  f.key_rows = static_cast<int>((f.series.size() + 1) / 2);
  f.caption =
      "The Lyapunov spectrum of each cell, largest exponent first: mean (line) and ± one standard deviation (band) "
      "over seeds and sequences; exp(λ₁) is the asymptotic per-step growth of the Jacobian chains.";
  add_figure(out, sec, f);
  out.table("lyapunov.csv", t);
  out.json("lyapunov.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "The exponents are the average per-step log growth of the directions the step Jacobians stretch (QR "
      "re-orthonormalisation). The largest, lambda_1 = {}, is the rate at which the longest-lived gradient decays "
      "(negative) or explodes (positive): exp(lambda_1) per step.",
      reading);
  sec.html.tables = {"lyapunov.csv", "lyapunov.json"};
  return sec;
}

// ---- contributions ----

Section contributions_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs) {
  progress.begin("BPTT contributions by distance", static_cast<int>(specs.size()));
  CsvTable t{{"model", "distance", "mean_log10_relative", "std_log10_relative"}, {}};
  Figure f;
  f.name = "contributions";
  f.title = "Contribution of each temporal distance to ∂L/∂Wₕₕ (mean over seeds)";
  f.xlabel = "temporal distance t − k (steps)";
  f.ylabel = "‖contribution‖ / ‖∂L/∂Wₕₕ‖ (dimensionless)";
  f.logy = true;
  f.caption =
      "How much of the BPTT gradient ∂L/∂W_hh comes from terms linking steps t − k apart, relative to the whole "
      "gradient (mean of log10 over seeds), for every cell.";
  Section sec;
  sec.html.id = "contributions";
  sec.html.title = "BPTT contributions by temporal distance";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("{:<16}{:>12}{:>12}{:>12}{:>14}\n", "model", "d = 1", "d = 10", "d = T-1", "sum check");
  auto at = [](const std::vector<double>& v, size_t i) { return i < v.size() ? fixed(v[i]) : std::string("-"); };
  double worst = 0;
  std::string reading;
  for (const auto& [label, spec] : specs) {
    const ContributionResult r = contributions_study(spec);
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.mean_log10[i]), format_number(r.std_log10[i])});
    f.series.push_back(line(label, as_doubles(r.distance), unlog(r.mean_log10), Series::Style::linespoints));
    f.series.back().dash = 1;
    f.series.back().markers = 10;
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"max_sum_error", r.max_sum_error},
                          {"mean_log10_relative", json_array(r.mean_log10)}};
    sec.screen += fmt::format("{:<16}{:>12}{:>12}{:>12}{:>14.1e}\n", label, at(r.mean_log10, 1),
                              at(r.mean_log10, 10), fixed(r.mean_log10.back()), r.max_sum_error);
    worst = std::max(worst, r.max_sum_error);
    if (r.mean_log10.size() > 10)
      reading += fmt::format("{}{} 1e{:.1f}", reading.empty() ? "" : ", ", label, r.mean_log10[10]);
    progress.advance();
  }
  show_coincident(f);
  f.key_rows = static_cast<int>((f.series.size() + 1) / 2);
  add_figure(out, sec, f);
  out.table("contributions.csv", t);
  out.json("contributions.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "dL/dW_hh = sum over (t, k) of the terms carrying the loss at step t back to step k; grouped by distance t - "
      "k, they show how little of the gradient comes from far back{}. The groups add up to the BPTT gradient to "
      "{:.1e} relative.",
      reading.empty() ? "" : " (at distance 10: " + reading + ")", worst);
  sec.html.tables = {"contributions.csv", "contributions.json"};
  return sec;
}

// ---- Conv1D ----

Section conv_section(OutputFolder& out, Progress& progress, const std::vector<LabelledConv>& convs,
                     const Labelled& rnn) {
  progress.begin("Conv1D stacks against distance", static_cast<int>(convs.size()) + 1);
  CsvTable t{{"model", "distance", "gradient_norm", "relative_to_distance_0"}, {}};
  Figure f;
  f.name = "conv_distance";
  f.title = "Conv1D stacks beside an RNN: gradient reaching the input d steps back";
  f.xlabel = "distance d (steps)";
  f.ylabel = "gradient norm relative to d = 0 (dimensionless)";
  f.logy = true;
  Section sec;
  sec.html.id = "conv1d";
  sec.html.title = "Conv1D stacks beside the RNNs";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("{:<34}{:>10}{:>16}{:>18}\n", "model", "field", "zero past it", "largest past it");

  const LookbackResult rnn_r = lookback_study(rnn.spec);
  progress.advance();
  std::vector<ConvResult> results;
  for (const auto& c : convs) {
    results.push_back(conv_distance_study(c.spec));
    progress.advance();
  }
  // The x axis ends at twice the largest receptive field (when the sequences are longer than three times it), so
  // the stacks' nonzero part is not squeezed against the axis; the RNN's curve continues past it.
  Index widest = 0;
  for (const auto& r : results) widest = std::max(widest, r.receptive_field);
  const Index longest = rnn_r.distance.empty() ? 0 : rnn_r.distance.back();
  const double shown = longest > 3 * widest ? static_cast<double>(2 * widest) : INFINITY;
  if (std::isfinite(shown)) {
    f.xmin = 0;
    f.xmax = shown;
  }
  double smallest = 1;
  for (const auto& r : results)
    for (size_t i = 0; i < r.distance.size(); ++i)
      if (r.norm[i] > 0 && static_cast<double>(r.distance[i]) <= shown)
        smallest = std::min(smallest, r.norm[i] / r.norm.front());
  for (size_t i = 0; i < rnn_r.distance.size(); ++i)
    if (rnn_r.mean_log10[i] > -300 && static_cast<double>(rnn_r.distance[i]) <= shown)
      smallest = std::min(smallest, std::pow(10.0, rnn_r.mean_log10[i]));
  // Exact zeros cannot sit on a log axis: they are drawn on a floor line a decade or more below every nonzero value shown.
  const int floor_exp = static_cast<int>(std::floor(std::log10(smallest))) - 1;
  std::string reading;
  for (size_t c = 0; c < convs.size(); ++c) {
    const auto& [label, spec] = convs[c];
    const auto& r = results[c];
    // One floor line per stack, a decade apart, so their zero marks do not hide each other.
    const int zero_exp = floor_exp - static_cast<int>(c);
    const double zero_at = std::pow(10.0, zero_exp);
    std::vector<double> d, rel, zx, zy;
    double largest_past = 0;
    bool zero_past = true;
    for (size_t i = 0; i < r.distance.size(); ++i) {
      const double v = r.norm[i] / r.norm.front();
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.norm[i]), format_number(v)});
      d.push_back(static_cast<double>(r.distance[i]));
      rel.push_back(v > 0 ? v : kNaN);
      if (r.norm[i] == 0 && static_cast<double>(r.distance[i]) <= shown) {
        zx.push_back(static_cast<double>(r.distance[i]));
        zy.push_back(zero_at);
      }
      if (r.distance[i] >= r.receptive_field) {
        largest_past = std::max(largest_past, r.norm[i]);
        zero_past = zero_past && r.norm[i] == 0;
      }
    }
    // One colour per stack for its curve, its zero marks and its receptive-field line.
    const int colour = static_cast<int>(c % 6);
    static constexpr int filled[] = {7, 5, 9, 13}, open[] = {6, 4, 8, 12};
    Series curve = line(label, d, rel, Series::Style::linespoints);
    curve.colour = colour;
    curve.dash = 1;
    curve.point = filled[c % 4];
    curve.markers = 16;
    Series zeros = line(fmt::format("exactly 0, drawn at {}", power_of_ten(zero_exp)), zx, zy, Series::Style::points);
    zeros.colour = colour;
    zeros.point = open[c % 4];
    zeros.markers = 16;
    const double rf = static_cast<double>(r.receptive_field);
    Series field = line(fmt::format("receptive field d = {}", r.receptive_field), {rf, rf}, {zero_at, 1.0},
                        Series::Style::dashed);
    field.colour = colour;
    field.dash = 2;
    f.series.push_back(curve);
    f.series.push_back(zeros);
    f.series.push_back(field);
    sec.summary[label] = {{"receptive_field", r.receptive_field},
                          {"kernel_size", spec.kernel_size},
                          {"dilations", spec.dilations},
                          {"channels", spec.channels},
                          {"T", spec.steps},
                          {"zero_past_receptive_field", zero_past},
                          {"largest_norm_past_receptive_field", largest_past},
                          {"gradient_norm", json_array(r.norm)}};
    sec.screen += fmt::format("{:<34}{:>10}{:>16}{:>18.3g}\n", label, r.receptive_field, zero_past ? "yes" : "NO",
                              largest_past);
    reading += fmt::format("{}{} beyond d = {}", reading.empty() ? "" : ", ", label, r.receptive_field - 1);
  }
  Series rnn_curve = line(rnn.label + " RNN, look-back", as_doubles(rnn_r.distance), unlog(rnn_r.mean_log10));
  rnn_curve.colour = 6;
  rnn_curve.dash = 1;
  f.series.push_back(rnn_curve);
  f.key_rows = 3;
  // Room below the lowest floor line, so its marks do not sit on the axis.
  f.ymin = std::pow(10.0, floor_exp - static_cast<double>(convs.size()) + 0.5);
  f.caption = fmt::format(
      "The input gradient of each causal Conv1D stack d steps back, relative to d = 0: exactly zero from the "
      "receptive field (dashed) on, drawn as marks on a floor line, beside the {} RNN's look-back ratio, which "
      "decays smoothly{}.",
      rnn.label,
      std::isfinite(shown) && rnn_r.mean_log10.back() > -300
          ? fmt::format(" and is still {} at d = {}, past the figure's end", about(rnn_r.mean_log10.back()), longest)
          : std::string(" and never reaches zero"));
  sec.summary[rnn.label] = {{"spec", spec_json(rnn.spec)}, {"mean_log10_ratio", json_array(rnn_r.mean_log10)}};
  add_figure(out, sec, f);
  out.table("conv_distance.csv", t);
  out.json("conv_distance.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "A causal convolution stack sees only its receptive field: the gradient is exactly zero ({}), drawn as marks on "
      "the floor line because zero has no place on a log axis. The {} gradient instead decays smoothly and never "
      "reaches zero.{}",
      reading, rnn.label,
      std::isfinite(shown) ? fmt::format(" The figure ends at d = {:g}, twice the largest receptive field.", shown)
                           : std::string());
  sec.html.tables = {"conv_distance.csv", "conv_distance.json"};
  return sec;
}

// ---- analyze: one layer of a model ----

Section layer_section(OutputFolder& out, const LayerAnalysis& a, const std::string& cell_name) {
  const std::string p = fmt::format("layer{}", a.layer);
  Section sec;
  sec.html.id = p;
  sec.html.title = fmt::format("Layer {} ({})", a.layer, cell_name);
  sec.summary = nlohmann::json::object();

  CsvTable chains{{"L", "mean_log10_norm", "min_log10_norm", "max_log10_norm", "bound_log10"}, {}};
  const auto L = as_doubles(a.distance);
  for (size_t i = 0; i < a.distance.size(); ++i)
    chains.add_row({std::to_string(a.distance[i]), format_number(a.chain_mean_log10[i]),
                    format_number(a.chain_min_log10[i]), format_number(a.chain_max_log10[i]),
                    a.bound_log10.empty() ? "" : format_number(a.bound_log10[i])});
  out.table(p + "_chains.csv", chains);
  const std::string prefix = fmt::format("Layer {} ({}): ", a.layer, cell_name);
  Figure cf;
  cf.name = p + "_chains";
  cf.title = prefix + "Jacobian chain norms ‖∂s(T−1) / ∂s(T−1−L)‖₂";
  cf.xlabel = "distance L (steps)";
  cf.ylabel = "spectral norm of the chain (dimensionless)";
  cf.logy = true;
  Series m = line("mean over batch elements", L, unlog(a.chain_mean_log10));
  m.y_low = unlog(a.chain_min_log10);
  m.y_high = unlog(a.chain_max_log10);
  m.band_label = "range over batch elements";
  fit_log_y(cf, {&m.y_low, &m.y_high, &m.y});
  cf.series.push_back(std::move(m));
  if (!a.bound_log10.empty()) {
    const auto b = unlog(a.bound_log10);
    cf.series.push_back(line("bound cᴸ" + bound_note(L, b, cf.ymax), L, b, Series::Style::dashed));
    cf.series.back().dash = 2;
  }
  cf.caption = fmt::format(
      "The spectral norm of the exact Jacobian chain of layer {} over L steps on the given input, mean (line) and "
      "range (band) over the batch elements analysed{}.",
      a.layer, a.bound_log10.empty() ? std::string(" (the gated cell has no closed-form bound)")
                                     : std::string(", with the bound cᴸ (dashed)"));
  add_figure(out, sec, cf);
  sec.html.tables.push_back(p + "_chains.csv");

  std::vector<LabelledSpectrum> blocks;
  for (const auto& b : a.spectra) blocks.push_back({b.name, b});
  Section spec;
  spec.summary = nlohmann::json::object();
  spectrum_files(out, blocks, p + "_spectrum", "the recurrent matrices", spec, prefix);
  sec.html.figures.insert(sec.html.figures.end(), spec.html.figures.begin(), spec.html.figures.end());
  sec.html.captions.insert(spec.html.captions.begin(), spec.html.captions.end());
  sec.html.tables.insert(sec.html.tables.end(), spec.html.tables.begin(), spec.html.tables.end());

  CsvTable ly{{"index", "exponent"}, {}};
  std::vector<double> idx;
  for (size_t i = 0; i < a.lyapunov.size(); ++i) {
    idx.push_back(static_cast<double>(i + 1));
    ly.add_row({std::to_string(i + 1), format_number(a.lyapunov[i])});
  }
  out.table(p + "_lyapunov.csv", ly);
  Figure lf = lyapunov_figure(p + "_lyapunov", prefix + "Lyapunov spectrum on the input");
  std::string lyapunov_key = "mean over batch elements";
  if (cell_name == cell_label(ModelSpec{.cell = CellKind::lstm})) {
    // The LSTM's state is (h, c): 2H exponents, H the size of a gate block.
    const size_t wide = 2 * a.spectra.front().spectrum.eigenvalues.size();
    lyapunov_key += a.lyapunov.size() == wide
                        ? fmt::format("; LSTM state (h, c): 2H = {} exponents", wide)
                        : fmt::format("; LSTM state (h, c): top {} of 2H = {} exponents", a.lyapunov.size(), wide);
  }
  lf.series.push_back(line(lyapunov_key, idx, a.lyapunov, Series::Style::linespoints));
  clip_lyapunov(lf);
  lf.caption = fmt::format(
      "The Lyapunov spectrum of layer {} along its trajectory on the given input, largest exponent first (mean over "
      "the batch elements analysed).",
      a.layer);
  add_figure(out, sec, lf);
  sec.html.tables.push_back(p + "_lyapunov.csv");

  CsvTable ct{{"distance", "log10_relative"}, {}};
  for (size_t i = 0; i < a.contributions.distance.size(); ++i)
    ct.add_row({std::to_string(a.contributions.distance[i]), format_number(a.contributions.mean_log10[i])});
  out.table(p + "_contributions.csv", ct);
  Figure kf;
  kf.name = p + "_contributions";
  kf.title = prefix + "contribution of each temporal distance to ∂L/∂Wₕₕ";
  kf.xlabel = "temporal distance t − k (steps)";
  kf.ylabel = "‖contribution‖ / ‖∂L/∂Wₕₕ‖ (dimensionless)";
  kf.logy = true;
  kf.series.push_back(line("random-projection loss on every step", as_doubles(a.contributions.distance),
                           unlog(a.contributions.mean_log10), Series::Style::linespoints));
  kf.caption = fmt::format(
      "How much of layer {}'s gradient ∂L/∂W_hh comes from terms linking steps t − k apart, relative to the whole "
      "gradient, for a random-projection loss on the layer's outputs.",
      a.layer);
  add_figure(out, sec, kf);
  sec.html.tables.push_back(p + "_contributions.csv");

  const double at_t = a.chain_mean_log10.back();
  sec.summary = {{"chain_mean_log10", json_array(a.chain_mean_log10)},
                 {"chain_mean_log10_at_T", json_number(at_t)},
                 {"bound_log10_at_T", a.bound_log10.empty() ? nlohmann::json(nullptr) : json_number(a.bound_log10.back())},
                 {"spectra", spec.summary},
                 {"lyapunov", json_array(a.lyapunov)},
                 {"contributions_log10_relative", json_array(a.contributions.mean_log10)},
                 {"contributions_sum_error", a.contributions.max_sum_error}};
  sec.screen = fmt::format("layer {}: log10 ||chain|| at L = {}: {}, bound {}, lambda_1 = {:.4f}, contributions add "
                           "up to {:.1e}\n",
                           a.layer, a.distance.back(), fixed(at_t),
                           a.bound_log10.empty() ? std::string("-") : fixed(a.bound_log10.back()), a.lyapunov.front(),
                           a.contributions.max_sum_error);
  sec.screen += spectrum_screen_header(a.spectra.front().powers.n.back()) + spec.screen;
  sec.html.reading = fmt::format(
      "The exact Jacobian chains of this layer on the given input fall to 1e{:.1f} over {} steps{}; the largest "
      "Lyapunov exponent is {:.3f} per step. The recurrent matrices' spectra, W^n, and the gradient of W_hh by "
      "temporal distance follow.",
      at_t, a.distance.back(),
      a.bound_log10.empty() ? std::string("")
                            : fmt::format(" (bound 1e{:.1f})", a.bound_log10.back()),
      a.lyapunov.front());
  return sec;
}

std::string files_written(const OutputFolder& out) {
  std::string s = fmt::format("wrote {} files to {}/ (open index.html)", out.files().size(), out.dir().string());
  for (const auto& m : out.not_drawn()) s += "\nfigure not drawn: " + m;
  return s;
}

void write_index(OutputFolder& out, const std::string& title, const std::string& subtitle, const nlohmann::json& run,
                 const std::vector<Section>& sections) {
  nlohmann::json summary = {{"run", run}};
  Report report;
  report.title = title;
  report.subtitle = subtitle;
  for (const auto& [key, value] : run.items())
    report.facts.emplace_back(key, value.is_string() ? value.get<std::string>() : value.dump());
  for (const auto& s : sections) {
    summary[s.html.id] = s.summary;
    report.sections.push_back(s.html);
  }
  out.json("summary.json", summary);
  // Every section's key numbers in one file, linked from the first section.
  report.sections.front().tables.push_back("summary.json");
  if (!out.not_drawn().empty()) {
    std::string missing;
    for (const auto& m : out.not_drawn()) missing += (missing.empty() ? "" : "; ") + m;
    report.facts.emplace_back("figures not drawn", missing);
  }
  out.report(report);
}

}  // namespace rnnscope::cli
