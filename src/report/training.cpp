#include "rnnscope/report/training.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "plot.hpp"
#include "rnnscope/io/json.hpp"

namespace rnnscope {

namespace {

using detail::add_figure;
using detail::kNaN;
using detail::line;
using detail::screen_rows;

constexpr size_t kMaxColumns = 80, kMaxRows = 100;  // heatmap cells drawn (the CSV keeps every value)

std::string metric_name(const TrainSpec& spec) {
  switch (spec.task.kind) {
    case TaskKind::adding:
    case TaskKind::recall: return "share with |error| < 0.04";
    case TaskKind::copy: return "share of sequences recalled exactly";
    case TaskKind::data: return is_cross_entropy(spec.data_loss) ? "accuracy" : "R² (1 - MSE / variance)";
  }
  return "metric";
}

std::string loss_name(const TrainSpec& spec) {
  return is_cross_entropy(spec.loss()) ? "cross-entropy" : "MSE";
}

std::string task_title(const TrainSpec& spec) {
  if (spec.task.kind == TaskKind::data) return fmt::format("user data ({})", to_string(spec.data_loss));
  if (spec.task.kind == TaskKind::recall)
    return fmt::format("recall T = {}, lag {}", spec.task.T, spec.task.effective_lag());
  return fmt::format("{} T = {}", to_string(spec.task.kind), spec.task.T);
}

Figure learning_curve(const TrainingRecord& r) {
  Figure f;
  f.name = "learning_curve";
  f.title = fmt::format("Learning curve: {}, {}", task_title(r.spec), cell_label(r.spec.model));
  f.xlabel = "training step";
  f.ylabel = loss_name(r.spec) + " loss";
  f.logy = true;
  f.caption = "Training loss (mean over windows of steps) and evaluation loss against the training step, with the "
              "loss of the task's trivial predictor.";
  // The per-step training loss is noisy: shown as window means, at most 300 points.
  std::vector<const CurveRow*> steps;
  for (const auto& row : r.curve)
    if (row.step > 0 && std::isfinite(row.train_loss)) steps.push_back(&row);
  const size_t window = std::max<size_t>(1, steps.size() / 300);
  Series train = line("training loss (window mean)", {}, {});
  for (size_t i = 0; i + window <= steps.size(); i += window) {
    double sum = 0;
    for (size_t k = i; k < i + window; ++k) sum += steps[k]->train_loss;
    train.x.push_back(static_cast<double>(steps[i + window - 1]->step));
    train.y.push_back(sum / static_cast<double>(window));
  }
  Series eval = line("evaluation loss", {}, {}, Series::Style::linespoints);
  for (const auto& row : r.curve)
    if (!std::isnan(row.eval_loss)) {
      eval.x.push_back(static_cast<double>(row.step));
      eval.y.push_back(row.eval_loss);
    }
  f.series = {train, eval};
  if (std::isfinite(r.baseline) && !eval.x.empty()) {
    Series base = line(fmt::format("baseline {:.4g}", r.baseline), {0.0, static_cast<double>(r.step)},
                              {r.baseline, r.baseline}, Series::Style::dashed);
    base.colour = Series::grey;
    f.series.push_back(base);
  }
  if (r.spec.task.kind == TaskKind::adding || r.spec.task.kind == TaskKind::recall) {
    Series solved = line("solved below 0.01", {0.0, static_cast<double>(r.step)}, {0.01, 0.01},
                                Series::Style::dashed);
    solved.colour = Series::grey;
    solved.dash = 3;
    f.series.push_back(solved);
  }
  return f;
}

Figure metric_curve(const TrainingRecord& r) {
  Figure f;
  f.name = "eval_metric";
  f.title = fmt::format("Evaluation metric: {}, {}", task_title(r.spec), cell_label(r.spec.model));
  f.xlabel = "training step";
  f.ylabel = metric_name(r.spec);
  f.caption = "The task's evaluation metric at each evaluation.";
  Series s = line(metric_name(r.spec), {}, {}, Series::Style::linespoints);
  for (const auto& row : r.curve)
    if (!std::isnan(row.eval_metric)) {
      s.x.push_back(static_cast<double>(row.step));
      s.y.push_back(row.eval_metric);
    }
  f.series = {s};
  if (r.spec.task.kind != TaskKind::data || is_cross_entropy(r.spec.data_loss)) f.ymin = 0, f.ymax = 1;
  return f;
}

Figure flow_heatmap(const TrainingRecord& r) {
  Figure f;
  f.name = "gradient_flow";
  f.title = fmt::format("Gradient flow while training: {}, {}", task_title(r.spec), cell_label(r.spec.model));
  f.xlabel = "training step";
  f.ylabel = "distance d (steps back from the last)";
  f.caption = "log10 of ||dL/ds(T-1-d)|| / ||dL/ds(T-1)|| on the evaluation batch at each evaluation: how much of "
              "the loss's gradient reaches d steps back, as the network learns.";
  Heatmap h;
  h.colour_label = "log10 gradient ratio";
  const size_t T = r.flow.front().log10_ratio.size();
  const auto cols = screen_rows(r.flow.size(), kMaxColumns), rows = screen_rows(T, kMaxRows);
  for (size_t j : cols) h.x.push_back(static_cast<double>(r.flow[j].step));
  for (size_t i : rows) h.y.push_back(static_cast<double>(i));
  for (size_t i : rows)
    for (size_t j : cols) h.z.push_back(r.flow[j].log10_ratio[i]);
  f.heatmap = h;
  return f;
}

Figure flow_curves(const TrainingRecord& r) {
  Figure f;
  f.name = "gradient_flow_curves";
  f.title = fmt::format("Look-back curve at evaluations: {}, {}", task_title(r.spec), cell_label(r.spec.model));
  f.xlabel = "distance d (steps back from the last)";
  f.ylabel = "log10 ||dL/ds(T-1-d)|| / ||dL/ds(T-1)||";
  f.caption = "The gradient flow of the heatmap at a few evaluations, first to last.";
  for (size_t j : screen_rows(r.flow.size(), 6)) {
    Series s = line(fmt::format("step {}", r.flow[j].step), {}, {});
    for (size_t d = 0; d < r.flow[j].log10_ratio.size(); ++d) {
      s.x.push_back(static_cast<double>(d));
      s.y.push_back(r.flow[j].log10_ratio[d]);
    }
    f.series.push_back(s);
  }
  return f;
}

}  // namespace

template <Scalar S>
TrainingRecord training_record(const TrainSpec& spec, const TrainState<S>& state, Index sequence_length,
                               const std::string& stopped) {
  TrainingRecord r;
  r.spec = spec;
  r.sequence_length = sequence_length;
  r.baseline = baseline(spec);
  r.curve = state.curve;
  r.flow = state.flow;
  r.solved_at = state.solved_at;
  r.step = state.step;
  r.max_grad_norm = state.max_grad_norm;
  r.seconds = state.seconds;
  r.stopped = stopped;
  return r;
}

CsvTable curve_table(const std::vector<CurveRow>& curve) {
  CsvTable t;
  t.header = {"step", "train_loss", "eval_loss", "eval_metric", "grad_norm", "clipped", "seconds"};
  for (const auto& r : curve)
    t.add_row({std::to_string(r.step), format_number(r.train_loss), format_number(r.eval_loss),
               format_number(r.eval_metric), format_number(r.grad_norm), r.step > 0 ? (r.clipped ? "1" : "0") : "",
               fmt::format("{:.6f}", r.seconds)});
  return t;
}

CsvTable flow_table(const std::vector<FlowRow>& flow) {
  CsvTable t;
  t.header = {"step", "d", "log10_ratio"};
  for (const auto& r : flow)
    for (size_t d = 0; d < r.log10_ratio.size(); ++d)
      t.add_row({std::to_string(r.step), std::to_string(d), format_number(r.log10_ratio[d])});
  return t;
}

Section training_section(OutputFolder& out, const TrainingRecord& r) {
  Section s;
  s.html.id = "train";
  s.html.title = fmt::format("Training: {}, {}", task_title(r.spec), cell_label(r.spec.model));
  out.table("curve.csv", curve_table(r.curve));
  out.table("gradient_flow.csv", flow_table(r.flow));
  add_figure(out, s, learning_curve(r));
  add_figure(out, s, metric_curve(r));
  if (!r.flow.empty()) {
    add_figure(out, s, flow_heatmap(r));
    add_figure(out, s, flow_curves(r));
  }
  s.html.tables = {"curve.csv", "gradient_flow.csv"};
  const CurveRow* last_eval = nullptr;
  for (const auto& row : r.curve)
    if (!std::isnan(row.eval_loss)) last_eval = &row;
  const double eval_loss = last_eval ? last_eval->eval_loss : kNaN;
  const double eval_metric = last_eval ? last_eval->eval_metric : kNaN;
  const Index timed_steps = r.curve.empty() ? 0 : r.curve.back().step - r.curve.front().step;
  s.summary = {{"task", to_string(r.spec.task.kind)},
               {"T", r.spec.task.kind == TaskKind::data ? nlohmann::json(nullptr) : nlohmann::json(r.spec.task.T)},
               {"sequence_length", r.sequence_length},
               {"cell", to_string(r.spec.model.cell)},
               {"hidden_size", r.spec.model.hidden_size},
               {"num_layers", r.spec.model.num_layers},
               {"optimizer", to_string(r.spec.optimizer.kind)},
               {"steps", r.step},
               {"eval_step", last_eval ? nlohmann::json(last_eval->step) : nlohmann::json(nullptr)},
               {"eval_loss", json_number(eval_loss)},
               {"eval_metric", json_number(eval_metric)},
               {"metric", metric_name(r.spec)},
               {"solved", r.solved_at.has_value()},
               {"solved_at_step", r.solved_at ? nlohmann::json(*r.solved_at) : nlohmann::json(nullptr)},
               {"baseline", json_number(r.baseline)},
               {"max_grad_norm", json_number(r.max_grad_norm)},
               {"seconds", json_number(r.seconds)},
               {"steps_per_second", json_number(r.seconds > 0 ? static_cast<double>(timed_steps) / r.seconds : kNaN)},
               {"stopped", r.stopped.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.stopped)}};
  const std::string solved =
      r.spec.task.kind == TaskKind::data
          ? std::string()
          : (r.solved_at ? fmt::format("; solved at step {}", *r.solved_at) : std::string("; not solved"));
  s.html.reading = fmt::format(
      "{} steps of {} (batch {}, lr {:g}{}). Evaluation {} loss {:.4g} against the baseline {:.4g}; {} {:.3f}{}. "
      "The heatmap shows how far back the loss's gradient reaches at each evaluation.",
      r.step, to_string(r.spec.optimizer.kind), r.spec.batch, r.spec.optimizer.lr,
      r.spec.clip.norm > 0 ? fmt::format(", clip-norm {:g}", r.spec.clip.norm) : std::string(), loss_name(r.spec),
      eval_loss, r.baseline, metric_name(r.spec), eval_metric, solved);
  s.screen = fmt::format("{}, {} x {} H={}: step {}, eval {} {:.4g} (baseline {:.4g}), {} {:.3f}{}{}",
                         task_title(r.spec), to_string(r.spec.model.cell), r.spec.model.num_layers,
                         r.spec.model.hidden_size, r.step, loss_name(r.spec), eval_loss, r.baseline,
                         metric_name(r.spec), eval_metric, solved, r.stopped.empty() ? "" : " (" + r.stopped + ")");
  return s;
}

template TrainingRecord training_record(const TrainSpec&, const TrainState<float>&, Index, const std::string&);
template TrainingRecord training_record(const TrainSpec&, const TrainState<double>&, Index, const std::string&);

}  // namespace rnnscope
