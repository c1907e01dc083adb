#include "rnnscope/report/learnability.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "plot.hpp"
#include "rnnscope/io/json.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope {

namespace {

using detail::add_figure;
using detail::kNaN;
using detail::line;

std::string task_name(const LearnabilitySpec& spec) {
  const TaskSpec& t = spec.train.task;
  if (t.kind == TaskKind::copy) return "copy (T = delay)";
  if (t.kind == TaskKind::recall && t.lag >= 0) return fmt::format("recall (lag {})", t.lag);
  return std::string(to_string(t.kind));
}


std::vector<const LearnabilityRate*> rates_of(const LearnabilityResult& r, std::size_t arm) {
  std::vector<const LearnabilityRate*> out;
  for (const auto& rate : r.rates)
    if (rate.arm == arm) out.push_back(&rate);
  return out;
}

/// One arm's rates against T as a line: y = value(rate).
template <class Value>
Series rate_series(const LearnabilitySpec& spec, const LearnabilityResult& r, std::size_t arm, Value value) {
  Series s = line(arm_label(spec.arms[arm]), {}, {}, Series::Style::linespoints);
  for (const auto* rate : rates_of(r, arm)) {
    s.x.push_back(static_cast<double>(rate->T));
    s.y.push_back(value(*rate));
  }
  return s;
}

Figure success_figure(const LearnabilitySpec& spec, const LearnabilityResult& r, const std::string& stem) {
  Figure f;
  f.name = stem + "success";
  f.title = fmt::format("Share of runs that learned: {}", task_name(spec));
  f.xlabel = "sequence length T";
  f.ylabel = fmt::format("share solved ({} seeds)", spec.seeds);
  f.logx = spec.lengths.size() > 1;
  f.ymin = -0.05;
  f.ymax = 1.05;
  f.caption = fmt::format("The share of the seeds of each cell and initialisation that solved the task within {} "
                          "steps, against the sequence length; each line is shifted up or down by up to 0.02 so "
                          "that equal shares do not hide one another (rates.csv has the exact values).",
                          spec.train.steps);
  const double mid = 0.5 * static_cast<double>(spec.arms.size() - 1);
  const double shift = spec.arms.size() > 1 ? 0.04 / static_cast<double>(spec.arms.size() - 1) : 0.0;
  for (std::size_t a = 0; a < spec.arms.size(); ++a)
    f.series.push_back(rate_series(spec, r, a, [&](const LearnabilityRate& rate) {
      return rate.share + shift * (static_cast<double>(a) - mid);
    }));
  return f;
}

Figure steps_figure(const LearnabilitySpec& spec, const LearnabilityResult& r, const std::string& stem) {
  Figure f;
  f.name = stem + "steps";
  f.title = fmt::format("Steps to solve: {}", task_name(spec));
  f.xlabel = "sequence length T";
  f.ylabel = "median training steps to solve";
  f.logx = spec.lengths.size() > 1;
  f.logy = true;
  f.caption = fmt::format("The median step at which the solved runs first solved the task (evaluated every {} "
                          "steps); no point where no run solved it.",
                          spec.train.eval_every);
  for (std::size_t a = 0; a < spec.arms.size(); ++a)
    f.series.push_back(
        rate_series(spec, r, a, [](const LearnabilityRate& rate) { return rate.median_steps; }));
  return f;
}

Figure lookback_figure(const LearnabilitySpec& spec, const LearnabilityResult& r, const std::string& stem) {
  Figure f;
  f.name = stem + "initial_lookback";
  f.title = "Initial gradient flow against learning";
  f.xlabel = "log10 ||dL/ds(0)|| / ||dL/ds(T-1)|| at initialisation";
  f.ylabel = "sequence length T (seeds spread slightly)";
  f.logy = spec.lengths.size() > 1;
  f.caption = "Each run at its initial look-back ratio over the whole sequence, filled if it learned the task and "
              "open if not.";
  Series learned = line("learned", {}, {}, Series::Style::points), failed = line("did not learn", {}, {},
                                                                                   Series::Style::points);
  learned.point = 7;
  failed.point = 6;
  const double mid = 0.5 * static_cast<double>(spec.seeds - 1);
  for (const auto& row : r.rows) {
    const int seed_index = static_cast<int>(row.task % static_cast<std::size_t>(spec.seeds));
    const double y = static_cast<double>(row.T) * (1.0 + 0.03 * (seed_index - mid));
    Series& s = row.solved ? learned : failed;
    s.x.push_back(row.lookback_log10);
    s.y.push_back(y);
  }
  f.series = {learned, failed};
  const auto [lo, hi] = std::minmax_element(spec.lengths.begin(), spec.lengths.end());
  f.ymin = static_cast<double>(*lo) / (f.logy ? 1.5 : 1.0) - (f.logy ? 0.0 : 1.0);
  f.ymax = static_cast<double>(*hi) * (f.logy ? 1.5 : 1.0) + (f.logy ? 0.0 : 1.0);
  return f;
}

/// The threshold on the initial log10 look-back ratio that best separates the
/// runs that learned (above it) from those that did not, and how many runs it
/// puts on their side.
struct Separation {
  double threshold = kNaN;
  std::size_t correct = 0, total = 0;
};
Separation best_separation(const std::vector<LearnabilityRow>& rows) {
  std::vector<std::pair<double, bool>> v;
  for (const auto& r : rows)
    if (std::isfinite(r.lookback_log10)) v.emplace_back(r.lookback_log10, r.solved);
  Separation best;
  best.total = v.size();
  if (v.empty()) return best;
  std::sort(v.begin(), v.end());
  // Threshold between v[i-1] and v[i]: runs i.. predicted to learn.
  std::size_t failed_below = 0, learned_above = 0;
  for (const auto& p : v) learned_above += p.second ? 1 : 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i > 0 && i < v.size() && v[i].first == v[i - 1].first) {
      failed_below += v[i].second ? 0 : 1;
      learned_above -= v[i].second ? 1 : 0;
      continue;
    }
    const std::size_t correct = failed_below + learned_above;
    if (correct > best.correct) {
      best.correct = correct;
      best.threshold = i == 0 ? v.front().first - 1 : i == v.size() ? v.back().first + 1
                                                                    : 0.5 * (v[i - 1].first + v[i].first);
    }
    if (i < v.size()) {
      failed_below += v[i].second ? 0 : 1;
      learned_above -= v[i].second ? 1 : 0;
    }
  }
  return best;
}

}  // namespace

std::string arm_label(const LearnabilityArm& arm) {
  ModelSpec m;
  m.cell = arm.cell;
  const std::string cell = cell_label(m);
  const bool plain = arm.init == Init::pytorch && !arm.chrono;
  return plain ? cell : fmt::format("{}, {}", cell, arm.init_name());
}

CsvTable rates_table(const LearnabilitySpec& spec, const LearnabilityResult& result) {
  CsvTable t;
  t.header = {"cell", "init", "T", "runs", "solved", "diverged", "share", "median_steps", "median_lookback_log10",
              "median_eval_loss"};
  for (const auto& r : result.rates) {
    const auto& arm = spec.arms[r.arm];
    t.add_row({std::string(to_string(arm.cell)), arm.init_name(), std::to_string(r.T), std::to_string(r.runs),
               std::to_string(r.solved), std::to_string(r.diverged), format_number(r.share),
               std::isnan(r.median_steps) ? std::string() : format_number(r.median_steps),
               format_number(r.median_lookback), format_number(r.median_eval_loss)});
  }
  return t;
}

Section learnability_section(OutputFolder& out, const LearnabilitySpec& spec, const LearnabilityResult& result,
                             const std::string& stem, const std::string& command) {
  Section s;
  s.html.id = "learnability";
  s.html.title = fmt::format("Learnability: {}", task_name(spec));
  const std::string rates_file = stem + "rates.csv";
  out.table(rates_file, rates_table(spec, result));
  add_figure(out, s, success_figure(spec, result, stem));
  add_figure(out, s, steps_figure(spec, result, stem));
  add_figure(out, s, lookback_figure(spec, result, stem));
  s.html.tables = {rates_file};

  // Plain words: per length, who learned.
  std::string per_length, screen;
  screen += fmt::format("{:<28}", "cell, init");
  for (const Index T : spec.lengths) screen += fmt::format(" {:>12}", fmt::format("T = {}", T));
  screen += "\n";
  for (std::size_t a = 0; a < spec.arms.size(); ++a) {
    screen += fmt::format("{:<28}", arm_label(spec.arms[a]));
    for (const auto* rate : rates_of(result, a))
      // A run that diverged is named: "0/3" alone would read as three runs that ran out of steps.
      screen += fmt::format(" {:>12}", fmt::format("{}/{}", rate->solved, rate->runs) +
                                           (std::isnan(rate->median_steps)
                                                ? std::string()
                                                : fmt::format(" ({:.0f})", rate->median_steps)) +
                                           (rate->diverged > 0 ? fmt::format(", {} diverged", rate->diverged)
                                                               : std::string()));
    screen += "\n";
  }
  for (const Index T : spec.lengths) {
    std::vector<std::string> all, some, none;
    for (const auto& rate : result.rates) {
      if (rate.T != T) continue;
      const std::string label = arm_label(spec.arms[rate.arm]);
      if (rate.solved == rate.runs)
        all.push_back(fmt::format("{} (median {:.0f} steps)", label, rate.median_steps));
      else if (rate.solved > 0)
        some.push_back(fmt::format("{} ({} of {})", label, rate.solved, rate.runs));
      else
        none.push_back(label);
    }
    const auto join = [](const std::vector<std::string>& v) {
      std::string j;
      for (std::size_t i = 0; i < v.size(); ++i) j += (i ? ", " : "") + v[i];
      return j;
    };
    std::vector<std::string> parts;
    if (!all.empty()) parts.push_back("every seed learned with " + join(all));
    if (!some.empty()) parts.push_back("some seeds with " + join(some));
    if (!none.empty()) parts.push_back("none with " + join(none));
    std::vector<double> yes, no;
    for (const auto& row : result.rows)
      if (row.T == T) (row.solved ? yes : no).push_back(row.lookback_log10);
    const std::string ratios =
        !yes.empty() && !no.empty()
            ? fmt::format(" (initial look-back ratio over the sequence, median: 10^{:.1f} for the runs that learned, "
                          "10^{:.1f} for those that did not)",
                          median_of_finite(yes), median_of_finite(no))
            : std::string();
    per_length += fmt::format(" At T = {}: {}{}.", T, join(parts), ratios);
  }

  std::vector<double> learned, failed;
  for (const auto& row : result.rows) (row.solved ? learned : failed).push_back(row.lookback_log10);
  const Separation sep = best_separation(result.rows);
  std::string prediction;
  if (!learned.empty() && !failed.empty()) {
    prediction = fmt::format(
        " Over all lengths, before any training, the runs that went on to learn passed a median 10^{:.1f} of the "
        "loss's gradient back over the whole sequence, those that did not 10^{:.1f}; the initial ratio alone, "
        "split at its best threshold (10^{:.1f}), puts {} of the {} runs on the side of their outcome.",
        median_of_finite(learned), median_of_finite(failed), sep.threshold, sep.correct, sep.total);
  } else {
    prediction = learned.empty() ? " No run learned the task." : " Every run learned the task.";
  }
  // The mean-field time scale xi (docs/theory.md) of the runs whose cell and initialisation have one, as a
  // multiple of their T: a run with xi/T far below 1 starts unable to carry a gradient across its sequence.
  std::vector<double> xi_learned, xi_failed;
  for (const auto& row : result.rows)
    if (std::isfinite(row.xi)) (row.solved ? xi_learned : xi_failed).push_back(row.xi / static_cast<double>(row.T));
  if (!xi_learned.empty() && !xi_failed.empty())
    prediction += fmt::format(
        " The mean-field time scale xi at initialisation, as a multiple of T (the runs whose cell has a theory): "
        "median {:.3g} for the runs that learned, {:.3g} for those that did not.",
        median_of_finite(xi_learned), median_of_finite(xi_failed));
  s.html.reading = fmt::format(
      "{} runs: {} cells and initialisations x {} lengths x {} seeds, each trained for at most {} steps ({}, lr "
      "{:g}, batch {}, H = {}) and stopped once solved.{}{} The study: {}",
      result.rows.size(), spec.arms.size(), spec.lengths.size(), spec.seeds, spec.train.steps,
      to_string(spec.train.optimizer.kind), spec.train.optimizer.lr, spec.train.batch,
      spec.train.model.hidden_size, per_length, prediction, command);

  nlohmann::json rates = nlohmann::json::array();
  for (const auto& r : result.rates)
    rates.push_back({{"cell", to_string(spec.arms[r.arm].cell)},
                     {"init", spec.arms[r.arm].init_name()},
                     {"T", r.T},
                     {"runs", r.runs},
                     {"solved", r.solved},
                     {"diverged", r.diverged},
                     {"share", r.share},
                     {"median_steps", json_number(r.median_steps)},
                     {"median_lookback_log10", json_number(r.median_lookback)}});
  s.summary = {{"task", to_string(spec.train.task.kind)},
               {"runs", result.rows.size()},
               {"solved", learned.size()},
               {"rates", rates},
               {"median_initial_lookback_log10_learned", json_number(median_of_finite(learned))},
               {"median_initial_lookback_log10_not_learned", json_number(median_of_finite(failed))},
               {"separating_threshold_log10", json_number(sep.threshold)},
               {"median_xi_over_T_learned", json_number(median_of_finite(xi_learned))},
               {"median_xi_over_T_not_learned", json_number(median_of_finite(xi_failed))},
               {"separated_runs", sep.correct}};
  s.screen = screen + (prediction.empty() ? "" : prediction.substr(1));
  return s;
}

}  // namespace rnnscope
