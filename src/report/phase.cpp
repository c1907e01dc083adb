// The phase-diagram section: mean-field exponent over (g, input scale), the edge of chaos, and the measured
// exponent beside it (studies/phase.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

namespace {

/// The edge chi = 1 as a line over the plane (g_c at each input scale where there is one).
Series edge_line(const PhaseResult& r) {
  Series e = line("edge of chaos, χ = 1", {}, {});
  for (size_t i = 0; i < r.input_scale.size(); ++i) {
    e.x.push_back(r.g_critical[i]);
    e.y.push_back(r.input_scale[i]);
  }
  e.colour = Series::grey;
  e.dash = 1;
  return e;
}

Figure plane_figure(const std::string& name, const std::string& title) {
  Figure f;
  f.name = name;
  f.title = title;
  f.xlabel = "recurrent scale g (W_hh ~ N(0, g²/H))";
  f.ylabel = "input scale (inputs ~ N(0, s²))";
  return f;
}

}  // namespace

nlohmann::json theory_json(const MeanField& m) {
  if (!m.available) return {{"available", false}, {"reason", m.reason}};
  return {{"available", true},
          {"regime", m.regime},
          {"phase", std::string(to_string(m.phase))},
          {"g", json_number(m.g)},
          {"input_variance", json_number(m.input_variance)},
          {"q_star", json_number(m.q_star)},
          {"chi", json_number(m.chi)},
          {"lambda", json_number(m.lambda)},
          {"slope_log10", json_number(m.slope_log10)},
          {"xi", json_number(m.xi)},
          {"g_critical", json_number(m.g_critical)}};
}

Section phase_section(OutputFolder& out, const PhaseSpec& spec, const PhaseResult& r, const std::string& label) {
  Section sec;
  sec.html.id = "phase";
  sec.html.title = "Order and chaos: the phase diagram";
  const size_t ng = r.g.size(), ns = r.input_scale.size();
  CsvTable theory{{"input_scale", "g", "chi", "lambda_mf"}, {}};
  for (size_t i = 0; i < ns; ++i)
    for (size_t j = 0; j < ng; ++j)
      theory.add_row({format_number(r.input_scale[i]), format_number(r.g[j]), format_number(r.chi[i * ng + j]),
                      format_number(r.lambda[i * ng + j])});
  CsvTable measured{{"input_scale", "g", "lambda_measured", "lambda_mf", "difference"}, {}};
  const size_t mg = r.measured_g.size(), ms = r.measured_input_scale.size();
  std::vector<double> difference;
  double worst_away = 0;  // the largest relative |difference| where |lambda_MF| > 0.1 (away from the edge)
  for (size_t i = 0; i < ms; ++i)
    for (size_t j = 0; j < mg; ++j) {
      const double m = r.measured[i * mg + j], p = r.predicted[i * mg + j];
      difference.push_back(m - p);
      if (std::isfinite(p) && std::abs(p) > 0.1) worst_away = std::max(worst_away, std::abs(m - p) / std::abs(p));
      measured.add_row({format_number(r.measured_input_scale[i]), format_number(r.measured_g[j]), format_number(m),
                        format_number(p), format_number(m - p)});
    }
  out.table("phase_theory.csv", theory);
  out.table("phase_measured.csv", measured);

  // One colour scale for the theory and the measurement, so the two pictures read alike.
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* v : {&r.lambda, &r.measured})
    for (const double x : *v)
      if (std::isfinite(x)) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
  const auto heat = [&](const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& z,
                        const std::string& what) {
    Heatmap h;
    h.x = x;
    h.y = y;
    h.z = z;
    h.colour_label = what;
    if (lo < hi) {
      h.zmin = lo;
      h.zmax = hi;
    }
    return h;
  };
  Figure t = plane_figure("phase_theory", fmt::format("Mean-field phase diagram: {}", label));
  t.heatmap = heat(r.g, r.input_scale, r.lambda, "λ_MF per step (natural log)");
  t.series.push_back(edge_line(r));
  for (size_t k = 0; k < r.markers.size(); ++k) {
    Series m = line(fmt::format("{} (g = {:.3g}, inputs N(0, 1))", r.markers[k].name, r.markers[k].g), {r.markers[k].g},
                    {r.markers[k].input_scale}, Series::Style::points);
    m.colour = static_cast<int>(k);
    m.point = k == 0 ? 7 : 5;
    t.series.push_back(m);
  }
  t.xmin = r.g.front();
  t.xmax = r.g.back();
  t.ymin = r.input_scale.front();
  t.ymax = r.input_scale.back();
  t.caption =
      "The mean-field exponent λ_MF = ln(χ)/2 per step (or ln(1 − dt + dt √χ) for the CT-RNN) over the recurrent "
      "scale g and the input scale; the grey line is the edge of chaos χ = 1, ordered to its left, chaotic to its "
      "right; the points are the usual initialisations fed inputs N(0, 1).";
  add_figure(out, sec, t);

  Figure m = plane_figure("phase_measured",
                          fmt::format("Measured largest Lyapunov exponent: {}, H = {}", label, spec.model.hidden_size));
  m.heatmap = heat(r.measured_g, r.measured_input_scale, r.measured, "λ₁ per step (natural log), measured");
  m.series.push_back(edge_line(r));
  m.xmin = t.xmin;
  m.xmax = t.xmax;
  m.ymin = t.ymin;
  m.ymax = t.ymax;
  m.caption = fmt::format(
      "The largest Lyapunov exponent measured on random networks of width {} ({} seed(s), T = {}) on a coarser grid "
      "of the same plane, in the same colours, with the theory's edge.",
      spec.model.hidden_size, spec.seeds, spec.steps);
  add_figure(out, sec, m);

  Figure d = plane_figure("phase_difference", "Measured minus mean-field exponent");
  d.heatmap = heat(r.measured_g, r.measured_input_scale, difference, "λ₁ − λ_MF per step");
  d.heatmap->zmin = d.heatmap->zmax = kNaN;
  d.series.push_back(edge_line(r));
  d.xmin = t.xmin;
  d.xmax = t.xmax;
  d.ymin = t.ymin;
  d.ymax = t.ymax;
  d.caption =
      "Where the finite network departs from the wide-network theory: largest near the edge, where the spectral "
      "radius of one drawn W exceeds g by about sqrt(ln H / 4H) and the exponent is small.";
  add_figure(out, sec, d);

  nlohmann::json edge = nlohmann::json::array();
  for (size_t i = 0; i < ns; ++i)
    edge.push_back({{"input_scale", r.input_scale[i]}, {"g_critical", json_number(r.g_critical[i])}});
  nlohmann::json markers = nlohmann::json::array();
  for (const auto& k : r.markers) markers.push_back({{"name", k.name}, {"g", k.g}, {"input_scale", k.input_scale}});
  sec.summary = {{"cell", std::string(to_string(spec.model.cell))},
                 {"hidden", spec.model.hidden_size},
                 {"input_size", spec.model.input_size},
                 {"T", spec.steps},
                 {"seeds", spec.seeds},
                 {"edge", edge},
                 {"markers", markers},
                 {"largest_relative_difference_away_from_edge", json_number(worst_away)}};
  if (spec.model.cell == CellKind::ctrnn) sec.summary["dt"] = spec.model.dt;
  out.json("phase.json", sec.summary);

  sec.screen = fmt::format("phase diagram of {}: the edge of chaos (chi = 1) at\n", label);
  for (const size_t i : screen_rows(ns, 6))
    sec.screen += fmt::format("  input scale {:>6.3f}: g_c = {}\n", r.input_scale[i],
                              std::isfinite(r.g_critical[i]) ? fmt::format("{:.4f}", r.g_critical[i]) : "none");
  sec.screen += fmt::format("\nmeasured lambda_1 (H = {}) against lambda_MF, per step:\n{:>12}{:>8}{:>12}{:>12}\n",
                            spec.model.hidden_size, "input scale", "g", "measured", "mean-field");
  for (size_t i = 0; i < ms; ++i)
    for (size_t j = 0; j < mg; ++j)
      sec.screen += fmt::format("{:>12.3f}{:>8.3f}{:>12.4f}{:>12}\n", r.measured_input_scale[i], r.measured_g[j],
                                r.measured[i * mg + j], fixed(r.predicted[i * mg + j], 4));
  sec.screen += fmt::format("\nlargest relative difference where |lambda_MF| > 0.1: {:.1f}%\n", 100 * worst_away);
  sec.html.reading = fmt::format(
      "Left of the grey line the network is ordered: a gradient shrinks by e^λ per step and the look-back window "
      "is about 1/(2|λ|) steps; right of it, chaotic: gradients grow. Inputs push the edge to larger g, since they "
      "spread the pre-activations into the activation's flat tails. The pytorch default sits at g = 1/√3, deep in "
      "the ordered phase. Measured on networks of width {}, the exponent departs from the theory by at most {:.1f}% "
      "where |λ_MF| > 0.1. Near the edge finite width dominates: one drawn W's spectral radius exceeds g by about "
      "sqrt(ln H / 4H), which without input (where the network stays at its fixed point 0 and the exponent is "
      "ln of that radius) shows along the bottom row (docs/theory.md).",
      spec.model.hidden_size, 100 * worst_away);
  sec.html.tables = {"phase_theory.csv", "phase_measured.csv", "phase.json"};
  return sec;
}

}  // namespace rnnscope
