// The Conv1D section: causal convolution stacks, in the report beside an RNN (studies/conv.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

Section conv_section(OutputFolder& out, const std::vector<LabelledConv>& convs, const LabelledLookback* rnn) {
  CsvTable t{{"model", "distance", "gradient_norm", "relative_to_distance_0"}, {}};
  Figure f;
  f.name = "conv_distance";
  f.title = rnn ? "Conv1D stacks beside an RNN: gradient reaching the input d steps back"
                : "Conv1D stacks: gradient reaching the input d steps back";
  f.xlabel = "distance d (steps)";
  f.ylabel = "gradient norm relative to d = 0 (dimensionless)";
  f.logy = true;
  Section sec;
  sec.html.id = "conv1d";
  sec.html.title = rnn ? "Conv1D stacks beside the RNNs" : "The receptive field of a causal Conv1D stack";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("{:<34}{:>10}{:>16}{:>18}\n", "model", "field", "zero past it", "largest past it");

  static const LookbackResult no_rnn;
  const LookbackResult& rnn_r = rnn ? rnn->result : no_rnn;
  // The x axis ends at twice the largest receptive field (when the sequences are longer than three times it), so
  // the stacks' nonzero part is not squeezed against the axis; the RNN's curve continues past it.
  Index widest = 0, longest = 0;
  for (const auto& c : convs) {
    widest = std::max(widest, c.result.receptive_field);
    if (!rnn && !c.result.distance.empty()) longest = std::max(longest, c.result.distance.back());
  }
  if (rnn && !rnn_r.distance.empty()) longest = rnn_r.distance.back();
  const double shown = longest > 3 * widest ? static_cast<double>(2 * widest) : INFINITY;
  if (std::isfinite(shown)) {
    f.xmin = 0;
    f.xmax = shown;
  }
  double smallest = 1;
  for (const auto& c : convs)
    for (size_t i = 0; i < c.result.distance.size(); ++i)
      if (c.result.norm[i] > 0 && static_cast<double>(c.result.distance[i]) <= shown)
        smallest = std::min(smallest, c.result.relative[i]);
  for (size_t i = 0; i < rnn_r.distance.size(); ++i)
    if (!is_zero_log10(rnn_r.mean_log10[i]) && static_cast<double>(rnn_r.distance[i]) <= shown)
      smallest = std::min(smallest, std::pow(10.0, rnn_r.mean_log10[i]));
  // Exact zeros cannot sit on a log axis: they are drawn on a floor line a decade or more below every nonzero value shown.
  const int floor_exp = static_cast<int>(std::floor(std::log10(smallest))) - 1;
  std::string reading;
  for (size_t c = 0; c < convs.size(); ++c) {
    const auto& [label, spec, r] = convs[c];
    // One floor line per stack, a decade apart, so their zero marks do not hide each other.
    const int zero_exp = floor_exp - static_cast<int>(c);
    const double zero_at = std::pow(10.0, zero_exp);
    std::vector<double> d, rel, zx, zy;
    const double largest_past = r.largest_norm_past_receptive_field;
    const bool zero_past = r.zero_past_receptive_field;
    for (size_t i = 0; i < r.distance.size(); ++i) {
      const double v = r.relative[i];
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.norm[i]), format_number(v)});
      d.push_back(static_cast<double>(r.distance[i]));
      rel.push_back(v > 0 ? v : kNaN);
      if (r.norm[i] == 0 && static_cast<double>(r.distance[i]) <= shown) {
        zx.push_back(static_cast<double>(r.distance[i]));
        zy.push_back(zero_at);
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
    // "-" where the sequence is no longer than the field, so no distance lies past it.
    const bool any_past = static_cast<Index>(r.distance.size()) > r.receptive_field;
    sec.screen += fmt::format("{:<34}{:>10}{:>16}{:>18.3g}\n", label, r.receptive_field,
                              !any_past ? "-" : zero_past ? "yes" : "NO", largest_past);
    reading += fmt::format("{}{} beyond d = {}", reading.empty() ? "" : ", ", label, r.receptive_field - 1);
  }
  if (!rnn) {
    // On its own, each stack's field from its spec in closed form, and the gradient at the distances around it.
    for (const auto& [label, spec, r] : convs) {
      std::string spans;
      Index field = 1;
      for (const Index d : spec.dilations) {
        spans += fmt::format("{}{}", spans.empty() ? "" : " + ", d);
        field += (spec.kernel_size - 1) * d;
      }
      sec.screen += fmt::format("\n{}: receptive field 1 + (K-1)(sum of dilations) = 1 + {} x ({}) = {}\n", label,
                                spec.kernel_size - 1, spans, field);
      sec.screen += fmt::format("{:>10}{:>16}{:>16}\n", "distance d", "||dy/dx_d||", "relative to 0");
      const Index F = r.receptive_field, T = static_cast<Index>(r.distance.size());
      std::vector<Index> shown_at{0, 1, F / 2, F - 2, F - 1, F, F + 1, 2 * F, T - 1};
      std::sort(shown_at.begin(), shown_at.end());
      shown_at.erase(std::unique(shown_at.begin(), shown_at.end()), shown_at.end());
      for (const Index d : shown_at) {
        if (d < 0 || d >= T) continue;
        sec.screen += fmt::format("{:>10}{:>16.6g}{:>16.6g}{}\n", d, r.norm[d], r.relative[d],
                                  d == F ? "   <- the field" : "");
      }
    }
  }
  if (rnn) {
    Series rnn_curve = line(fmt::format("{} RNN ({}), look-back", rnn->label, init_label(rnn->spec)),
                            as_doubles(rnn_r.distance), unlog(rnn_r.mean_log10));
    rnn_curve.colour = 6;
    rnn_curve.dash = 1;
    f.series.push_back(rnn_curve);
  }
  f.key_rows = 3;
  // Room below the lowest floor line, so its marks do not sit on the axis.
  f.ymin = std::pow(10.0, floor_exp - static_cast<double>(convs.size()) + 0.5);
  f.caption = "The input gradient of each causal Conv1D stack d steps back, relative to d = 0: exactly zero from the "
              "receptive field (dashed) on, drawn as marks on a floor line";
  if (rnn) {
    f.caption += fmt::format(
        ", beside the {} RNN's look-back ratio ({} initialisation), which decays smoothly{}", rnn->label,
        init_label(rnn->spec),
        std::isfinite(shown) && !is_zero_log10(rnn_r.mean_log10.back())
            ? fmt::format(" and is still {} at d = {}, past the figure's end", about(rnn_r.mean_log10.back()),
                          rnn_r.distance.back())
            : std::string(" and never reaches zero"));
    sec.summary[rnn->label] = {{"spec", spec_json(rnn->spec)}, {"mean_log10_ratio", json_array(rnn_r.mean_log10)}};
  }
  f.caption += ".";
  add_figure(out, sec, f);
  out.table("conv_distance.csv", t);
  out.json("conv_distance.json", sec.summary);
  sec.html.reading = fmt::format(
      "A causal convolution stack sees only its receptive field: the gradient is exactly zero ({}), drawn as marks on "
      "the floor line because zero has no place on a log axis.{}{}",
      reading,
      rnn ? fmt::format(" The {} RNN's gradient ({} initialisation) instead decays smoothly and never reaches zero.",
                        rnn->label, init_label(rnn->spec))
          : std::string(),
      std::isfinite(shown) ? fmt::format(" The figure ends at d = {:g}, twice the largest receptive field.", shown)
                           : std::string());
  sec.html.tables = {"conv_distance.csv", "conv_distance.json"};
  return sec;
}

}  // namespace rnnscope
