// The contributions section: dL/dW_hh by temporal distance (studies/contributions.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

Section contributions_section(OutputFolder& out, const std::vector<LabelledContributions>& specs) {
  CsvTable t{{"model", "distance", "mean_log10_relative", "std_log10_relative", "zero_share", "theory_log10"}, {}};
  Figure f;
  f.name = "contributions";
  const std::string init = init_text(specs);
  f.title = fmt::format("Contribution of each temporal distance to ∂L/∂Wₕₕ ({}; mean over seeds)", init);
  f.xlabel = "temporal distance t − k (steps)";
  f.ylabel = "‖contribution‖ / ‖∂L/∂Wₕₕ‖ (dimensionless)";
  f.log10_y = true;
  f.caption =
      "How much of the BPTT gradient ∂L/∂W_hh comes from terms linking steps t − k apart, relative to the whole "
      "gradient (mean of log10 over seeds), for every cell; dotted: the mean-field slope drawn from the measured "
      "d = 0 (docs/theory.md).";
  Section sec;
  sec.html.id = "contributions";
  sec.html.title = "BPTT contributions by temporal distance";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("BPTT contributions by distance d, {}: log10 ||contribution_d|| / ||dL/dW_hh||, mean over "
                           "seeds\n\n",
                           init);
  sec.screen += fmt::format("{:<22}{:>12}{:>12}{:>12}{:>14}\n", "model", "d = 1", "d = 10", "d = T-1", "sum check");
  auto at = [](const std::vector<double>& v, size_t i) { return i < v.size() ? fixed(v[i]) : std::string("-"); };
  double worst = 0;
  std::string reading, theory_lines;
  for (const auto& [label, spec, r] : specs) {
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.mean_log10[i]), format_number(r.std_log10[i]),
                 format_number(r.zero_share[i]), r.theory_log10.empty() ? "" : format_number(r.theory_log10[i])});
    f.series.push_back(line(label, as_doubles(r.distance), r.mean_log10, Series::Style::linespoints));
    f.series.back().dash = 1;
    f.series.back().markers = 10;
    const int colour = f.series.back().colour;
    if (!r.theory_log10.empty()) {
      f.series.push_back(line("", as_doubles(r.distance), r.theory_log10, Series::Style::dashed));
      f.series.back().dash = 3;
      f.series.back().colour = colour;
      // The measured slope: least squares over d >= T/10, as in the look-back section.
      const double slope = measured_slope(r.distance, r.mean_log10);
      theory_lines += fmt::format("{:<22}{:.4f} per step predicted ({}), {} measured\n", label,
                                  r.theory.slope_log10, to_string(r.theory.phase),
                                  std::isfinite(slope) ? fmt::format("{:.4f}", slope) : "-");
    } else {
      theory_lines += fmt::format("{:<22}no prediction: {}\n", label,
                                  r.theory.reason.empty() ? r.theory.regime : r.theory.reason);
    }
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"max_sum_error", r.max_sum_error},
                          {"mean_log10_relative", json_array(r.mean_log10)},
                          {"theory", theory_json(r.theory)}};
    sec.screen += fmt::format("{:<22}{:>12}{:>12}{:>12}{:>14.1e}\n", label, at(r.mean_log10, 1),
                              at(r.mean_log10, 10), fixed(r.mean_log10.back()), r.max_sum_error);
    worst = std::max(worst, r.max_sum_error);
    if (r.mean_log10.size() > 10)
      reading += fmt::format("{}{} 1e{:.1f}", reading.empty() ? "" : ", ", label, r.mean_log10[10]);
  }
  sec.screen += "\nmean-field theory (docs/theory.md), log10 contribution per step of distance:\n" + theory_lines;
  show_coincident(f);
  f.key_rows = static_cast<int>((f.series.size() + 1) / 2);
  add_figure(out, sec, f);
  out.table("contributions.csv", t);
  out.json("contributions.json", sec.summary);
  sec.html.reading = fmt::format(
      "{}. dL/dW_hh = sum over (t, k) of the terms carrying the loss at step t back to step k; grouped by distance t - "
      "k, they show how little of the gradient comes from far back{}. The groups add up to the BPTT gradient to "
      "{:.1e} relative.",
      capitalised(init), reading.empty() ? "" : " (at distance 10: " + reading + ")", worst);
  sec.html.tables = {"contributions.csv", "contributions.json"};
  return sec;
}

}  // namespace rnnscope
