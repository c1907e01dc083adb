// A training run rendered: curve.csv, gradient_flow.csv, the learning curve
// with the task's baseline, the gradient flow over training (a heatmap of
// training step against distance, and the curves at a few evaluations), and
// the section's summary (the `train` entry of summary.json).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rnnscope/report/sections.hpp"
#include "rnnscope/training/trainer.hpp"

namespace rnnscope {

/// What a run produced, in plain numbers (no scalar type).
struct TrainingRecord {
  TrainSpec spec;
  Index sequence_length = 0;
  double baseline = 0;  ///< NaN for user data
  std::vector<CurveRow> curve;
  std::vector<FlowRow> flow;
  std::optional<Index> solved_at;
  Index step = 0;
  double max_grad_norm = 0;
  double seconds = 0;
  std::string stopped;  ///< empty: finished; else why the run stopped early
};

template <Scalar S>
TrainingRecord training_record(const TrainSpec& spec, const TrainState<S>& state, Index sequence_length,
                               const std::string& stopped = "");

/// curve.csv (step, train_loss, eval_loss, eval_metric, grad_norm, clipped, seconds).
CsvTable curve_table(const std::vector<CurveRow>& curve);
/// gradient_flow.csv in long form (step, d, log10_ratio).
CsvTable flow_table(const std::vector<FlowRow>& flow);

/// Writes the tables and figures and returns the section ("train").
Section training_section(OutputFolder& out, const TrainingRecord& record);

}  // namespace rnnscope
