// Learnability: which cell, initialisation and sequence length learn a task,
// and what the gradients at initialisation predicted. A study is a grid of
// independent training runs (training/trainer.hpp), each a pure function of
// its parameters and seed, plus the diagnostics of the initialised network.
//
// The grid expands in a fixed order: lengths (as given), then arms (cell and
// initialisation, as given), then seeds 0..seeds-1. Run r of seed index s
// trains with seed `train.seed + s` on one thread, so its row does not depend
// on where or alongside what it runs; a run stops early at the first
// evaluation that solves the task.
//
// Measured on the initialised network of each run, before its first step, in
// double whatever the run's precision (the network the run's seed initialises,
// whose float weights are these rounded; a float chain of a few hundred steps
// underflows):
//   lookback_log10  log10 ||dL/ds_0|| / ||dL/ds_(T-1)||: the gradient flow of
//                   the task's loss over the whole sequence (L = T - 1), on the
//                   run's evaluation set (the step-0 record of train())
//   lyapunov_max    the largest Lyapunov exponent of the first layer, the mean
//                   over kLyapunovSequences sequences of the task, each after
//                   a warm-up of T/10 steps; -inf when a sequence's chain
//                   becomes exactly zero (a ReLU layer with every unit off)
//   norm, rho       ||W||_2 and the spectral radius of each square recurrent
//                   block of the first layer (W_hh; the LSTM's and GRU's gate
//                   blocks), and their largest over the blocks
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "rnnscope/core/execution.hpp"
#include "rnnscope/studies/study.hpp"
#include "rnnscope/training/trainer.hpp"

namespace rnnscope {

/// One cell with one initialisation.
struct LearnabilityArm {
  CellKind cell = CellKind::lstm;
  Init init = Init::pytorch;
  bool chrono = false;  ///< LSTM: chrono initialisation of the gate biases (init is then pytorch)
  /// "pytorch", "orthogonal", ..., "chrono".
  std::string init_name() const;
  /// "lstm/pytorch", "rnn_relu/identity".
  std::string name() const;
};

/// The arms of --cells and --inits: every cell with every plain init of
/// `inits`, and a `cell:init` entry for that cell only. Throws InvalidInput
/// naming an unknown name, a pair whose cell is not among `cells`, a cell with
/// no initialisation, chrono on a cell other than the LSTM, or a repeated arm.
std::vector<LearnabilityArm> parse_arms(const std::vector<std::string>& cells, const std::vector<std::string>& inits);

struct LearnabilitySpec {
  std::vector<LearnabilityArm> arms;
  std::vector<Index> lengths;  ///< T of each run (copy: the delay)
  int seeds = 3;
  /// Everything else of a run: task (its kind and lag; T is set per run),
  /// model sizes (cell set per arm), optimiser, clipping, batch, steps (the
  /// budget), evaluation, seed (of seed index 0). Its init is set per arm.
  TrainSpec train;
  bool f64 = false;  ///< train in double instead of float

  /// Throws InvalidInput naming the option out of range: 1..64 arms, 1..32
  /// lengths, each a valid T of the task, 1..100 seeds, at most 100,000 runs,
  /// and the run's TrainSpec (user data is not a study's task).
  void validate() const;
  /// The TrainSpec of run (arm, T, seed index).
  TrainSpec run_spec(size_t arm, Index T, int seed_index) const;
};

/// One run of the grid.
struct LearnabilityRun {
  std::size_t task = 0;  ///< its index in the grid's order
  std::size_t arm = 0;
  Index T = 0;
  int seed_index = 0;
};

/// ||W||_2 and spectral radius of one recurrent block at initialisation.
struct BlockNorms {
  std::string name;  ///< "weight_hh", "weight_hh[f]", ...
  double norm = 0, rho = 0;
};

/// One run's row (runs.csv).
struct LearnabilityRow : TaskIndex {
  std::string cell, init;
  Index T = 0;
  std::uint64_t seed = 0;
  bool solved = false;
  std::optional<Index> solved_at;  ///< the step of the first evaluation that solved the task
  std::string end;                 ///< "solved", "budget" (not solved in the steps given) or "diverged"
  double eval_loss = 0, eval_metric = 0;  ///< at the last evaluation
  Index steps = 0;                        ///< steps trained
  double seconds = 0;                     ///< wall time of the run (the one column that varies)
  double lookback_log10 = 0, lyapunov_max = 0, norm_max = 0, rho_max = 0;
  /// The mean-field time scale at initialisation, 1 / (2 |lambda_MF|) steps (inputs taken as of unit
  /// variance); NaN for a cell or initialisation without a theory (docs/theory.md).
  double xi = std::numeric_limits<double>::quiet_NaN();
  std::vector<BlockNorms> blocks;
};

/// Success share and median steps to solve of one (arm, T).
struct LearnabilityRate {
  std::size_t arm = 0;
  Index T = 0;
  int runs = 0, solved = 0, diverged = 0;
  double share = 0;               ///< solved / runs
  double median_steps = 0;        ///< over the solved runs; NaN when none solved
  double median_lookback = 0;     ///< median init-time lookback_log10 over the runs
  double median_eval_loss = 0;
};

struct LearnabilityResult {
  std::vector<LearnabilityRow> rows;    ///< in the grid's order
  std::vector<LearnabilityRate> rates;  ///< lengths outer, arms inner
};

struct LearnabilityStudy {
  using Spec = LearnabilitySpec;
  using Task = LearnabilityRun;
  using Partial = LearnabilityRow;
  using Result = LearnabilityResult;
  /// Validates the spec; the grid in its order.
  static std::vector<Task> tasks(const Spec& spec);
  /// Trains run `task` on the calling thread (one thread) to its end and returns its row.
  static Partial run(const Spec& spec, const Task& task);
  /// The rows in order and the rates; throws InvalidInput on a lost or doubled run.
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

/// What run_learnability tells its caller; every member may be empty.
struct LearnabilityHooks {
  /// Polled before each run is started: true starts no more runs (those
  /// running finish).
  std::function<bool()> stop_requested;
  /// Called as each run finishes, one call at a time, in the order they finish.
  std::function<void(const LearnabilityRow&)> on_row;
  /// Told the study's estimated time when it is above a minute (check_cost).
  ProgressSink* progress = nullptr;
};

/// The peak memory of `workers` runs at once (the longest sequences) and the work of all `runs`, each up to its
/// whole step budget (core/cost.hpp); LearnabilityStudy::cost is that of the whole grid on one worker.
Cost learnability_cost(const LearnabilitySpec& spec, const std::vector<LearnabilityRun>& runs, int workers);

/// Runs `runs` (a subset of the grid, e.g. those a resume still needs) on
/// `workers` threads, one run per thread at a time, each run on one thread,
/// started longest sequence first so that no worker is left with a long run
/// at the end. Returns the finished rows in the order they finished. An
/// exception in a run stops the others from starting and is rethrown. First
/// checks learnability_cost against `max_memory` bytes (0: the available
/// memory; MemoryLimitExceeded before any run).
std::vector<LearnabilityRow> run_learnability(const LearnabilitySpec& spec, const std::vector<LearnabilityRun>& runs,
                                              int workers, const LearnabilityHooks& hooks = {},
                                              double max_memory = 0);

/// Whether two rows are the same result (every field but seconds).
bool same_result(const LearnabilityRow& a, const LearnabilityRow& b);

/// Number of sequences the Lyapunov exponent at initialisation is averaged over.
inline constexpr Index kLyapunovSequences = 4;

}  // namespace rnnscope
