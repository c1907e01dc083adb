// The files of a learnability study that a resume reads back: study.json (the
// spec), runs.csv (one row per finished run) and blocks.csv (the recurrent
// blocks' norms of each finished run). Numbers are written with enough digits
// to round-trip, so rows read back are the rows written, bit for bit.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rnnscope/io/files.hpp"
#include "rnnscope/studies/learnability.hpp"

namespace rnnscope {

nlohmann::json to_json(const LearnabilitySpec& spec);
/// Throws InvalidInput naming a missing or malformed field, and validates.
LearnabilitySpec learnability_spec_from_json(const nlohmann::json& j);

/// runs.csv: run, task, cell, init, T, seed, solved, solved_at_step, end,
/// eval_loss, eval_metric, steps, seconds, lookback_log10, lyapunov_max,
/// norm_max, rho_max (solved_at_step empty when not solved).
CsvTable runs_table(const LearnabilitySpec& spec, const std::vector<LearnabilityRow>& rows);
/// blocks.csv: run, block, norm, rho.
CsvTable blocks_table(const std::vector<LearnabilityRow>& rows);

/// The rows of runs.csv and blocks.csv as written by the two functions above
/// for this spec's grid. Throws InvalidInput naming the file, the line and
/// what is wrong: a wrong header, a line with the wrong number of fields, a
/// number that does not parse, a run index outside the grid or given twice, a
/// row whose task, cell, init, T or seed is not that run's (a foreign row), a
/// row without its blocks. blocks.csv rows of runs that runs.csv does not list
/// (written just before an interruption) are dropped.
std::vector<LearnabilityRow> read_learnability_rows(const LearnabilitySpec& spec, const std::string& runs_csv,
                                                    const std::string& blocks_csv);

}  // namespace rnnscope
