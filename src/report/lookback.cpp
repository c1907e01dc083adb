// The look-back section: the gradient reaching L steps back, with its bound (studies/lookback.hpp).

#include <utility>

#include "plot.hpp"

namespace rnnscope {

namespace detail {
/// The least-squares slope of a log10 curve over L >= T/10 (past the first steps' transient), finite values only.
double measured_slope(const std::vector<Index>& L, const std::vector<double>& y) {
  const size_t from = L.size() / 10;
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = from; i < L.size(); ++i) {
    if (!std::isfinite(y[i])) continue;
    const auto x = static_cast<double>(L[i]);
    n += 1;
    sx += x;
    sy += y[i];
    sxx += x * x;
    sxy += x * y[i];
  }
  const double d = n * sxx - sx * sx;
  return n >= 2 && d > 0 ? (n * sxy - sx * sy) / d : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace detail

namespace {
/// The prediction's formula for a legend.
std::string theory_formula(const MeanField& m) {
  if (m.regime.starts_with("fixed point")) return "L log10(1 − dt + dt g)";
  if (m.regime.starts_with("dynamic")) return "L λ / ln 10, Euler steps' dynamic mean field";
  if (m.regime.starts_with("linearised")) return "L log10 ρ, ρ = √χ the linearised step's edge";
  return "L log10(χ)/2";
}

/// The cells a bound formula is for, as the reading names them.
std::string bound_cells(BoundKind k) {
  switch (k) {
    case BoundKind::elman: return "the Elman cells";
    case BoundKind::ctrnn: return "the CT-RNN";
    case BoundKind::residual: return "the residual cell";
    case BoundKind::antisymmetric: return "the antisymmetric cell";
    case BoundKind::skip: return "the skip cell (K > 1)";
    case BoundKind::none: break;
  }
  return "";
}
}  // namespace

using namespace detail;

Section lookback_section(OutputFolder& out, const std::vector<LabelledLookback>& specs) {
  CsvTable t{{"model", "L", "mean_log10_ratio", "std_log10_ratio", "min_log10_ratio", "max_log10_ratio",
              "median_log10_ratio", "zero_share", "theory_log10", "bound_log10"},
             {}};
  // Trajectories that are exactly zero (a dead relu network) are counted apart; the screen gains their
  // share as a column when there are any.
  bool zeros = false;
  for (const auto& s : specs)
    for (const double z : s.result.zero_share) zeros = zeros || z > 0;
  Figure all;
  all.name = "lookback";
  const std::string init = init_text(specs);
  all.title = fmt::format("Gradient reaching the state L steps back ({}; mean over seeds and sequences)", init);
  all.xlabel = "look-back distance L (steps)";
  all.ylabel = "‖∂L/∂s(T−L)‖ / ‖∂L/∂s(T)‖ (dimensionless)";
  all.log10_y = true;
  Section sec;
  sec.html.id = "lookback";
  sec.html.title = "The look-back window";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("look-back study, {}: log10 ||dL/dh_(T-L)|| / ||dL/dh_T||, mean over seeds x sequences\n\n",
                           init);
  sec.screen += fmt::format("{:<22}{:>6}{:>14}{:>10}{:>12}{:>14}{:>14}{}\n", "model", "L", "mean log10", "std",
                            "mean-field", "bound log10", "Lyapunov max",
                            zeros ? fmt::format("{:>12}", "zero share") : "");
  std::vector<Series> theories;  // drawn after the measured curves, dotted in the cell's colour
  std::string theory_reading, theory_lines;
  std::string reading;
  std::vector<Series> bounds;  // drawn after every measured curve
  std::string last_bound;      // the formula of the last bound, for a legend with one
  std::vector<std::pair<std::string, std::string>> bound_names;  // each bound's cell and formula
  std::vector<std::vector<double>> measured;
  std::vector<std::string> per_cell;
  for (const auto& [label, spec, r] : specs) {
    const auto L = as_doubles(r.distance);
    const MeanField& theory = r.theory;
    const std::vector<double>& predicted = r.theory_log10;
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.mean_log10[i]), format_number(r.std_log10[i]),
                 format_number(r.min_log10[i]), format_number(r.max_log10[i]), format_number(r.median_log10[i]),
                 format_number(r.zero_share[i]), predicted.empty() ? "" : format_number(predicted[i]),
                 r.bound_log10.empty() ? "" : format_number(r.bound_log10[i])});
    // Measured: solid with markers (dash-dot once the seven colours come round again); bounds: dashed in the
    // same colour, no markers.
    const int colour = static_cast<int>(all.series.size() % 7);
    Series mean = line(label, L, r.mean_log10, Series::Style::linespoints);
    mean.colour = colour;
    mean.dash = all.series.size() < 7 ? 1 : 4;
    mean.markers = 10;
    all.series.push_back(mean);
    measured.push_back(all.series.back().y);
    if (!predicted.empty()) {
      Series p = line("", L, predicted, Series::Style::dashed);
      p.colour = colour;
      p.dash = 3;
      theories.push_back(p);
    }
    const std::string bound_name = bound_formula(r.bound);
    if (!r.bound_log10.empty()) {
      last_bound = bound_name;
      Series b = line("", L, r.bound_log10, Series::Style::dashed);
      b.colour = colour;
      b.dash = 2;
      bounds.push_back(b);
      bound_names.push_back({label, bound_name});
    }

    Figure one;
    one.name = "lookback_" + slug(label);
    one.title = fmt::format("Look-back window: {} ({} initialisation, H = {}, T = {})", label, to_string(spec.init),
                            spec.model.hidden_size, spec.steps);
    one.xlabel = all.xlabel;
    one.ylabel = all.ylabel;
    one.log10_y = true;
    Series m = line("measured, mean over seeds and sequences", L, r.mean_log10);
    m.y_low = r.min_log10;
    m.y_high = r.max_log10;
    m.band_label = "measured, range over seeds and sequences";
    // The range follows the measurement; a bound far above it leaves the plot, and its legend entry says where.
    fit_log10_y(one, {&m.y_low, &m.y_high, &m.y});
    one.series.push_back(std::move(m));
    if (!predicted.empty()) {
      one.series.push_back(
          line(fmt::format("mean-field prediction ({}, χ = {:.3g})", theory_formula(theory), theory.chi), L, predicted,
               Series::Style::dashed));
      one.series.back().dash = 3;
      one.series.back().colour = 2;
    }
    if (!r.bound_log10.empty()) {
      const auto& b = r.bound_log10;
      one.series.push_back(line("bound " + bound_name + bound_note(L, b, one.ymax), L, b, Series::Style::dashed));
      one.series.back().dash = 2;
      one.series.back().colour = 1;
      // Clipped at the plot's edge: a mark there says at which L it leaves.
      if (const auto leaving = leaves_range(L, b, one.ymin, one.ymax))
        one.marks.push_back({leaving->x, leaving->y,
                             fmt::format("{} leaves at L = {:g}", bound_name, L[leaving->index]), 1});
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

    const double lyap = r.lyapunov_top_mean;
    const double at_t = r.mean_log10.back();
    const double bound_t = r.bound_log10.empty() ? kNaN : r.bound_log10.back();
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"mean_log10_ratio_at_T", json_number(at_t)},
                          {"std_log10_ratio_at_T", json_number(r.std_log10.back())},
                          {"median_log10_ratio_at_T", json_number(r.median_log10.back())},
                          {"zero_share_at_T", r.zero_share.back()},
                          {"bound_log10_at_T", json_number(bound_t)},
                          {"mean_log10_ratio", json_array(r.mean_log10)},
                          {"zero_share", json_array(r.zero_share)},
                          {"theory", theory_json(theory)},
                          {"theory_log10_at_T", json_number(predicted.empty() ? kNaN : predicted.back())},
                          {"bound_log10", json_array(r.bound_log10)},
                          {"lyapunov_top_mean", json_number(lyap)}};
    // One model: the curve at up to 12 distances; several: each at L = T.
    for (const size_t i :
         specs.size() == 1 ? screen_rows(r.distance.size(), 12) : std::vector<size_t>{r.distance.size() - 1})
      sec.screen += fmt::format(
          "{:<22}{:>6}{:>14}{:>10}{:>12}{:>14}{:>14}{}\n", label, r.distance[i], fixed(r.mean_log10[i]),
          fixed(r.std_log10[i]), predicted.empty() ? "-" : fixed(predicted[i]),
          r.bound_log10.empty() ? "-" : fixed(r.bound_log10[i]),
          i + 1 == r.distance.size() ? (std::isinf(lyap) ? format_number(lyap) : fixed(lyap, 4)) : "",
          zeros ? fmt::format("{:>11.1f}%", 100 * r.zero_share[i]) : "");
    reading += fmt::format("{}{} {}", reading.empty() ? "" : ", ", label,
                           !is_zero_log10(at_t) ? fmt::format("1e{:.1f}", at_t) : std::string("exactly 0"));
    const double slope = measured_slope(r.distance, r.mean_log10);
    theory_lines += fmt::format("{:<22}", label);
    if (theory.available && std::isfinite(theory.slope_log10)) {
      // Relative where the predicted slope is not ~0 (at the edge a percentage means nothing).
      const double gap = slope - theory.slope_log10;
      theory_lines += fmt::format(
          "chi {:.4g} ({}), slope {:.4f}/step, measured {:.4f}/step ({})\n", theory.chi, to_string(theory.phase),
          theory.slope_log10, slope,
          std::abs(theory.slope_log10) > 1e-3 ? fmt::format("{:+.1f}%", 100 * gap / std::abs(theory.slope_log10))
                                              : fmt::format("{:+.4f}/step", gap));
      theory_reading += fmt::format("{}{}: predicted {:.4f} per step, measured {:.4f}",
                                    theory_reading.empty() ? "" : "; ", label, theory.slope_log10, slope);
    } else {
      theory_lines += (theory.available ? fmt::format("chi {:.4g} ({}): {}", theory.chi, to_string(theory.phase),
                                                      theory.regime)
                                        : "no prediction: " + theory.reason) +
                      "\n";
    }
  }
  sec.screen += "\nmean-field theory (docs/theory.md), log10 ratio per step:\n" + theory_lines;
  if (zeros)
    sec.screen +=
        "\nzero share: the trajectories whose gradient is exactly zero at L (counted apart; mean, std and the "
        "figures are over the others)\n";
  show_coincident(all);
  all.key_rows = static_cast<int>((all.series.size() + (bounds.empty() ? 0 : 1) + (theories.empty() ? 0 : 1) + 1) / 2);
  if (!bounds.empty()) {
    // The bounds of every cell that has one; the range follows the measured curves, so a bound above 1 leaves the plot.
    std::vector<const std::vector<double>*> curves;
    curves.reserve(measured.size());
    for (const auto& c : measured) curves.push_back(&c);
    fit_log10_y(all, curves);
    all.series.insert(all.series.end(), bounds.begin(), bounds.end());
    // Each bound labelled by a mark in its colour: where it leaves the plot (clipped at the edge), or at its
    // last point. Bounds with the same values (the CT-RNN with dt 1 and the Elman tanh cell) share one.
    // Marks on the same edge are stacked a line apart, so their texts do not overlap.
    int stacked = 0;
    for (size_t k = 0; k < bounds.size(); ++k) {
      bool repeated = false;
      for (size_t j = 0; j < k; ++j) repeated = repeated || same_values(bounds[j].y, bounds[k].y);
      if (repeated) continue;
      std::string cells = bound_names[k].first;
      for (size_t j = k + 1; j < bounds.size(); ++j)
        if (same_values(bounds[j].y, bounds[k].y)) cells += ", " + bound_names[j].first;
      const Series& b = bounds[k];
      Mark m;
      m.colour = b.colour;
      if (const auto leaving = leaves_range(b.x, b.y, all.ymin, all.ymax)) {
        m.x = leaving->x;
        m.y = leaving->y;
        m.text = fmt::format("{}: {} leaves at L = {:g}", cells, bound_names[k].second, b.x[leaving->index]);
        m.dy = leaving->y == all.ymax ? -0.9 - 1.3 * stacked++ : 0.9;
      } else {
        m.x = b.x.back();
        m.y = b.y.back();
        m.text = fmt::format("{}: {}", cells, bound_names[k].second);
      }
      all.marks.push_back(m);
    }
    Series key;
    key.label = bounds.size() == 1 ? "dashed: bound " + last_bound : "dashed: bounds (marks: where each leaves)";
    key.key_only = true;
    key.colour = Series::grey;
    key.dash = 2;
    all.series.push_back(key);
  }
  if (!theories.empty()) {
    all.series.insert(all.series.end(), theories.begin(), theories.end());
    Series key;
    key.label = "dotted: mean-field predictions";
    key.key_only = true;
    key.colour = Series::grey;
    key.dash = 3;
    all.series.push_back(key);
  }
  all.caption =
      "The share of the final gradient that reaches the state L steps back, for every cell (mean over seeds and "
      "sequences), with the closed-form bound of each cell that has one dashed in its colour (the list under the "
      "figures) and the mean-field prediction dotted.";
  out.figure(all);
  sec.html.figures.push_back(all.name);
  sec.html.captions[all.name] = plain(all.caption);
  sec.html.figures.insert(sec.html.figures.end(), per_cell.begin(), per_cell.end());
  // The stacks' end-to-end measures, beside their first layer's ratio (the look-back ratio above).
  for (const auto& [label, spec, r] : specs) {
    if (!r.end_to_end.empty()) {
      add_end_to_end(out, sec, "lookback_end_to_end_" + slug(label), label, r.end_to_end,
                     {{"layer 0's own look-back ratio", r.mean_log10}});
      sec.summary[label]["end_to_end"] = sec.summary["end_to_end"];  // with its model, as every number here
      sec.summary.erase("end_to_end");
    }
  }
  const std::string stack_reading = std::exchange(sec.html.reading, std::string());
  out.table("lookback.csv", t);
  out.json("lookback.json", sec.summary);
  const Index T = specs.front().spec.steps;
  bool tanh = false, ct1 = false;
  for (const auto& [label, spec, result] : specs) {
    tanh = tanh || spec.model.cell == CellKind::rnn_tanh;
    ct1 = ct1 || (spec.model.cell == CellKind::ctrnn && spec.model.dt == 1.0);
  }
  const std::string coincide = tanh && ct1 ? " The CT-RNN with dt 1 is exactly the Elman tanh cell, so with the "
                                             "same seed their curves coincide; it is drawn as open circles over "
                                             "the Elman tanh curve."
                                           : "";
  std::string bound_list;
  std::vector<BoundKind> listed;
  for (const auto& [label, spec, result] : specs) {
    if (result.bound == BoundKind::none ||
        std::find(listed.begin(), listed.end(), result.bound) != listed.end())
      continue;
    listed.push_back(result.bound);
    bound_list += fmt::format("{}{} for {}", bound_list.empty() ? "" : ", ", bound_formula(result.bound),
                              bound_cells(result.bound));
  }
  sec.html.reading = fmt::format(
      "{}. The share of the final gradient that survives L steps back, measured exactly through the cells' step "
      "Jacobians (mean over seeds; in the per-cell figures the band is the range). After L = {} steps: {}. Dashed: "
      "the bound where the cell has one: {}. A bound above 1 guarantees nothing (the residual, skip and "
      "antisymmetric cells' bounds are at least 1 by construction, as their identity paths are), and the plots end "
      "a little above the measured values, so such a bound leaves them at the top, where a mark says at which L. Dotted: the mean-field "
      "prediction of the typical rate (docs/theory.md), log10 per step{}.{}",
      capitalised(init), T, reading, bound_list.empty() ? std::string("none") : bound_list,
      theory_reading.empty() ? std::string(": none of these cells has one") : ": " + theory_reading, coincide);
  if (!stack_reading.empty()) sec.html.reading += " " + stack_reading;
  sec.html.tables.insert(sec.html.tables.begin(), {"lookback.csv", "lookback.json"});
  return sec;
}

}  // namespace rnnscope
