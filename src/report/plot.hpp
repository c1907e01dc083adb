// Helpers the report's sections share to draw a result: curves for log axes,
// series, legends, number formats. Internal to src/report/.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rnnscope/diagnostics/mean_field.hpp"
#include "rnnscope/io/json.hpp"
#include "rnnscope/report/sections.hpp"
#include "rnnscope/studies/network.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope::detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// 10^v for plotting on a log axis; an exact zero (-inf) becomes NaN, which is not drawn. Values below a
/// double's range become 0 and are not drawn either: curves that reach so far are drawn from their log10
/// values instead (Figure::log10_y, fit_log10_y).
inline std::vector<double> unlog(const std::vector<double>& log10_values) {
  std::vector<double> y;
  y.reserve(log10_values.size());
  for (const double v : log10_values) y.push_back(!is_zero_log10(v) ? std::pow(10.0, v) : kNaN);
  return y;
}

template <class T>
inline std::vector<double> as_doubles(const std::vector<T>& v) {
  return {v.begin(), v.end()};
}

/// File-name form of a label: "CT-RNN dt 0.1" -> "ct-rnn_dt_0.1".
inline std::string slug(const std::string& label) {
  std::string s;
  for (const char c : label) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!s.empty() && s.back() != '_')
      s += '_';
  }
  return s;
}

/// A log10 value for the screen: "zero" for an exact zero (-inf), "-" when missing.
inline std::string fixed(double v, int digits = 3) {
  if (is_zero_log10(v)) return "zero";
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "-";
}

inline Series line(std::string label, std::vector<double> x, std::vector<double> y,
            Series::Style style = Series::Style::lines) {
  Series s;
  s.label = std::move(label);
  s.x = std::move(x);
  s.y = std::move(y);
  s.style = style;
  return s;
}

inline nlohmann::json json_array(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const double x : v) a.push_back(json_number(x));
  return a;
}

inline nlohmann::json spec_json(const NetworkSpec& s) {
  nlohmann::json j = {{"cell", std::string(to_string(s.model.cell))},
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
  if (s.model.num_layers > 1) j["layers"] = s.model.num_layers;  // a stack (the look-back study's)
  return j;
}

/// A network's initialisation as tables and legends name it: "xavier", "pytorch", "scaled 1.2", "orthogonal"
/// ("orthogonal 0.9" with a scale other than 1), "critical".
inline std::string init_label(const NetworkSpec& s) {
  const bool with_scale = s.init == Init::scaled ||
                          ((s.init == Init::orthogonal || s.init == Init::identity) && s.scale != 1.0);
  return with_scale ? fmt::format("{} {:g}", to_string(s.init), s.scale) : std::string(to_string(s.init));
}

/// The initialisation of a section's networks, so that no number is read as another initialisation's:
/// "xavier initialisation" when they share one, else each model's ("initialisation pytorch (LSTM), xavier (GRU)").
template <class Spec, class Result>
std::string init_text(const std::vector<Labelled<Spec, Result>>& runs) {
  bool shared = true;
  for (const auto& r : runs) shared = shared && init_label(r.spec) == init_label(runs.front().spec);
  if (runs.empty() || shared) return runs.empty() ? std::string() : init_label(runs.front().spec) + " initialisation";
  std::string each;
  for (const auto& r : runs) each += fmt::format("{}{} ({})", each.empty() ? "" : ", ", init_label(r.spec), r.label);
  return "initialisation " + each;
}

/// The text with its first letter upper case (a sentence's start).
inline std::string capitalised(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

/// Rows at most `shown`, evenly spaced, always the first and the last.
inline std::vector<size_t> screen_rows(size_t n, size_t shown) {
  shown = std::min(n, shown);
  std::vector<size_t> rows;
  for (size_t k = 0; k < shown; ++k) rows.push_back(shown == n ? k : k * (n - 1) / (shown - 1));
  return rows;
}

/// Figure text without underscore markup: "W_hh" becomes "Wₕₕ".
inline std::string plain(std::string text) {
  for (size_t at = text.find("W_hh"); at != std::string::npos; at = text.find("W_hh", at))
    text.replace(at, 4, "Wₕₕ");
  return text;
}

/// Writes the figure and lists it, with its caption, in the section.
inline void add_figure(OutputFolder& out, Section& sec, const Figure& f) {
  out.figure(f);
  sec.html.figures.push_back(f.name);
  if (!f.caption.empty()) sec.html.captions[f.name] = plain(f.caption);
}

/// "10⁻⁹": a power of ten with a Unicode superscript exponent (figure text is drawn literally).
inline std::string power_of_ten(int k) {
  static const char* const digits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string e = std::to_string(k < 0 ? -k : k), out = k < 0 ? "10⁻" : "10";
  for (const char c : e) out += digits[c - '0'];
  return out;
}

/// "≈ 10⁵⁴" for a log10 value of 53.8 (legend text).
inline std::string about(double log10_value) { return "≈ " + power_of_ten(static_cast<int>(std::lround(log10_value))); }

inline bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

/// A series whose points equal an earlier one's would be hidden under it (the
/// CT-RNN with dt 1 is the Elman tanh cell, same seed, same numbers): it is
/// drawn as sparse open circles over the earlier curve, and its legend entry says so.
inline void show_coincident(Figure& f) {
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
inline std::pair<double, double> log10_span(const std::vector<const std::vector<double>*>& curves) {
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
inline bool fit_log_y(Figure& f, const std::vector<const std::vector<double>*>& curves) {
  const auto [lo, hi] = log10_span(curves);
  if (!(lo <= hi)) return false;
  const double margin = std::clamp(0.05 * (hi - lo), 0.1, 1.0);
  f.ymin = std::pow(10.0, lo - margin);
  f.ymax = std::pow(10.0, hi + margin);
  return true;
}

/// fit_log_y for a figure drawn from log10 values (Figure::log10_y): the curves hold log10 values, and
/// the range is set in log10. Exact zeros (-inf) are left out.
inline bool fit_log10_y(Figure& f, const std::vector<const std::vector<double>*>& curves) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* c : curves)
    for (const double v : *c)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (!(lo <= hi)) return false;
  const double margin = std::clamp(0.05 * (hi - lo), 0.1, 1.0);
  f.log10_y = true;
  f.ymin = lo - margin;
  f.ymax = hi + margin;
  return true;
}

/// The legend entry of a bound (log10 values) drawn in a range clipped at ymax (log10): where it leaves
/// the plot and what it reaches.
inline std::string bound_note(const std::vector<double>& L, const std::vector<double>& bound_log10,
                              double ymax_log10) {
  for (size_t i = 0; i < bound_log10.size(); ++i)
    if (bound_log10[i] > ymax_log10)
      return fmt::format(", above the plot from L = {:g} on ({} at L = {:g})", L[i], about(bound_log10.back()),
                         L.back());
  return "";
}

/// Where a curve first leaves the y range [ymin, ymax] of a figure (values in the axis' units): the index of
/// the first point outside, and x where the line between it and the point before crosses the edge (that point's
/// x when it is the first). Nothing when every finite point lies inside.
struct Leaving {
  size_t index = 0;
  double x = 0, y = 0;  // the crossing, on the edge
};
inline std::optional<Leaving> leaves_range(const std::vector<double>& x, const std::vector<double>& y, double ymin,
                                           double ymax) {
  if (std::isnan(ymin) || std::isnan(ymax)) return std::nullopt;  // a range from the data holds every point
  for (size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i]) || (y[i] <= ymax && y[i] >= ymin)) continue;
    const double edge = y[i] > ymax ? ymax : ymin;
    Leaving l{i, x[i], edge};
    if (i > 0 && std::isfinite(y[i - 1]) && y[i - 1] != y[i])
      l.x = x[i - 1] + (edge - y[i - 1]) / (y[i] - y[i - 1]) * (x[i] - x[i - 1]);
    return l;
  }
  return std::nullopt;
}

/// Eigenvalue and power figures and tables of labelled matrices, files named stem_* (spectrum.cpp).
void spectrum_files(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                    const std::string& what, Section& sec, const std::string& title_prefix = "");
std::string spectrum_screen_header(int max_n);

/// An empty Lyapunov-spectrum figure with its axes (lyapunov.cpp).
Figure lyapunov_figure(const std::string& name, const std::string& title);
/// Cuts the y axis above exponents far below the rest (dead relu units) and says so (lyapunov.cpp).
void clip_lyapunov(Figure& f);

/// The least-squares slope of a log10 curve over L >= T/10 (past the first steps' transient), finite values only
/// (NaN with fewer than two). Defined in lookback.cpp.
double measured_slope(const std::vector<Index>& L, const std::vector<double>& y);

}  // namespace rnnscope::detail
