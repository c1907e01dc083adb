// Training a recurrent model with a linear readout on a task: the loop of
// `rnnscope train`, usable from C++ (and any front end) on its own.
//
// A run is a pure function of its TrainSpec (and, for user data, the data):
// the model is initialised from the seed, the batch of step s is drawn from a
// generator seeded by (seed, s) alone (user data: the shuffle of epoch e by
// (seed, e)), and the evaluation set is drawn once from (seed, "eval"). So the
// whole random state of a run is (seed, step): a run stopped at step k and
// resumed from its TrainState continues bit for bit as if it had not stopped.
//
// Each step: forward from the zero state, readout on the scored steps, the
// loss (PyTorch's mean reduction), full BPTT, the gradients' 2-norm, clipping,
// the optimiser's step. Every eval_every steps (and at step 0 and the last
// step) the model is evaluated on the evaluation set, and the gradient flow
// recorded: log10 ||dL/ds_(T-1-d)|| / ||dL/ds_(T-1)|| for d = 0..T-1, the
// norm of the loss's total derivative with respect to the state s_t (every
// layer's h, and the LSTM's c) over the evaluation batch (docs/training.md).
//
// With a Collective of N > 1 processes in the Execution, each process trains
// on its share of every minibatch (and evaluates its share of the evaluation
// set), the gradients are summed over the processes in rank order and every
// process takes the same step: N processes train the model one process
// trains, up to the order of the sums (docs/distributed.md). Every process
// calls train() with the same spec and initial state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rnnscope/sequence/model.hpp"
#include "rnnscope/core/execution.hpp"
#include "rnnscope/training/init.hpp"
#include "rnnscope/training/optimizer.hpp"
#include "rnnscope/training/readout.hpp"
#include "rnnscope/training/tasks.hpp"

namespace rnnscope {

struct TrainSpec {
  TaskSpec task;                       ///< kind `data`: the Dataset passed to train() is the task
  TrainLoss data_loss = TrainLoss::mse_last;  ///< the loss for `data` (a generated task has its own)
  ModelSpec model;                     ///< input_size comes from the task or the data
  Init init = Init::pytorch;
  double scale = 1.0, forget_bias = 0.0;
  bool chrono = false;      ///< LSTM: chrono initialisation of the gate biases (Tallec and Ollivier 2018)
  double chrono_tmax = 0;   ///< its T_max; 0: the sequence length
  OptimizerSpec optimizer;
  ClipSpec clip;
  Index batch = 50;
  Index steps = 3000;            ///< total steps of the run (a resume raises it)
  Index eval_every = 100;
  Index eval_size = 500;         ///< generated tasks; user data is evaluated on all of it
  Index checkpoint_every = 500;
  std::uint64_t seed = 1;

  /// The loss the run trains with.
  TrainLoss loss() const { return task.kind == TaskKind::data ? data_loss : task.loss(); }
  /// Throws InvalidInput naming the option out of range. data_size: N of the
  /// user's data (0 for a generated task).
  void validate(Index data_size = 0) const;
};

/// One row of the learning curve. NaN where there is no value (the eval
/// columns between evaluations, the training columns of step 0).
struct CurveRow {
  Index step = 0;
  double train_loss = 0, eval_loss = 0, eval_metric = 0, grad_norm = 0;
  bool clipped = false;
  double seconds = 0;  ///< wall time since the run began (summed over resumes)
};

/// The gradient flow at one evaluation: log10 ratios for d = 0..T-1.
struct FlowRow {
  Index step = 0;
  std::vector<double> log10_ratio;
};

template <Scalar S>
struct TrainState {
  Model<S> model;
  Readout<S> readout;
  Optimizer<S> optimizer;
  Index step = 0;
  std::vector<CurveRow> curve;
  std::vector<FlowRow> flow;
  double max_grad_norm = 0;  ///< the largest gradient norm (before clipping) seen
  double seconds = 0;        ///< wall time of the run so far, summed over resumes
  std::optional<Index> solved_at;  ///< the first evaluation that solved the task
};

/// The state before step 1: `model` and `readout` when given (a model file),
/// else initialised from the seed by spec.init (model first, then the readout
/// by nn.Linear's default). Validates the spec, and the model's input size
/// against the task's. Throws InvalidInput naming what disagrees.
template <Scalar S>
TrainState<S> initial_state(const TrainSpec& spec, std::optional<Model<S>> model = std::nullopt,
                            std::optional<Readout<S>> readout = std::nullopt, const Dataset<S>* data = nullptr);

/// How a call of train() ended.
struct TrainOutcome {
  enum class End { finished, interrupted, diverged } end = End::finished;
  std::string message;  ///< diverged: the step, the value that was not finite and the largest gradient norm
};

/// What the loop tells its caller; every member may be empty.
template <Scalar S>
struct TrainHooks {
  /// Polled before every step: true stops the run (interrupted) before that step.
  std::function<bool()> stop_requested;
  /// Called after every spec.checkpoint_every-th step (not after the last).
  std::function<void(const TrainState<S>&)> checkpoint;
  /// Called after each step with its curve row (evaluation columns filled at an evaluation).
  std::function<void(const CurveRow&)> on_step;
};

/// Runs steps state.step + 1 .. spec.steps. A step whose loss or gradient is
/// not finite changes nothing and ends the run as diverged. An update that
/// makes a parameter non-finite shows in the next step's loss, and the
/// parameters are checked before each checkpoint and at the last step: a run
/// that ends as diverged may hold such a parameter (do not save its state);
/// the checkpoint hook only ever sees finite ones. `data` is the user's data
/// for a `data` task.
template <Scalar S>
TrainOutcome train(const TrainSpec& spec, TrainState<S>& state, const Execution& execution,
                   const TrainHooks<S>& hooks = {}, const Dataset<S>* data = nullptr);

/// The peak memory and the work of steps state.step + 1 .. spec.steps (core/cost.hpp): the parameters,
/// their gradients and the optimiser's buffers, a minibatch's BPTT, the evaluation set (a generated task's)
/// and the slices it is evaluated in, the learning curve and the gradient flow kept for every step and
/// evaluation. User data counts as the caller's (it is in memory already). train() checks it first.
template <Scalar S>
Cost train_cost(const TrainSpec& spec, const TrainState<S>* state = nullptr, const Dataset<S>* data = nullptr);

/// The sequence length of the run (the data's T for `data`).
template <Scalar S>
Index sequence_length(const TrainSpec& spec, const Dataset<S>* data);

/// The task's baseline loss (NaN for user data).
double baseline(const TrainSpec& spec);

extern template TrainState<float> initial_state(const TrainSpec&, std::optional<Model<float>>,
                                                std::optional<Readout<float>>, const Dataset<float>*);
extern template TrainState<double> initial_state(const TrainSpec&, std::optional<Model<double>>,
                                                 std::optional<Readout<double>>, const Dataset<double>*);
extern template Cost train_cost(const TrainSpec&, const TrainState<float>*, const Dataset<float>*);
extern template Cost train_cost(const TrainSpec&, const TrainState<double>*, const Dataset<double>*);
extern template TrainOutcome train(const TrainSpec&, TrainState<float>&, const Execution&, const TrainHooks<float>&,
                                   const Dataset<float>*);
extern template TrainOutcome train(const TrainSpec&, TrainState<double>&, const Execution&,
                                   const TrainHooks<double>&, const Dataset<double>*);

}  // namespace rnnscope
