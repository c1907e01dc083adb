// The LSTM section: its cell path against its hidden path (studies/lstm_paths.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

Section lstm_paths_section(OutputFolder& out, const std::vector<LabelledLstmPaths>& specs) {
  CsvTable t{{"model", "L", "cell_path_log10", "hidden_path_log10", "total_log10"}, {}};
  Figure f;
  f.name = "lstm_paths";
  const std::string init = init_text(specs);
  f.title = fmt::format("LSTM ({}): gradient through the cell path c, the hidden path h and both (the total)", init);
  f.xlabel = "distance L (steps)";
  f.ylabel = "gradient norm relative to L = 0 (dimensionless)";
  f.log10_y = true;
  f.caption =
      "The gradient carried back L steps through the LSTM's cell path alone (solid, the forget gates only), "
      "through its hidden path alone (dashed, W_hh and the gate derivatives) and through both with every cross "
      "term, the exact chain of the full step Jacobians on (h, c) (dotted, the total), one colour per forget bias.";
  f.key_rows = 3;
  Section sec;
  sec.html.id = "lstm";
  sec.html.title = "The LSTM's two gradient paths";
  sec.summary = nlohmann::json::object();
  sec.screen = fmt::format("LSTM paths, {}: log10 gradient norm relative to L = 0, mean over seeds x sequences\n\n",
                           init);
  sec.screen += fmt::format("{:<26}{:>6}{:>14}{:>14}{:>14}\n", "model", "L", "cell log10", "hidden log10",
                            "total log10");
  std::string reading;
  for (const auto& [label, spec, r] : specs) {
    const auto L = as_doubles(r.distance);
    for (size_t i = 0; i < r.distance.size(); ++i)
      t.add_row({label, std::to_string(r.distance[i]), format_number(r.cell_log10[i]),
                 format_number(r.hidden_log10[i]), format_number(r.total_log10[i])});
    // One colour per model: its cell path solid, its hidden path dashed, the total dotted.
    const int colour = static_cast<int>(f.series.size() / 3 % 7);
    Series cell = line("cell path c, " + label, L, r.cell_log10);
    Series hidden = line("hidden path h, " + label, L, r.hidden_log10, Series::Style::dashed);
    Series total = line("total (h, c), " + label, L, r.total_log10, Series::Style::dashed);
    cell.colour = hidden.colour = total.colour = colour;
    cell.dash = 1;
    hidden.dash = 2;
    total.dash = 3;
    f.series.push_back(cell);
    f.series.push_back(hidden);
    f.series.push_back(total);
    sec.summary[label] = {{"spec", spec_json(spec)},
                          {"cell_path_log10_at_T", json_number(r.cell_log10.back())},
                          {"hidden_path_log10_at_T", json_number(r.hidden_log10.back())},
                          {"total_log10_at_T", json_number(r.total_log10.back())},
                          {"cell_path_log10", json_array(r.cell_log10)},
                          {"hidden_path_log10", json_array(r.hidden_log10)},
                          {"total_log10", json_array(r.total_log10)}};
    sec.screen += fmt::format("{:<26}{:>6}{:>14}{:>14}{:>14}\n", label, r.distance.back(), fixed(r.cell_log10.back()),
                              fixed(r.hidden_log10.back()), fixed(r.total_log10.back()));
    reading += fmt::format("{}{}: cell path 1e{:.1f}, hidden path 1e{:.1f}, total 1e{:.1f}",
                           reading.empty() ? "" : "; ", label, r.cell_log10.back(), r.hidden_log10.back(),
                           r.total_log10.back());
  }
  add_figure(out, sec, f);
  out.table("lstm_paths.csv", t);
  out.json("lstm_paths.json", sec.summary);
  sec.html.reading = fmt::format(
      "{}. Through c the gradient is multiplied only by the forget gates, diag(f_t); through h it meets W_hh and the "
      "gate derivatives at every step; the total is the exact gradient through both and every path that crosses "
      "between them. After {} steps: {}. A forget bias of 1 keeps the cell path open far longer.",
      capitalised(init), specs.front().spec.steps, reading);
  sec.html.tables = {"lstm_paths.csv", "lstm_paths.json"};
  return sec;
}

}  // namespace rnnscope
