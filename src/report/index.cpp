// The report of a run: cell labels, summary.json and index.html from its sections.

#include <filesystem>

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

std::string cell_label(const ModelSpec& m) {
  switch (m.cell) {
    case CellKind::rnn_tanh: return "Elman tanh";
    case CellKind::rnn_relu: return "Elman relu";
    case CellKind::rnn_sigmoid: return "Elman sigmoid";
    case CellKind::lstm: return "LSTM";
    case CellKind::gru: return "GRU";
    case CellKind::ctrnn: return fmt::format("CT-RNN dt {}", m.dt);
    case CellKind::rnn_residual: return "residual tanh";
    case CellKind::rnn_skip: return fmt::format("skip K {}", m.skip);
    case CellKind::rnn_antisymmetric: return fmt::format("antisymmetric eps {}", m.eps);
  }
  return "?";
}

std::string files_written(const OutputFolder& out) {
  // Figures gnuplot could not draw are recorded (so --force can remove a partial image) but not counted.
  size_t written = 0;
  for (const auto& f : out.files()) {
    std::error_code ec;
    if (std::filesystem::exists(out.dir() / f, ec)) ++written;
  }
  std::string s = fmt::format("wrote {} files to {}/ (open index.html)", written, out.dir().string());
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

}  // namespace rnnscope
