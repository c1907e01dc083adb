#include "rnnscope/io/learnability_files.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/training_files.hpp"

namespace rnnscope {

namespace {

const std::vector<std::string> kRunsHeader = {
    "run",       "task",    "cell",  "init",           "T",            "seed",     "solved",  "solved_at_step", "end",
    "eval_loss", "eval_metric", "steps", "seconds", "lookback_log10", "lyapunov_max", "norm_max", "rho_max", "xi_mf"};
const std::vector<std::string> kBlocksHeader = {"run", "block", "norm", "rho"};

/// The lines of a CSV file without quoting (rnnscope's tables have no commas
/// in their fields), each split at its commas. Empty lines are refused.
std::vector<std::vector<std::string>> split_csv(const std::string& text, const std::string& file) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    require(!line.empty(), fmt::format("{}, line {}: an empty line", file, number));
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = line.find(',', start);
      fields.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    lines.push_back(std::move(fields));
  }
  require(!text.empty() && text.back() == '\n', fmt::format("{}: the last line is incomplete (no newline)", file));
  return lines;
}

struct FieldReader {
  const std::string& file;
  std::size_t line;

  [[noreturn]] void fail(const std::string& what) const {
    throw InvalidInput(fmt::format("{}, line {}: {}", file, line, what));
  }
  double number(const std::string& s, const char* column) const {
    // A missing value is an empty cell; "nan" is how studies written before spelled it.
    if (s.empty() || s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE)
      fail(fmt::format("{} '{}' is not a number", column, s));
    return v;
  }
  std::int64_t integer(const std::string& s, const char* column) const {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE)
      fail(fmt::format("{} '{}' is not an integer", column, s));
    return v;
  }
  std::uint64_t unsigned_integer(const std::string& s, const char* column) const {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || s[0] == '-' || end != s.c_str() + s.size() || errno == ERANGE)
      fail(fmt::format("{} '{}' is not a non-negative integer", column, s));
    return v;
  }
};

}  // namespace

nlohmann::json to_json(const LearnabilitySpec& spec) {
  nlohmann::json arms = nlohmann::json::array();
  for (const auto& a : spec.arms) arms.push_back({{"cell", to_string(a.cell)}, {"init", a.init_name()}});
  return {{"format", "rnnscope-learnability"},
          {"version", 1},
          {"arms", arms},
          {"lengths", spec.lengths},
          {"seeds", spec.seeds},
          {"dtype", spec.f64 ? "f64" : "f32"},
          {"train", to_json(spec.train)}};
}

LearnabilitySpec learnability_spec_from_json(const nlohmann::json& j) {
  LearnabilitySpec s;
  try {
    require(j.at("format").get<std::string>() == "rnnscope-learnability" && j.at("version").get<int>() == 1,
            "not a learnability study of this version");
    std::vector<std::string> cells, inits;
    for (const auto& a : j.at("arms")) {
      const std::string cell = a.at("cell").get<std::string>();
      if (std::find(cells.begin(), cells.end(), cell) == cells.end()) cells.push_back(cell);
      inits.push_back(cell + ":" + a.at("init").get<std::string>());
    }
    s.arms = parse_arms(cells, inits);
    s.lengths = j.at("lengths").get<std::vector<Index>>();
    s.seeds = j.at("seeds").get<int>();
    const std::string dtype = j.at("dtype").get<std::string>();
    require(dtype == "f32" || dtype == "f64", fmt::format("dtype '{}' is neither f32 nor f64", dtype));
    s.f64 = dtype == "f64";
    s.train = train_spec_from_json(j.at("train"));
  } catch (const nlohmann::json::exception& e) {
    throw InvalidInput(fmt::format("missing or malformed field ({})", e.what()));
  }
  s.validate();
  return s;
}

CsvTable runs_table(const LearnabilitySpec& spec, const std::vector<LearnabilityRow>& rows) {
  CsvTable t;
  t.header = kRunsHeader;
  for (const auto& r : rows)
    t.add_row({std::to_string(r.task), std::string(to_string(spec.train.task.kind)), r.cell, r.init,
               std::to_string(r.T), std::to_string(r.seed), r.solved ? "1" : "0",
               r.solved_at ? std::to_string(*r.solved_at) : std::string(), r.end, format_number(r.eval_loss),
               format_number(r.eval_metric), std::to_string(r.steps), format_number(r.seconds),
               format_number(r.lookback_log10), format_number(r.lyapunov_max), format_number(r.norm_max),
               format_number(r.rho_max), format_number(r.xi)});
  return t;
}

CsvTable blocks_table(const std::vector<LearnabilityRow>& rows) {
  CsvTable t;
  t.header = kBlocksHeader;
  for (const auto& r : rows)
    for (const auto& b : r.blocks)
      t.add_row({std::to_string(r.task), b.name, format_number(b.norm), format_number(b.rho)});
  return t;
}

std::vector<LearnabilityRow> read_learnability_rows(const LearnabilitySpec& spec, const std::string& runs_csv,
                                                    const std::string& blocks_csv) {
  const auto grid = LearnabilityStudy::tasks(spec);
  const std::string task = std::string(to_string(spec.train.task.kind));

  std::map<std::size_t, std::vector<BlockNorms>> blocks;
  {
    const auto lines = split_csv(blocks_csv, "blocks.csv");
    require(!lines.empty() && lines.front() == kBlocksHeader, "blocks.csv: not the header of a study's blocks.csv");
    for (std::size_t i = 1; i < lines.size(); ++i) {
      const FieldReader f{"blocks.csv", i + 1};
      const auto& l = lines[i];
      if (l.size() != kBlocksHeader.size())
        f.fail(fmt::format("{} fields, expected {}", l.size(), kBlocksHeader.size()));
      const std::uint64_t run = f.unsigned_integer(l[0], "run");
      if (run >= grid.size()) f.fail(fmt::format("run {} is not in the grid of {} runs", run, grid.size()));
      blocks[run].push_back({l[1], f.number(l[2], "norm"), f.number(l[3], "rho")});
    }
  }

  std::vector<LearnabilityRow> rows;
  std::vector<bool> seen(grid.size(), false);
  const auto lines = split_csv(runs_csv, "runs.csv");
  // A study written before the xi_mf column resumes: its rows have no xi (NaN).
  const std::vector<std::string> without_xi(kRunsHeader.begin(), kRunsHeader.end() - 1);
  require(!lines.empty() && (lines.front() == kRunsHeader || lines.front() == without_xi),
          "runs.csv: not the header of a study's runs.csv");
  const std::size_t fields = lines.front().size();
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const FieldReader f{"runs.csv", i + 1};
    const auto& l = lines[i];
    if (l.size() != fields) f.fail(fmt::format("{} fields, expected {}", l.size(), fields));
    LearnabilityRow r;
    const std::uint64_t run = f.unsigned_integer(l[0], "run");
    if (run >= grid.size()) f.fail(fmt::format("run {} is not in the grid of {} runs", run, grid.size()));
    if (seen[run]) f.fail(fmt::format("run {} is listed twice", run));
    seen[run] = true;
    const auto& g = grid[run];
    const TrainSpec ts = spec.run_spec(g.arm, g.T, g.seed_index);
    r.task = run;
    r.cell = l[2];
    r.init = l[3];
    r.T = f.integer(l[4], "T");
    r.seed = f.unsigned_integer(l[5], "seed");
    if (l[1] != task || r.cell != to_string(spec.arms[g.arm].cell) || r.init != spec.arms[g.arm].init_name() ||
        r.T != g.T || r.seed != ts.seed)
      f.fail(fmt::format("the row of run {} is ({} {}/{}, T = {}, seed {}), but run {} of this study is ({} {}, "
                         "T = {}, seed {}): a row of another study",
                         run, l[1], r.cell, r.init, r.T, r.seed, run, task, spec.arms[g.arm].name(), g.T, ts.seed));
    if (l[6] != "0" && l[6] != "1") f.fail(fmt::format("solved '{}' is neither 0 nor 1", l[6]));
    r.solved = l[6] == "1";
    if (r.solved != !l[7].empty()) f.fail("solved and solved_at_step disagree");
    if (r.solved) r.solved_at = f.integer(l[7], "solved_at_step");
    r.end = l[8];
    if (r.end != "solved" && r.end != "budget" && r.end != "diverged")
      f.fail(fmt::format("end '{}' is not solved, budget or diverged", r.end));
    if ((r.end == "solved") != r.solved) f.fail("solved and end disagree");
    r.eval_loss = f.number(l[9], "eval_loss");
    r.eval_metric = f.number(l[10], "eval_metric");
    r.steps = f.integer(l[11], "steps");
    if (r.steps < 0 || r.steps > ts.steps) f.fail(fmt::format("steps {} is outside 0..{}", r.steps, ts.steps));
    r.seconds = f.number(l[12], "seconds");
    r.lookback_log10 = f.number(l[13], "lookback_log10");
    r.lyapunov_max = f.number(l[14], "lyapunov_max");
    r.norm_max = f.number(l[15], "norm_max");
    r.rho_max = f.number(l[16], "rho_max");
    if (fields > 17) r.xi = f.number(l[17], "xi_mf");
    const auto it = blocks.find(run);
    if (it == blocks.end()) f.fail(fmt::format("run {} has no rows in blocks.csv", run));
    r.blocks = it->second;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace rnnscope
