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

std::string log_axis(const std::string& what) { return what + " (log scale)"; }

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

  Figure d;
  d.name = "activation_derivatives";
  d.title = fmt::format("sigmoid' and tanh' with their order-{} Maclaurin approximations", order);
  d.xlabel = "pre-activation x";
  d.ylabel = "derivative f'(x)";
  d.series.push_back(line("tanh'(x) exact", x, tp));
  d.series.push_back(line("sigmoid'(x) exact", x, sp));
  // Polynomials leave the plotted range quickly; clip them to it so the exact curves stay readable.
  auto clip = [](std::vector<double> v) {
    for (auto& y : v)
      if (y < -0.25 || y > 1.25) y = kNaN;
    return v;
  };
  d.series.push_back(line(fmt::format("tanh' order {}", order), x, clip(tpa), Series::Style::dashed));
  d.series.push_back(line(fmt::format("sigmoid' order {}", order), x, clip(spa), Series::Style::dashed));
  out.figure(d);

  Figure r;
  r.name = "activation_rho_power";
  r.title = fmt::format("rho(eps)^T = (sigmoid'(eps) / tanh'(eps))^T at eps = {}", eps);
  r.xlabel = "number of steps T";
  r.ylabel = log_axis("rho(eps)^T");
  r.logy = true;
  r.series.push_back(line("exact", as_doubles(s.steps), s.rho_pow, Series::Style::linespoints));
  r.series.push_back(line(fmt::format("order-{} approximation", order), as_doubles(s.steps), s.rho_approx_pow,
                          Series::Style::dashed));
  out.figure(r);
  progress.end();

  Section sec;
  sec.html.id = "activations";
  sec.html.title = "Activations: sigmoid' against tanh'";
  sec.html.reading = fmt::format(
      "At eps = {} one sigmoid step passes rho = {:.6f} of what a tanh step passes (order-{} approximation {:.6f}); "
      "after T = {} steps the ratio is {:.3e} exactly against {:.3e} approximated. sigmoid' <= tanh' exactly for "
      "|eps| <= {:.4f}.",
      eps, s.rho, order, s.rho_approx, s.steps.back(), s.rho_pow.back(), s.rho_approx_pow.back(),
      s.interval_exact.hi);
  sec.html.figures = {"activation_derivatives", "activation_rho_power"};
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
  all.ylabel = log_axis("||dL/dh_{T-L}|| / ||dL/dh_T||");
  all.logy = true;
  Section sec;
  sec.html.id = "lookback";
  sec.html.title = "The look-back window";
  sec.html.figures = {"lookback"};
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("look-back study: log10 ||dL/dh_(T-L)|| / ||dL/dh_T||, mean over seeds x sequences\n\n");
  sec.screen += fmt::format("{:<16}{:>6}{:>14}{:>10}{:>14}{:>14}\n", "model", "L", "mean log10", "std",
                            "bound log10", "Lyapunov max");
  std::string reading;
  for (const auto& [label, spec] : specs) {
    const LookbackResult r = lookback_study(spec);
    const auto L = as_doubles(r.distance);
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.mean_log10[i]), format_number(r.std_log10[i]),
                 format_number(r.min_log10[i]), format_number(r.max_log10[i]),
                 r.bound_log10.empty() ? "" : format_number(r.bound_log10[i])});
    all.series.push_back(line(label, L, unlog(r.mean_log10)));

    Figure one;
    one.name = "lookback_" + slug(label);
    one.title = fmt::format("Look-back window of the {} ({}, H = {}, T = {})", label, to_string(spec.init),
                            spec.model.hidden_size, spec.steps);
    one.xlabel = all.xlabel;
    one.ylabel = all.ylabel;
    one.logy = true;
    Series m = line("measured, mean over seeds", L, unlog(r.mean_log10));
    m.y_low = unlog(r.min_log10);
    m.y_high = unlog(r.max_log10);
    m.band_label = "measured, range over seeds";
    one.series.push_back(std::move(m));
    if (!r.bound_log10.empty())
      one.series.push_back(line("bound (gamma ||W_hh||_2)^L", L, unlog(r.bound_log10), Series::Style::dashed));
    out.figure(one);
    sec.html.figures.push_back(one.name);

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
  out.figure(all);
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
                                             "same seed their curves coincide."
                                           : "";
  sec.html.reading = fmt::format(
      "The share of the final gradient that survives L steps back, measured exactly through the cells' step "
      "Jacobians (mean over seeds; the band is the range). After L = {} steps: {}. Dashed: the bound "
      "(gamma ||W_hh||_2)^L where the cell has one (Elman, CT-RNN); a bound above 1 guarantees nothing.{}",
      T, reading, coincide);
  sec.html.tables = {"lookback.csv", "lookback.json"};
  return sec;
}

// ---- spectra ----

namespace {

/// Eigenvalue and power figures and tables of labelled matrices, files named stem_*.
void spectrum_files(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                    const std::string& what, Section& sec) {
  CsvTable eig{{"matrix", "index", "real", "imag", "modulus"}, {}};
  CsvTable pow{{"matrix", "n", "log10_norm_power", "log10_norm_eigen", "relative_difference"}, {}};
  Figure plane;
  plane.name = stem + "_eigenvalues";
  plane.title = "Eigenvalues of " + what + " in the complex plane";
  plane.xlabel = "Re(lambda)";
  plane.ylabel = "Im(lambda)";
  plane.equal_aspect = true;
  plane.unit_circle = true;
  Figure powers;
  powers.name = stem + "_powers";
  powers.title = "||W^n||_2: repeated multiplication (lines) and Q Lambda^n Q^-1 (points)";
  powers.xlabel = "power n";
  powers.ylabel = log_axis("||W^n||_2");
  powers.logy = true;
  for (const auto& [label, b] : blocks) {
    std::vector<double> re, im;
    for (size_t i = 0; i < b.spectrum.eigenvalues.size(); ++i) {
      const auto e = b.spectrum.eigenvalues[i];
      re.push_back(e.real());
      im.push_back(e.imag());
      eig.add_row({label, std::to_string(i), format_number(e.real()), format_number(e.imag()),
                   format_number(std::abs(e))});
    }
    plane.series.push_back(line(fmt::format("{} (rho = {:.3f})", label, b.spectrum.spectral_radius), re, im,
                                Series::Style::points));
    const auto& p = b.powers;
    const auto n = as_doubles(p.n);
    for (size_t i = 0; i < p.n.size(); ++i)
      pow.add_row({label, std::to_string(p.n[i]), format_number(p.log10_norm_power[i]),
                   p.log10_norm_eigen.empty() ? "" : format_number(p.log10_norm_eigen[i]),
                   p.relative_difference.empty() ? "" : format_number(p.relative_difference[i])});
    powers.series.push_back(line(label + ", power", n, unlog(p.log10_norm_power)));
    if (!p.log10_norm_eigen.empty())
      powers.series.push_back(line(label + ", eigen", n, unlog(p.log10_norm_eigen), Series::Style::points));
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
  out.figure(plane);
  out.figure(powers);
  out.table(stem + "_eigenvalues.csv", eig);
  out.table(stem + "_powers.csv", pow);
  sec.html.figures.push_back(plane.name);
  sec.html.figures.push_back(powers.name);
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
  f.ylabel = log_axis("gradient norm relative to L = 0");
  f.logy = true;
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
    f.series.push_back(line("cell path, " + label, L, unlog(r.cell_log10)));
    f.series.push_back(line("hidden path, " + label, L, unlog(r.hidden_log10), Series::Style::dashed));
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
  out.figure(f);
  out.table("lstm_paths.csv", t);
  out.json("lstm_paths.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "Through c the gradient is multiplied only by the forget gates, diag(f_t); through h it meets W_hh and the "
      "gate derivatives at every step. After {} steps: {}. A forget bias of 1 keeps the cell path open far longer.",
      specs.front().spec.steps, reading);
  sec.html.figures = {"lstm_paths"};
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
  f.ylabel = "lambda_i (per step, natural log)";
  return f;
}

}  // namespace

Section lyapunov_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs, Index k) {
  progress.begin("Lyapunov spectra", static_cast<int>(specs.size()));
  CsvTable t{{"model", "index", "mean", "std"}, {}};
  Figure f = lyapunov_figure("lyapunov", "Lyapunov spectra along the trajectories (mean over seeds)");
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
    Series s = line(label, idx, r.mean, Series::Style::linespoints);
    s.y_low = lo;
    s.y_high = hi;
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
  out.figure(f);
  out.table("lyapunov.csv", t);
  out.json("lyapunov.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "The exponents are the average per-step log growth of the directions the step Jacobians stretch (QR "
      "re-orthonormalisation). The largest, lambda_1 = {}, is the rate at which the longest-lived gradient decays "
      "(negative) or explodes (positive): exp(lambda_1) per step.",
      reading);
  sec.html.figures = {"lyapunov"};
  sec.html.tables = {"lyapunov.csv", "lyapunov.json"};
  return sec;
}

// ---- contributions ----

Section contributions_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs) {
  progress.begin("BPTT contributions by distance", static_cast<int>(specs.size()));
  CsvTable t{{"model", "distance", "mean_log10_relative", "std_log10_relative"}, {}};
  Figure f;
  f.name = "contributions";
  f.title = "Contribution of each temporal distance to dL/dW_hh (mean over seeds)";
  f.xlabel = "temporal distance t - k (steps)";
  f.ylabel = log_axis("||contribution|| / ||dL/dW_hh||");
  f.logy = true;
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
    f.series.push_back(line(label, as_doubles(r.distance), unlog(r.mean_log10)));
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
  out.figure(f);
  out.table("contributions.csv", t);
  out.json("contributions.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "dL/dW_hh = sum over (t, k) of the terms carrying the loss at step t back to step k; grouped by distance t - "
      "k, they show how little of the gradient comes from far back{}. The groups add up to the BPTT gradient to "
      "{:.1e} relative.",
      reading.empty() ? "" : " (at distance 10: " + reading + ")", worst);
  sec.html.figures = {"contributions"};
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
  f.ylabel = log_axis("gradient norm relative to d = 0");
  f.logy = true;
  Section sec;
  sec.html.id = "conv1d";
  sec.html.title = "Conv1D stacks beside the RNNs";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("{:<34}{:>10}{:>16}{:>18}\n", "model", "field", "zero past it", "largest past it");

  const LookbackResult rnn_r = lookback_study(rnn.spec);
  progress.advance();
  std::vector<ConvResult> results;
  double smallest = 1;
  for (const auto& c : convs) {
    results.push_back(conv_distance_study(c.spec));
    const auto& r = results.back();
    for (const double v : r.norm)
      if (v > 0) smallest = std::min(smallest, v / r.norm.front());
    progress.advance();
  }
  for (const double v : rnn_r.mean_log10)
    if (v > -300) smallest = std::min(smallest, std::pow(10.0, v));
  // Exact zeros cannot sit on a log axis: they are drawn on a floor line two decades below every nonzero value.
  const double floor = std::pow(10.0, std::floor(std::log10(smallest)) - 1);
  std::string reading;
  for (size_t c = 0; c < convs.size(); ++c) {
    const auto& [label, spec] = convs[c];
    const auto& r = results[c];
    // One floor line per stack, a decade apart, so their zero marks do not hide each other.
    const double zero_at = floor / std::pow(10.0, static_cast<double>(c));
    std::vector<double> d, rel, zx, zy;
    double largest_past = 0;
    bool zero_past = true;
    for (size_t i = 0; i < r.distance.size(); ++i) {
      const double v = r.norm[i] / r.norm.front();
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.norm[i]), format_number(v)});
      d.push_back(static_cast<double>(r.distance[i]));
      rel.push_back(v > 0 ? v : kNaN);
      if (r.norm[i] == 0) {
        zx.push_back(static_cast<double>(r.distance[i]));
        zy.push_back(zero_at);
      }
      if (r.distance[i] >= r.receptive_field) {
        largest_past = std::max(largest_past, r.norm[i]);
        zero_past = zero_past && r.norm[i] == 0;
      }
    }
    f.series.push_back(line(label, d, rel, Series::Style::linespoints));
    f.series.push_back(line(fmt::format("exactly 0 (drawn at {:.0e})", zero_at), zx, zy, Series::Style::points));
    const double rf = static_cast<double>(r.receptive_field);
    f.series.push_back(line(fmt::format("receptive field {}", r.receptive_field), {rf, rf}, {zero_at, 1.0},
                            Series::Style::dashed));
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
  f.series.push_back(line(rnn.label + " RNN (look-back ratio)", as_doubles(rnn_r.distance), unlog(rnn_r.mean_log10)));
  sec.summary[rnn.label] = {{"spec", spec_json(rnn.spec)}, {"mean_log10_ratio", json_array(rnn_r.mean_log10)}};
  out.figure(f);
  out.table("conv_distance.csv", t);
  out.json("conv_distance.json", sec.summary);
  progress.end();
  sec.html.reading = fmt::format(
      "A causal convolution stack sees only its receptive field: the gradient is exactly zero ({}), drawn as marks on "
      "the floor line because zero has no place on a log axis. The {} gradient instead decays smoothly and never "
      "reaches zero.",
      reading, rnn.label);
  sec.html.figures = {"conv_distance"};
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
  Figure cf;
  cf.name = p + "_chains";
  cf.title = fmt::format("Layer {}: Jacobian chain norms ||ds_(T-1) / ds_(T-1-L)||_2", a.layer);
  cf.xlabel = "distance L (steps)";
  cf.ylabel = log_axis("spectral norm of the chain");
  cf.logy = true;
  Series m = line("mean over batch elements", L, unlog(a.chain_mean_log10));
  m.y_low = unlog(a.chain_min_log10);
  m.y_high = unlog(a.chain_max_log10);
  m.band_label = "range over batch elements";
  cf.series.push_back(std::move(m));
  if (!a.bound_log10.empty())
    cf.series.push_back(line("bound c^L", L, unlog(a.bound_log10), Series::Style::dashed));
  out.figure(cf);
  sec.html.figures.push_back(cf.name);
  sec.html.tables.push_back(p + "_chains.csv");

  std::vector<LabelledSpectrum> blocks;
  for (const auto& b : a.spectra) blocks.push_back({b.name, b});
  Section spec;
  spec.summary = nlohmann::json::object();
  spectrum_files(out, blocks, p + "_spectrum", "the recurrent matrices", spec);
  sec.html.figures.insert(sec.html.figures.end(), spec.html.figures.begin(), spec.html.figures.end());
  sec.html.tables.insert(sec.html.tables.end(), spec.html.tables.begin(), spec.html.tables.end());

  CsvTable ly{{"index", "exponent"}, {}};
  std::vector<double> idx;
  for (size_t i = 0; i < a.lyapunov.size(); ++i) {
    idx.push_back(static_cast<double>(i + 1));
    ly.add_row({std::to_string(i + 1), format_number(a.lyapunov[i])});
  }
  out.table(p + "_lyapunov.csv", ly);
  Figure lf = lyapunov_figure(p + "_lyapunov", fmt::format("Layer {}: Lyapunov spectrum on the input", a.layer));
  lf.series.push_back(line("mean over batch elements", idx, a.lyapunov, Series::Style::linespoints));
  out.figure(lf);
  sec.html.figures.push_back(lf.name);
  sec.html.tables.push_back(p + "_lyapunov.csv");

  CsvTable ct{{"distance", "log10_relative"}, {}};
  for (size_t i = 0; i < a.contributions.distance.size(); ++i)
    ct.add_row({std::to_string(a.contributions.distance[i]), format_number(a.contributions.mean_log10[i])});
  out.table(p + "_contributions.csv", ct);
  Figure kf;
  kf.name = p + "_contributions";
  kf.title = fmt::format("Layer {}: contribution of each temporal distance to dL/dW_hh", a.layer);
  kf.xlabel = "temporal distance t - k (steps)";
  kf.ylabel = log_axis("||contribution|| / ||dL/dW_hh||");
  kf.logy = true;
  kf.series.push_back(line("random-projection loss on every step", as_doubles(a.contributions.distance),
                           unlog(a.contributions.mean_log10)));
  out.figure(kf);
  sec.html.figures.push_back(kf.name);
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
