// The contributions section: dL/dW_hh by temporal distance (studies/contributions.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

namespace {

// The terms (t, k) of one network's dL/dW_hh (ContributionSpec::terms): their norms (terms.csv), every entry
// (term_entries.csv) and the entries of their sum beside BPTT's (terms_check.csv); a table on the screen.
void terms_files(OutputFolder& out, Section& sec, const std::string& label, const ContributionTerms& r) {
  const double total = r.bptt.norm();
  CsvTable norms{{"t", "k", "distance", "frobenius_norm", "log10_relative"}, {}};
  CsvTable entries{{"t", "k", "row", "col", "value"}, {}};
  Mat<double> sum = Mat<double>::Zero(r.bptt.rows(), r.bptt.cols());
  nlohmann::json rows = nlohmann::json::array();
  sec.screen += fmt::format(
      "\nthe terms (t, k) of dL/dW_hh = sum_t sum_(k<=t) (dL_t/ds_t)(ds_t/ds_k)(d+s_k/dW_hh), the first seed's "
      "network:\n{:>4}{:>4}{:>6}{:>16}{:>14}\n",
      "t", "k", "t-k", "||term||_F", "log10 rel");
  for (const auto& term : r.terms) {
    const double n = term.weight_hh.norm();
    const double rel = n > 0 && total > 0 ? std::log10(n) - std::log10(total) : -std::numeric_limits<double>::infinity();
    norms.add_row({std::to_string(term.t), std::to_string(term.k), std::to_string(term.t - term.k), format_number(n),
                   format_number(rel)});
    for (Index i = 0; i < term.weight_hh.rows(); ++i)
      for (Index j = 0; j < term.weight_hh.cols(); ++j)
        entries.add_row({std::to_string(term.t), std::to_string(term.k), std::to_string(i), std::to_string(j),
                         format_number(term.weight_hh(i, j))});
    sum += term.weight_hh;
    rows.push_back({{"t", term.t}, {"k", term.k}, {"frobenius_norm", n}});
    sec.screen += fmt::format("{:>4}{:>4}{:>6}{:>16.6e}{:>14}\n", term.t, term.k, term.t - term.k, n, fixed(rel));
  }
  CsvTable check{{"row", "col", "bptt", "sum_of_terms", "difference"}, {}};
  for (Index i = 0; i < r.bptt.rows(); ++i)
    for (Index j = 0; j < r.bptt.cols(); ++j)
      check.add_row({std::to_string(i), std::to_string(j), format_number(r.bptt(i, j)), format_number(sum(i, j)),
                     format_number(sum(i, j) - r.bptt(i, j))});
  sec.screen += fmt::format(
      "check: the {} terms add up to the BPTT dL/dW_hh ({} x {}, ||.||_F = {:.6e}) within {:.1e} (max abs "
      "difference over the entries)\n",
      r.terms.size(), r.bptt.rows(), r.bptt.cols(), total, r.max_abs_error);
  out.table("terms.csv", norms);
  out.table("term_entries.csv", entries);
  out.table("terms_check.csv", check);
  sec.html.tables.insert(sec.html.tables.end(), {"terms.csv", "term_entries.csv", "terms_check.csv"});
  sec.summary[label]["terms"] = {{"seed_index", 0},
                          {"bptt_frobenius_norm", total},
                          {"max_abs_error", r.max_abs_error},
                          {"terms", rows}};
}

}  // namespace

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
  // The terms (t, k) of one run (the files have no model column).
  const LabelledContributions* with_terms = nullptr;
  for (const auto& run : specs)
    if (!run.result.terms.terms.empty()) {
      require(with_terms == nullptr, "contributions_section: the terms (t, k) of one run only");
      with_terms = &run;
    }
  if (with_terms) terms_files(out, sec, with_terms->label, with_terms->result.terms);
  out.json("contributions.json", sec.summary);
  sec.html.reading = fmt::format(
      "{}. dL/dW_hh = sum over (t, k) of the terms carrying the loss at step t back to step k; grouped by distance t - "
      "k, they show how little of the gradient comes from far back{}. The groups add up to the BPTT gradient to "
      "{:.1e} relative.",
      capitalised(init), reading.empty() ? "" : " (at distance 10: " + reading + ")", worst);
  sec.html.tables.insert(sec.html.tables.begin(), {"contributions.csv", "contributions.json"});
  return sec;
}

}  // namespace rnnscope
