// A learnability study's result -> rates.csv, its figures and a report
// section (runs.csv and blocks.csv are written as the runs finish, by the
// front end, with io/learnability_files.hpp).
#pragma once

#include <string>

#include "rnnscope/report/output_folder.hpp"
#include "rnnscope/report/sections.hpp"
#include "rnnscope/studies/learnability.hpp"

namespace rnnscope {

/// rates.csv: cell, init, T, runs, solved, diverged, share, median_steps, median_lookback_log10, median_eval_loss.
CsvTable rates_table(const LearnabilitySpec& spec, const LearnabilityResult& result);

/// "LSTM", "Elman tanh, orthogonal", "Elman relu, identity": an arm in legends and tables.
std::string arm_label(const LearnabilityArm& arm);

/// Writes rates.csv and the figures (success share against T, steps to solve
/// against T, the initial look-back ratio of each run against whether it
/// learned) and returns the section, whose reading says in plain words which
/// arm learned at which length and what the initial gradients predicted.
/// `stem` prefixes the figure files ("" in the study's own folder,
/// "learnability_" inside the report); `command` is the command line that
/// runs the full study, quoted in the section.
Section learnability_section(OutputFolder& out, const LearnabilitySpec& spec, const LearnabilityResult& result,
                             const std::string& stem, const std::string& command);

}  // namespace rnnscope
