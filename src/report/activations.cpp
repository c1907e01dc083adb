// The activations section: sigmoid' against tanh' (studies/activations.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

namespace {
/// Whether a power is held exactly by its double: finite and zero or at least the smallest normal double
/// (below it a double loses digits, then underflows to 0).
bool representable(double v, double log10_v) {
  return std::isfinite(v) && std::abs(v) >= std::numeric_limits<double>::min() && std::isfinite(log10_v);
}

/// A power as text in the form "2.504689e-01": from its double where the double holds it, else from its
/// log10 and sign ("1.000000e-361" stays exact where the double is 0); "0" and "inf" at infinite log10.
std::string power_text(double v, double log10_v, double sign, int digits = 6) {
  if (representable(v, log10_v)) return fmt::format("{:.{}e}", v, digits);
  if (!std::isfinite(log10_v)) return log10_v < 0 ? "0" : (sign < 0 ? "-inf" : "inf");
  double e = std::floor(log10_v);
  double m = std::pow(10.0, log10_v - e);
  if (std::stod(fmt::format("{:.{}f}", m, digits)) >= 10) {  // 9.9999996 rounds to 10
    m /= 10;
    e += 1;
  }
  return fmt::format("{}{:.{}f}e{}{:02d}", sign < 0 ? "-" : "", m, digits, e < 0 ? '-' : '+',
                     static_cast<long long>(std::abs(e)));
}

/// A screen cell right-aligned in `width`, with a space before it where it fills the width (T = 1000000 and
/// powers like 2.881176e-126579 ran into their neighbours).
std::string column(const std::string& text, std::size_t width) {
  return text.size() >= width ? fmt::format(" {}", text) : fmt::format("{:>{}}", text, width);
}

/// A CSV cell of a power: format_number of the double where it holds the power, else power_text.
std::string power_cell(double v, double log10_v, double sign) {
  return representable(v, log10_v) ? format_number(v) : power_text(v, log10_v, sign, 16);
}
}  // namespace

Section activations_section(OutputFolder& out, const ActivationResult& result) {
  const ActivationStudy& s = result.study;
  const double eps = s.eps;
  const int order = s.order;
  const auto sign = [&](double base, size_t i) { return power_sign(base, s.steps[i]); };
  // The ratio rho^T / rho_n^T (the study's: finite where the powers underflow).
  const auto ratio_sign = [&](size_t i) { return sign(s.rho, i) * sign(s.rho_approx, i); };
  const auto ratio = [&](size_t i) { return s.ratio[i]; };
  CsvTable rho{{"T", "rho_exact_pow_T", "rho_approx_pow_T", "rho_first_order_pow_T", "rho_exact_log10_pow_T",
                "rho_approx_log10_pow_T", "rho_first_order_log10_pow_T", "ratio_log10_T", "ratio_T"},
               {}};
  for (size_t i = 0; i < s.steps.size(); ++i)
    rho.add_row({std::to_string(s.steps[i]), power_cell(s.rho_pow[i], s.rho_log10_pow[i], sign(s.rho, i)),
                 power_cell(s.rho_approx_pow[i], s.rho_approx_log10_pow[i], sign(s.rho_approx, i)),
                 power_cell(s.rho_first_pow[i], s.rho_first_log10_pow[i], sign(s.rho_first, i)),
                 format_number(s.rho_log10_pow[i]), format_number(s.rho_approx_log10_pow[i]),
                 format_number(s.rho_first_log10_pow[i]), format_number(s.ratio_log10[i]),
                 power_cell(ratio(i), s.ratio_log10[i], ratio_sign(i))});
  out.table("activations.csv", rho);
  const size_t last = s.steps.size() - 1;
  const auto held = [&](double v, double l) { return representable(v, l) ? json_number(v) : nlohmann::json(); };

  CsvTable curves{{"x", "sigmoid_prime", "tanh_prime", "sigmoid_prime_approx", "tanh_prime_approx"}, {}};
  const auto &x = result.x, &sp = result.sigmoid_prime, &tp = result.tanh_prime, &spa = result.sigmoid_prime_approx,
             &tpa = result.tanh_prime_approx;
  for (size_t i = 0; i < x.size(); ++i)
    curves.add_row({format_number(x[i]), format_number(sp[i]), format_number(tp[i]), format_number(spa[i]),
                    format_number(tpa[i])});
  out.table("activation_curves.csv", curves);

  // The values themselves and the identity tanh(x) = 2 sigmoid(2x) - 1.
  CsvTable values{{"quantity", "value"}, {}};
  for (const auto& [name, v] : named_values(s)) values.add_row({name, format_number(v)});
  out.table("activation_values.csv", values);
  // The Maclaurin coefficients of sigmoid' and tanh', exact and as doubles.
  const std::vector<double>& sc = s.sigmoid_prime_coefficients;
  const std::vector<double>& tc = s.tanh_prime_coefficients;
  const bool exact_series = !s.sigmoid_prime_series.empty();
  CsvTable series{{"k", "sigmoid_prime_coefficient", "tanh_prime_coefficient", "sigmoid_prime_exact",
                   "tanh_prime_exact"},
                  {}};
  for (size_t k = 0; k < sc.size(); ++k)
    series.add_row({std::to_string(k), format_number(sc[k]), format_number(tc[k]),
                    exact_series ? s.sigmoid_prime_series[k] : std::string(),
                    exact_series ? s.tanh_prime_series[k] : std::string()});
  out.table("activation_series.csv", series);

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
      {"sigmoid", s.sigmoid_value},
      {"tanh", s.tanh_value},
      {"two_sigmoid_2eps_minus_1", s.tanh_from_sigmoid},
      {"identity_max_error", s.identity_max_error},
      {"sigmoid_prime_series_exact", s.sigmoid_prime_series},
      {"tanh_prime_series_exact", s.tanh_prime_series},
      {"rho_pow_T", held(s.rho_pow[last], s.rho_log10_pow[last])},
      {"rho_approx_pow_T", held(s.rho_approx_pow[last], s.rho_approx_log10_pow[last])},
      {"rho_log10_pow_T", json_number(s.rho_log10_pow[last])},
      {"rho_approx_log10_pow_T", json_number(s.rho_approx_log10_pow[last])},
      {"ratio_log10_T", json_number(s.ratio_log10[last])},
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
  // The two nearly coincide: the exact values as a line, the approximation as open circles on it. Powers
  // that leave a double's range are drawn as their log10 on a linear axis.
  bool all_held = true;
  for (size_t i = 0; i < s.steps.size(); ++i)
    all_held = all_held && s.rho_pow[i] > 0 && s.rho_approx_pow[i] > 0 &&
               representable(s.rho_pow[i], s.rho_log10_pow[i]) &&
               representable(s.rho_approx_pow[i], s.rho_approx_log10_pow[i]);
  if (!all_held) {
    r.logy = false;
    r.ylabel = "log₁₀ |ρ(ε)ᵀ| (dimensionless)";
    r.caption += " Some powers leave a double's range (10⁻³⁰⁸ to 10³⁰⁸), so the figure shows their log₁₀.";
  }
  r.series.push_back(line("exact", as_doubles(s.steps), all_held ? s.rho_pow : s.rho_log10_pow));
  r.series.push_back(line(fmt::format("order-{} approximation (circles)", order), as_doubles(s.steps),
                          all_held ? s.rho_approx_pow : s.rho_approx_log10_pow, Series::Style::points));
  r.series.back().point = 6;
  // Below: their ratio, which the log axis above hides (the two curves look alike there). As a double where
  // every ratio is one (on a log axis when it spans more than a decade), else as its log10.
  Figure panel;
  panel.title = fmt::format("Ratio ρ(ε)ᵀ exact / ρ(ε)ᵀ order {}", order);
  panel.xlabel = r.xlabel;
  panel.ylabel = "exact / approximate (dimensionless)";
  std::vector<double> ratios;
  bool finite = true, positive = true;
  for (size_t i = 0; i < s.steps.size(); ++i) {
    ratios.push_back(ratio(i));
    finite = finite && representable(ratios.back(), s.ratio_log10[i]);
    positive = positive && ratios.back() > 0;
  }
  const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
  if (!finite) {
    ratios = s.ratio_log10;
    panel.log10_y = true;
    panel.ylabel = "exact / approximate, drawn from its log₁₀ (dimensionless)";
  } else if (positive && *hi > 10 * *lo) {
    panel.logy = true;
  }
  panel.series.push_back(line(fmt::format("exact / order {}", order), as_doubles(s.steps), ratios));
  Series one = line("1: the two agree", {1.0, static_cast<double>(s.steps.back())},
                    panel.log10_y ? std::vector<double>{0.0, 0.0} : std::vector<double>{1.0, 1.0});
  one.colour = Series::grey;
  one.dash = 3;
  panel.series.push_back(one);
  r.panels.push_back(panel);
  const double q_last = ratio(last);
  r.caption += fmt::format(
      " Below: their ratio, {} at T = {}: on the log axis above the two curves look alike, but the exact powers "
      "fall {} than the approximated ones.",
      std::isfinite(q_last) ? fmt::format("{:.6g}", q_last) : fmt::format("10^{:.1f}", s.ratio_log10[last]),
      s.steps.back(),
      s.ratio_log10[last] > 0 ? "more slowly" : s.ratio_log10[last] < 0 ? "faster" : "no differently");
  add_figure(out, sec, r);

  sec.html.id = "activations";
  sec.html.title = "Activations: sigmoid' against tanh'";
  sec.html.reading = fmt::format(
      "At eps = {} one sigmoid step passes rho = {:.6f} of what a tanh step passes (order-{} approximation {:.6f}); "
      "after T = {} steps the ratio is {} exactly against {} approximated. sigmoid' <= tanh' exactly for "
      "|eps| <= {:.4f}.",
      eps, s.rho, order, s.rho_approx, s.steps.back(),
      power_text(s.rho_pow[last], s.rho_log10_pow[last], sign(s.rho, last), 3),
      power_text(s.rho_approx_pow[last], s.rho_approx_log10_pow[last], sign(s.rho_approx, last), 3),
      s.interval_exact.hi);
  sec.html.tables = {"activations.csv", "activation_values.csv", "activation_series.csv", "activation_curves.csv",
                     "activations.json"};
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
  o += fmt::format("sigmoid(eps) = {:.10g}, tanh(eps) = {:.10g}; tanh(x) = 2 sigmoid(2x) - 1 holds to {:.1e} over "
                   "x in [-20, 20]\n",
                   s.sigmoid_value, s.tanh_value, s.identity_max_error);
  // The series as polynomials in x with exact coefficients (zero terms left out).
  const auto polynomial = [](const std::vector<std::string>& c) {
    std::string p;
    for (size_t k = 0; k < c.size(); ++k) {
      if (c[k] == "0") continue;
      const bool negative = c[k][0] == '-';
      const std::string magnitude = negative ? c[k].substr(1) : c[k];
      const std::string power = k == 0 ? "" : k == 1 ? " x" : fmt::format(" x^{}", k);
      p += p.empty() ? (negative ? "-" : "") : (negative ? " - " : " + ");
      p += (magnitude == "1" && k > 0 ? std::string("x") + power.substr(2) : magnitude + power);
    }
    return p.empty() ? std::string("0") : p;
  };
  if (exact_series)
    o += fmt::format("order {}: sigmoid'(x) = {} + ...\n         tanh'(x) = {} + ...\n", order,
                     polynomial(s.sigmoid_prime_series), polynomial(s.tanh_prime_series));
  else
    o += fmt::format("order {}: the exact coefficients overflow 128-bit integers; activation_series.csv has them "
                     "as doubles\n",
                     order);
  o += "\n";
  auto interval_text = [](const Interval& iv) {
    return iv.unbounded() ? std::string("every eps") : fmt::format("|eps| <= {:.10g}", iv.hi);
  };
  o += fmt::format("sigmoid' <= tanh' for {} exactly, for {} at order {}\n\n", interval_text(s.interval_exact),
                   interval_text(s.interval_approx), order);
  o += fmt::format("{:>5}{:>16}{:>16}{:>14}", "T", "rho^T exact", fmt::format("rho^T order {}", order), "ratio");
  o += first ? fmt::format("{:>16}\n", "rho^T order 1") : std::string("\n");
  for (const size_t i : screen_rows(s.steps.size(), 20)) {
    const double q = ratio(i);
    o += fmt::format("{}{}{}{}", column(std::to_string(s.steps[i]), 5),
                     column(power_text(s.rho_pow[i], s.rho_log10_pow[i], sign(s.rho, i)), 16),
                     column(power_text(s.rho_approx_pow[i], s.rho_approx_log10_pow[i], sign(s.rho_approx, i)), 16),
                     column(std::isfinite(q) ? fmt::format("{:.6g}", q) : fmt::format("1e{:.1f}", s.ratio_log10[i]),
                            14));
    o += first ? fmt::format("{}\n", column(power_text(s.rho_first_pow[i], s.rho_first_log10_pow[i],
                                                       sign(s.rho_first, i)), 16))
               : std::string("\n");
  }
  return sec;
}

}  // namespace rnnscope
