#include "training_options.hpp"

#include <fmt/format.h>

#include "rnnscope/core/error.hpp"

namespace rnnscope::cli {

void add_training_options(CLI::App* cmd, TrainingOptions& o, const std::string& steps_help) {
  cmd->add_option("--hidden", o.hidden, "hidden units H")->capture_default_str();
  cmd->add_option("--layers", o.layers, "stacked layers")->capture_default_str();
  cmd->add_flag("--no-bias", o.no_bias, "no bias vectors in the recurrent layers");
  add_cell_shape_options(cmd, o.shape, true);
  cmd->add_option("--scale", o.scale, "scale of the recurrent initialisation (orthogonal, identity, scaled)")
      ->capture_default_str();
  cmd->add_option("--forget-bias", o.forget_bias, "added to the LSTM forget-gate bias")->capture_default_str();
  cmd->add_option("--chrono-tmax", o.chrono_tmax, "T_max of --init chrono (default: the sequence length)");
  cmd->add_option("--optimizer", o.optimizer, "sgd, adam, adamw or rmsprop (torch.optim's equations)")
      ->capture_default_str();
  cmd->add_option("--lr", o.lr, "learning rate (torch's default for adam is 0.001; see docs/training.md)")
      ->capture_default_str();
  cmd->add_option("--momentum", o.momentum, "sgd, rmsprop")->capture_default_str();
  cmd->add_option("--dampening", o.dampening, "sgd")->capture_default_str();
  cmd->add_flag("--nesterov", o.nesterov, "sgd: Nesterov momentum");
  cmd->add_option("--weight-decay", o.weight_decay, "L2 penalty (default: 0.01 for adamw, else 0)");
  cmd->add_option("--beta1", o.beta1, "adam, adamw")->capture_default_str();
  cmd->add_option("--beta2", o.beta2, "adam, adamw")->capture_default_str();
  cmd->add_option("--eps", o.eps, "adam, adamw, rmsprop")->capture_default_str();
  cmd->add_option("--alpha", o.alpha, "rmsprop's smoothing constant")->capture_default_str();
  cmd->add_option("--clip-norm", o.clip_norm, "clip_grad_norm_ over every parameter (0: off)")->capture_default_str();
  cmd->add_option("--clip-value", o.clip_value, "clip_grad_value_ (0: off)")->capture_default_str();
  cmd->add_option("--batch", o.batch, "sequences per step")->capture_default_str();
  cmd->add_option("--steps", o.steps, steps_help)->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every, "steps between evaluations (and gradient-flow records)")
      ->capture_default_str();
  cmd->add_option("--eval-size", o.eval_size, "held-out evaluation sequences of a task")->capture_default_str();
  cmd->add_option("--dtype", o.dtype, "f32 or f64")->capture_default_str();
  cmd->add_option("--seed", o.seed, "random seed (same seed, same numbers)")->capture_default_str();
}

TrainSpec training_spec(const TrainingOptions& o, const CLI::App* cmd, bool chrono) {
  require(o.dtype == "f32" || o.dtype == "f64", fmt::format("--dtype must be f32 or f64, got '{}'", o.dtype));
  require(o.hidden >= 1 && o.hidden <= 16384, fmt::format("--hidden must be in 1..16384, got {}", o.hidden));
  require(o.layers >= 1 && o.layers <= 64, fmt::format("--layers must be in 1..64, got {}", o.layers));
  if (!chrono) require(!given(cmd, "--chrono-tmax"), "--chrono-tmax is an option of --init chrono");
  TrainSpec s;
  s.model.hidden_size = o.hidden;
  s.model.num_layers = o.layers;
  s.model.bias = !o.no_bias;
  apply_cell_shape(o.shape, s.model);
  s.scale = o.scale;
  s.forget_bias = o.forget_bias;
  s.chrono_tmax = o.chrono_tmax;
  s.optimizer.kind = parse_optimizer(o.optimizer);
  s.optimizer.lr = o.lr;
  s.optimizer.momentum = o.momentum;
  s.optimizer.dampening = o.dampening;
  s.optimizer.nesterov = o.nesterov;
  s.optimizer.weight_decay =
      given(cmd, "--weight-decay") ? o.weight_decay : OptimizerSpec::default_weight_decay(s.optimizer.kind);
  s.optimizer.beta1 = o.beta1;
  s.optimizer.beta2 = o.beta2;
  s.optimizer.eps = o.eps;
  s.optimizer.alpha = o.alpha;
  s.clip.norm = o.clip_norm;
  s.clip.value = o.clip_value;
  s.batch = o.batch;
  s.steps = o.steps;
  s.eval_every = o.eval_every;
  s.eval_size = o.eval_size;
  s.seed = o.seed;
  return s;
}

}  // namespace rnnscope::cli
