// The end-to-end measure of a stack (studies/end_to_end.hpp): a table, a figure beside the layers' own chains,
// summary entries and the verdict line, added to a section (analyze's own, or the look-back section).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

namespace {

std::string quantity_name(int layer) { return layer < 0 ? std::string("input") : fmt::format("h{}", layer); }

std::string half_life_text(const EndToEndCurve& c) {
  return c.half_life >= 0 ? fmt::format("L = {}", c.half_life) : std::string("never within T");
}

}  // namespace

std::string end_to_end_verdict(const EndToEndResult& r, EndToEndLoss loss) {
  const EndToEndCurve& c = r.curve(loss, -1);
  const Index longest = r.distance.empty() ? 0 : r.distance.back();
  return fmt::format("verdict, loss on {}: the input {} steps back receives 10^{} of the last step's gradient; it {}",
                     loss == EndToEndLoss::last ? "the last step" : "every step", longest, fixed(c.final_log10, 2),
                     c.half_life >= 0
                         ? fmt::format("falls below 1e-3 at L = {} (the half-life: {} steps)", c.half_life, c.half_life)
                         : std::string("does not fall below 1e-3 within T"));
}

void add_end_to_end(OutputFolder& out, Section& sec, const std::string& stem, const std::string& label,
                    const EndToEndResult& r, const std::vector<std::pair<std::string, std::vector<double>>>& chains) {
  CsvTable t{{"loss", "quantity", "L", "mean_log10_ratio", "std_log10_ratio", "min_log10_ratio", "max_log10_ratio",
              "median_log10_ratio", "zero_share"},
             {}};
  for (const auto& c : r.curves)
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({to_string(c.loss), quantity_name(c.layer), std::to_string(r.distance[i]),
                 format_number(c.mean_log10[i]), format_number(c.std_log10[i]), format_number(c.min_log10[i]),
                 format_number(c.max_log10[i]), format_number(c.median_log10[i]), format_number(c.zero_share[i])});
  out.table(stem + ".csv", t);

  const auto L = as_doubles(r.distance);
  Figure f;
  f.name = stem;
  f.title = label.find(" layers") != std::string::npos  // "LSTM 2 layers" already says it
                ? fmt::format("End to end through the stack: {}", label)
                : fmt::format("End to end through the stack: {}, {} layers", label, r.layers);
  f.xlabel = "distance from the last step L (steps)";
  f.ylabel = "‖∂L/∂q(T−L)‖ / ‖∂L/∂q(T)‖ (dimensionless)";
  f.log10_y = true;
  std::vector<const std::vector<double>*> fitted;
  int colour = 0;
  for (const auto& c : r.curves) {
    const bool last = c.loss == EndToEndLoss::last;
    Series s =
        line(fmt::format("{}, loss on {}", c.layer < 0 ? std::string("input x") : fmt::format("h of layer {}", c.layer),
                         last ? "the last step" : "every step"),
             L, c.mean_log10, last ? Series::Style::lines : Series::Style::dashed);
    s.colour = (colour++) % (static_cast<int>(r.layers) + 1);
    s.dash = last ? 1 : 2;
    f.series.push_back(std::move(s));
  }
  const size_t curves = f.series.size();  // fitted below, once f.series no longer grows
  // The layers' own chains (the layer-by-layer measure) dotted in grey, cut to the same distances.
  std::vector<std::vector<double>> cut;
  for (const auto& [name, chain] : chains) {
    cut.emplace_back(chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(std::min(chain.size(), L.size())));
    Series s = line(name, std::vector<double>(L.begin(), L.begin() + static_cast<std::ptrdiff_t>(cut.back().size())),
                    cut.back(), Series::Style::dashed);
    s.colour = Series::grey;
    s.dash = 3;
    f.series.push_back(std::move(s));
  }
  Series floor_line = line("10⁻³ of the last step's", {L.front(), L.back()}, {-3.0, -3.0}, Series::Style::dashed);
  floor_line.colour = Series::grey;
  floor_line.dash = 2;
  f.series.push_back(std::move(floor_line));
  for (size_t i = 0; i < curves; ++i) fitted.push_back(&f.series[i].y);
  std::vector<double> ends{-3.0};
  fitted.push_back(&ends);
  fit_log10_y(f, fitted);
  f.caption = fmt::format(
      "The gradient of a loss on the top layer's outputs that reaches the input and each layer's output L steps "
      "before the last, relative to the last step's, through the whole {}-layer stack (mean of log10 over the "
      "sequences that are not exactly zero); solid: a loss on the last step, dashed: on every step; grey dotted: "
      "each layer's own Jacobian chain, the layer-by-layer measure.",
      r.layers);
  add_figure(out, sec, f);
  sec.html.tables.push_back(stem + ".csv");

  nlohmann::json j = nlohmann::json::object();
  j["layers"] = r.layers;
  j["longest_L"] = r.distance.empty() ? 0 : r.distance.back();
  for (const auto& c : r.curves)
    j[std::string(to_string(c.loss))][quantity_name(c.layer)] = {
        {"log10_ratio_at_longest_L", json_number(c.final_log10)},
        {"zero_share_at_longest_L", json_number(c.zero_share.empty() ? kNaN : c.zero_share.back())},
        {"half_life", c.half_life >= 0 ? nlohmann::json(c.half_life) : nlohmann::json(nullptr)},
        {"sequences", c.sequences},
        {"mean_log10_ratio", json_array(c.mean_log10)}};
  sec.summary["end_to_end"] = j;

  const Index longest = r.distance.empty() ? 0 : r.distance.back();
  sec.screen += fmt::format(
      "\nend to end through the {}-layer stack ({}): log10 ||dL/dq_(T-L)|| / ||dL/dq_T||, mean over sequences\n",
      r.layers, label);
  sec.screen += fmt::format("{:<8}{:<10}{:>16}{:>18}{:>12}\n", "loss", "quantity", fmt::format("at L = {}", longest),
                            "below 1e-3 at", "zero share");
  for (const auto& c : r.curves)
    sec.screen += fmt::format("{:<8}{:<10}{:>16}{:>18}{:>11.1f}%\n", to_string(c.loss), quantity_name(c.layer),
                              fixed(c.final_log10), c.half_life >= 0 ? fmt::format("L = {}", c.half_life) : "never",
                              100 * (c.zero_share.empty() ? 0.0 : c.zero_share.back()));
  for (const auto& [name, chain] : chains)
    if (static_cast<size_t>(longest) < chain.size())
      sec.screen += fmt::format("{:<18}{:>16}\n", name, fixed(chain[static_cast<size_t>(longest)]));
  sec.screen += end_to_end_verdict(r, EndToEndLoss::last) + "\n" + end_to_end_verdict(r, EndToEndLoss::every) + "\n";
  const EndToEndCurve& last = r.curve(EndToEndLoss::last, -1);
  sec.html.reading += fmt::format(
      "{}End to end through the {}-layer {} stack (a loss on the last step): the input {} steps back receives "
      "10^{} of the last step's gradient, below 10⁻³ from {}; each layer's own chain alone would say {}.",
      sec.html.reading.empty() ? "" : " ", r.layers, label, longest, fixed(last.final_log10, 2), half_life_text(last),
      [&] {
        std::string s;
        for (const auto& [name, chain] : chains)
          if (static_cast<size_t>(longest) < chain.size())
            s += fmt::format("{}{} 10^{}", s.empty() ? "" : ", ", name, fixed(chain[static_cast<size_t>(longest)], 2));
        return s.empty() ? std::string("nothing more") : s;
      }());
}

}  // namespace rnnscope
