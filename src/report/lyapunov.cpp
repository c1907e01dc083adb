// The Lyapunov section: spectra of exponents per cell (studies/lyapunov.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

namespace detail {

Figure lyapunov_figure(const std::string& name, const std::string& title) {
  Figure f;
  f.name = name;
  f.title = title;
  f.xlabel = "exponent index i (largest first)";
  f.ylabel = "exponent λᵢ (1/step, natural log)";
  return f;
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

}  // namespace detail

namespace {

/// "LSTM, state (h, c): 2H = 64 exponents" for a cell whose state is wider than H.
std::string lyapunov_label(const std::string& label, CellKind cell, size_t exponents) {
  if (cell == CellKind::lstm) return fmt::format("{}, state (h, c): 2H = {} exponents", label, exponents);
  if (cell == CellKind::rnn_skip) return fmt::format("{}, state h_t .. h_(t-K+1): KH = {} exponents", label, exponents);
  return label;
}

}  // namespace

Section lyapunov_section(OutputFolder& out, const std::vector<LabelledLyapunov>& specs) {
  CsvTable t{{"model", "index", "mean", "std", "theory"}, {}};
  const std::string init = init_text(specs);
  Figure f = lyapunov_figure("lyapunov", fmt::format("Lyapunov spectra ({}; mean over seeds and sequences)", init));
  Section sec;
  sec.html.id = "lyapunov";
  sec.html.title = "Lyapunov spectra";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("Lyapunov spectra, {}, mean over seeds x sequences (1/step)\n\n", init);
  sec.screen += fmt::format("{:<22}{:>12}{:>12}{:>12}{:>14}\n", "model", "lambda_1", "lambda_2", "lambda_last",
                            "mean-field");
  std::string reading, notes;
  for (const auto& [label, spec, r] : specs) {
    const MeanField& theory = r.theory;
    std::vector<double> idx, lo, hi;
    for (size_t i = 0; i < r.mean.size(); ++i) {
      idx.push_back(static_cast<double>(i + 1));
      lo.push_back(r.mean[i] - r.std[i]);
      hi.push_back(r.mean[i] + r.std[i]);
      t.add_row({label, std::to_string(i + 1), format_number(r.mean[i]), format_number(r.std[i]),
                 i == 0 && theory.available ? format_number(theory.lambda) : ""});
    }
    Series s = line(lyapunov_label(label, spec.model.cell, r.mean.size()), idx, r.mean, Series::Style::linespoints);
    s.y_low = lo;
    s.y_high = hi;
    s.markers = 16;
    s.dash = f.series.size() < 7 ? 1 : 4;  // dash-dot once the seven colours come round again
    f.series.push_back(std::move(s));
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"largest", json_number(r.mean.front())},
                          {"smallest", json_number(r.mean.back())},
                          {"mean", json_array(r.mean)},
                          {"std", json_array(r.std)},
                          {"theory", theory_json(theory)}};
    sec.screen += fmt::format("{:<22}{:>12.4f}{:>12}{:>12.4f}{:>14}\n", label, r.mean.front(),
                              r.mean.size() > 1 ? fixed(r.mean[1], 4) : std::string("-"), r.mean.back(),
                              theory.available ? fixed(theory.lambda, 4) : "-");
    reading += fmt::format("{}{} {:.3f}", reading.empty() ? "" : ", ", label, r.mean.front());
    if (theory.available && std::isfinite(theory.lambda))
      reading += fmt::format(" (mean-field {:.3f}, {})", theory.lambda, to_string(theory.phase));
    else if (!theory.available)
      notes += fmt::format("{}{}: {}", notes.empty() ? "" : "; ", label, theory.reason);
  }
  show_coincident(f);
  // The mean-field prediction of lambda_1: an open diamond at index 1 in the cell's colour.
  std::vector<Series> predictions;
  for (size_t k = 0; k < specs.size(); ++k) {
    const MeanField& m = specs[k].result.theory;
    if (!m.available || !std::isfinite(m.lambda)) continue;
    Series p = line("", {1.0}, {m.lambda}, Series::Style::points);
    p.colour = static_cast<int>(k % 7);
    p.point = 12;
    predictions.push_back(p);
  }
  clip_lyapunov(f);
  if (!predictions.empty()) {
    f.series.insert(f.series.end(), predictions.begin(), predictions.end());
    Series key;
    key.label = "open diamond: mean-field λ_MF, the prediction of λ₁, in the cell's colour";
    key.key_only = true;
    key.style = Series::Style::points;
    key.point = 12;
    key.colour = Series::grey;
    f.series.push_back(key);
  }
  f.key_rows = static_cast<int>((f.series.size() - predictions.size() + 1) / 2);
  f.caption =
      "The Lyapunov spectrum of each cell, largest exponent first: mean (line) and ± one standard deviation (band) "
      "over seeds and sequences; exp(λ₁) is the asymptotic per-step growth of the Jacobian chains.";
  add_figure(out, sec, f);
  out.table("lyapunov.csv", t);
  out.json("lyapunov.json", sec.summary);
  sec.html.reading = fmt::format(
      "{}. The exponents are the average per-step log growth of the directions the step Jacobians stretch (QR "
      "re-orthonormalisation). The largest, lambda_1 = {}, is the rate at which the longest-lived gradient decays "
      "(negative) or explodes (positive): exp(lambda_1) per step. In brackets, the mean-field prediction "
      "lambda_MF of a wide random network with the same initialisation (docs/theory.md).{}",
      capitalised(init), reading, notes.empty() ? std::string() : " No prediction for " + notes + ".");
  sec.html.tables = {"lyapunov.csv", "lyapunov.json"};
  return sec;
}

}  // namespace rnnscope
