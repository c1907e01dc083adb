#include "rnnscope/studies/learnability.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include "rnnscope/core/error.hpp"
#include "rnnscope/core/random.hpp"
#include "rnnscope/diagnostics/lyapunov.hpp"
#include "rnnscope/diagnostics/mean_field.hpp"
#include "rnnscope/diagnostics/recurrent_blocks.hpp"
#include "rnnscope/diagnostics/spectrum.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The generator of the sequences the Lyapunov exponent is measured on: its
/// own stream of the run's seed, apart from the trainer's.
Rng diagnostics_rng(std::uint64_t seed) { return Rng(seed * 0x9E3779B97F4A7C15ULL ^ 0x4C59415055ULL); }

/// The diagnostics of the initialised network, in double whatever the run's
/// precision (a float chain of a few hundred steps underflows): the network
/// the run's seed initialises, its first layer's Lyapunov exponent and block
/// norms, and the gradient flow of the task's loss on the run's evaluation set
/// (train() stopped before its first step records it).
void initial_diagnostics(const TrainSpec& spec, LearnabilityRow& row) {
  TrainState<double> state = initial_state<double>(spec);
  Rng rng = diagnostics_rng(spec.seed);
  const Batch<double> batch = make_batch<double>(spec.task, kLyapunovSequences, rng);
  std::visit(
      [&](const auto& stack) {
        const auto& cell = stack.layer(0);
        const auto cache = cell.forward(batch.input, kLyapunovSequences);
        const Index warmup = cache.steps / 10;
        double sum = 0;
        for (Index b = 0; b < kLyapunovSequences; ++b) sum += lyapunov_spectrum(cell, cache, b, 1, warmup).front();
        row.lyapunov_max = sum / static_cast<double>(kLyapunovSequences);
        row.norm_max = row.rho_max = 0;
        for (const auto& block : recurrent_blocks(cell)) {
          const Spectrum s = analyse_spectrum(block.weight);
          row.blocks.push_back({block.name, s.singular_values.front(), s.spectral_radius});
          row.norm_max = std::max(row.norm_max, s.singular_values.front());
          row.rho_max = std::max(row.rho_max, s.spectral_radius);
        }
      },
      state.model);
  TrainHooks<double> hooks;
  hooks.stop_requested = [] { return true; };
  train<double>(spec, state, Execution{1, nullptr}, hooks);
  require(!state.flow.empty() && state.flow.front().step == 0, "learnability: no initial gradient flow was recorded");
  row.lookback_log10 = state.flow.front().log10_ratio.back();
  MeanFieldSpec theory;
  theory.model = spec.model;
  theory.model.input_size = spec.task.input_size();
  theory.init = spec.init;
  theory.scale = spec.scale;
  theory.forget_bias = spec.forget_bias;
  theory.with_critical = false;
  const MeanField m = mean_field(theory);
  if (m.available && std::isfinite(m.lambda)) row.xi = m.xi;
}

template <Scalar S>
LearnabilityRow run_typed(const LearnabilitySpec& spec, const LearnabilityRun& run) {
  const TrainSpec ts = spec.run_spec(run.arm, run.T, run.seed_index);
  LearnabilityRow row;
  row.task = run.task;
  row.cell = std::string(to_string(ts.model.cell));
  row.init = spec.arms[run.arm].init_name();
  row.T = run.T;
  row.seed = ts.seed;

  initial_diagnostics(ts, row);
  TrainState<S> state = initial_state<S>(ts);
  TrainHooks<S> hooks;
  hooks.stop_requested = [&state] { return state.solved_at.has_value(); };
  const TrainOutcome outcome = train<S>(ts, state, Execution{1, nullptr}, hooks);

  row.steps = state.step;
  row.seconds = state.seconds;
  row.solved_at = state.solved_at;
  row.solved = state.solved_at.has_value();
  row.end = outcome.end == TrainOutcome::End::diverged ? "diverged" : row.solved ? "solved" : "budget";
  row.eval_loss = row.eval_metric = kNaN;
  for (auto it = state.curve.rbegin(); it != state.curve.rend(); ++it)
    if (!std::isnan(it->eval_loss)) {
      row.eval_loss = it->eval_loss;
      row.eval_metric = it->eval_metric;
      break;
    }
  return row;
}

bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

std::string LearnabilityArm::init_name() const { return chrono ? "chrono" : std::string(to_string(init)); }
std::string LearnabilityArm::name() const { return fmt::format("{}/{}", to_string(cell), init_name()); }

std::vector<LearnabilityArm> parse_arms(const std::vector<std::string>& cells, const std::vector<std::string>& inits) {
  require(!cells.empty(), "--cells names no cell");
  require(!inits.empty(), "--inits names no initialisation");
  std::vector<CellKind> kinds;
  for (const auto& c : cells) {
    const CellKind k = parse_cell(c);
    require(std::find(kinds.begin(), kinds.end(), k) == kinds.end(), fmt::format("--cells names {} twice", c));
    kinds.push_back(k);
  }
  const auto arm_of = [](CellKind k, const std::string& init) {
    LearnabilityArm a;
    a.cell = k;
    if (init == "chrono") {
      require(k == CellKind::lstm, fmt::format("--inits: chrono is an initialisation of the lstm cell, not of {}",
                                               to_string(k)));
      a.chrono = true;
    } else {
      a.init = parse_init(init);
      require(a.init != Init::critical || has_mean_field(k),
              fmt::format("--inits: critical sets the mean-field g_c, which the {} cell has none of ({})", to_string(k),
                          mean_field_gap(k)));
    }
    return a;
  };
  std::vector<LearnabilityArm> arms;
  std::set<std::string> seen;
  for (const CellKind k : kinds) {
    bool any = false;
    for (const auto& entry : inits) {
      const auto colon = entry.find(':');
      std::string init = entry;
      if (colon != std::string::npos) {
        const std::string cell = entry.substr(0, colon);
        init = entry.substr(colon + 1);
        const CellKind pk = parse_cell(cell);
        require(std::find(kinds.begin(), kinds.end(), pk) != kinds.end(),
                fmt::format("--inits {}: {} is not among --cells", entry, cell));
        if (pk != k) continue;
      } else if (init == "chrono" && k != CellKind::lstm) {
        continue;  // a plain chrono entry applies to the LSTM only
      }
      const LearnabilityArm a = arm_of(k, init);
      require(seen.insert(a.name()).second, fmt::format("--inits gives {} twice", a.name()));
      arms.push_back(a);
      any = true;
    }
    require(any, fmt::format("--inits gives no initialisation for {}", to_string(k)));
  }
  return arms;
}

void LearnabilitySpec::validate() const {
  require(!arms.empty() && arms.size() <= 64,
          fmt::format("a study needs 1..64 arms (cell, init), got {}", arms.size()));
  require(!lengths.empty() && lengths.size() <= 32, fmt::format("--T needs 1..32 lengths, got {}", lengths.size()));
  require(seeds >= 1 && seeds <= 100, fmt::format("--seeds must be in 1..100, got {}", seeds));
  require(train.task.kind != TaskKind::data, "a learnability study trains on a task (adding, copy or recall)");
  const std::size_t runs = arms.size() * lengths.size() * static_cast<std::size_t>(seeds);
  require(runs <= 100'000, fmt::format("the grid has {} runs; at most 100000", runs));
  std::set<Index> distinct(lengths.begin(), lengths.end());
  require(distinct.size() == lengths.size(), "--T names a length twice");
  for (std::size_t a = 0; a < arms.size(); ++a)
    for (const Index T : lengths) run_spec(a, T, 0).validate();
}

TrainSpec LearnabilitySpec::run_spec(size_t arm, Index T, int seed_index) const {
  require(arm < arms.size(), "learnability: arm out of range");
  TrainSpec s = train;
  s.task.T = T;
  s.model.cell = arms[arm].cell;
  s.model.input_size = s.task.input_size();
  s.init = arms[arm].init;
  s.chrono = arms[arm].chrono;
  s.seed = train.seed + static_cast<std::uint64_t>(seed_index);
  s.checkpoint_every = std::max<Index>(1, s.steps);  // no checkpoints inside a run
  return s;
}

std::vector<LearnabilityRun> LearnabilityStudy::tasks(const Spec& spec) {
  spec.validate();
  std::vector<LearnabilityRun> runs;
  for (const Index T : spec.lengths)
    for (std::size_t a = 0; a < spec.arms.size(); ++a)
      for (int s = 0; s < spec.seeds; ++s) runs.push_back({runs.size(), a, T, s});
  return runs;
}

LearnabilityRow LearnabilityStudy::run(const Spec& spec, const Task& task) {
  ThreadScope one(Execution{1, nullptr});
  return spec.f64 ? run_typed<double>(spec, task) : run_typed<float>(spec, task);
}

LearnabilityResult LearnabilityStudy::reduce(const Spec& spec, std::vector<Partial> parts) {
  const auto grid = tasks(spec);
  order_by_task(parts, grid.size());
  LearnabilityResult r;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto& g = grid[i];
    const auto& p = parts[i];
    require(p.cell == to_string(spec.arms[g.arm].cell) && p.init == spec.arms[g.arm].init_name() && p.T == g.T &&
                p.seed == spec.run_spec(g.arm, g.T, g.seed_index).seed,
            fmt::format("learnability: the row of run {} is not that run's ({}, T = {}, seed {})", i,
                        spec.arms[g.arm].name(), g.T, spec.run_spec(g.arm, g.T, g.seed_index).seed));
  }
  std::size_t i = 0;
  for (const Index T : spec.lengths)
    for (std::size_t a = 0; a < spec.arms.size(); ++a) {
      LearnabilityRate rate;
      rate.arm = a;
      rate.T = T;
      std::vector<double> steps, lookback, loss;
      for (int s = 0; s < spec.seeds; ++s, ++i) {
        const auto& p = parts[i];
        ++rate.runs;
        if (p.solved) {
          ++rate.solved;
          steps.push_back(static_cast<double>(*p.solved_at));
        }
        if (p.end == "diverged") ++rate.diverged;
        lookback.push_back(p.lookback_log10);
        loss.push_back(p.eval_loss);
      }
      rate.share = static_cast<double>(rate.solved) / static_cast<double>(rate.runs);
      rate.median_steps = median_of_finite(steps);
      rate.median_lookback = median_of_finite(lookback);
      rate.median_eval_loss = median_of_finite(loss);
      r.rates.push_back(rate);
    }
  r.rows = std::move(parts);
  return r;
}

Cost learnability_cost(const LearnabilitySpec& spec, const std::vector<LearnabilityRun>& runs, int workers) {
  Cost peak, all;
  for (const LearnabilityRun& run : runs) {
    const TrainSpec ts = spec.run_spec(run.arm, run.T, run.seed_index);
    // The diagnostics at initialisation (in double), then the training run.
    const Cost diagnostics = train_cost<double>(ts);
    const Cost training = spec.f64 ? train_cost<double>(ts) : train_cost<float>(ts);
    Cost one = then(diagnostics, training);
    // The diagnostics evaluate once, not every step: a step's share of their work.
    one.flops = training.flops + diagnostics.flops / static_cast<double>(ts.steps);
    one.products = training.products + diagnostics.products / static_cast<double>(ts.steps);
    if (one.bytes > peak.bytes) peak = one;
    all.flops += one.flops;
    all.products += one.products;
  }
  peak.bytes *= std::min<double>(workers, static_cast<double>(runs.size()));
  peak.bytes += static_cast<double>(runs.size()) * 1024;  // the rows
  peak.flops = all.flops;
  peak.products = all.products;
  return peak;
}

Cost LearnabilityStudy::cost(const Spec& spec) { return learnability_cost(spec, tasks(spec), 1); }

std::vector<LearnabilityRow> run_learnability(const LearnabilitySpec& spec, const std::vector<LearnabilityRun>& runs,
                                              int workers, const LearnabilityHooks& hooks, double max_memory) {
  require(workers >= 1 && workers <= 1024, fmt::format("workers must be in 1..1024, got {}", workers));
  Execution limits;
  limits.threads = workers;
  limits.progress = hooks.progress;
  limits.max_memory = max_memory;
  check_cost(learnability_cost(spec, runs, workers), limits);
  std::vector<LearnabilityRun> queue = runs;
  std::stable_sort(queue.begin(), queue.end(),
                   [](const LearnabilityRun& a, const LearnabilityRun& b) { return a.T > b.T; });
  std::vector<LearnabilityRow> done;
  std::mutex mutex;
  std::size_t next = 0;
  std::exception_ptr error;
  // Eigen's thread count is the process's: one for the whole study, so that
  // the runs' own scopes (LearnabilityStudy::run) only ever set it to one.
  ThreadScope one(Execution{1, nullptr});
  const auto work = [&] {
    for (;;) {
      LearnabilityRun run;
      {
        std::lock_guard lock(mutex);
        if (error || next == queue.size() || (hooks.stop_requested && hooks.stop_requested())) return;
        run = queue[next++];
      }
      try {
        LearnabilityRow row = LearnabilityStudy::run(spec, run);
        std::lock_guard lock(mutex);
        if (hooks.on_row) hooks.on_row(row);
        done.push_back(std::move(row));
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        return;
      }
    }
  };
  const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(workers), queue.size()));
  if (n <= 1) {
    work();
  } else {
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(n));
    for (int w = 0; w < n; ++w) threads.emplace_back(work);
    for (auto& t : threads) t.join();
  }
  if (error) std::rethrow_exception(error);
  return done;
}

bool same_result(const LearnabilityRow& a, const LearnabilityRow& b) {
  if (a.task != b.task || a.cell != b.cell || a.init != b.init || a.T != b.T || a.seed != b.seed ||
      a.solved != b.solved || a.solved_at != b.solved_at || a.end != b.end || a.steps != b.steps ||
      a.blocks.size() != b.blocks.size())
    return false;
  for (std::size_t i = 0; i < a.blocks.size(); ++i)
    if (a.blocks[i].name != b.blocks[i].name || !same_number(a.blocks[i].norm, b.blocks[i].norm) ||
        !same_number(a.blocks[i].rho, b.blocks[i].rho))
      return false;
  return same_number(a.eval_loss, b.eval_loss) && same_number(a.eval_metric, b.eval_metric) &&
         same_number(a.lookback_log10, b.lookback_log10) && same_number(a.lyapunov_max, b.lyapunov_max) &&
         same_number(a.norm_max, b.norm_max) && same_number(a.rho_max, b.rho_max) && same_number(a.xi, b.xi);
}

}  // namespace rnnscope
