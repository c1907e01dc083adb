// Optimisers and gradient clipping with the semantics of PyTorch 1.13's
// torch.optim (the single-tensor code path, foreach=False) and
// torch.nn.utils.clip_grad_norm_ / clip_grad_value_: the same update
// equations, the same defaults, the same order of operations in the
// parameter's own precision, so that a training run equals PyTorch's step for
// step (tests/test_training.cpp against tools/torch_training_reference.py).
//
//   sgd      d = g + wd p; with momentum m: buf = d at the first step, then
//            buf = m buf + (1 - dampening) d; d = d + m buf (nesterov) or buf;
//            p = p - lr d
//   adam     g = g + wd p; m1 = b1 m1 + (1 - b1) g; m2 = b2 m2 + (1 - b2) g^2;
//            p = p - lr / (1 - b1^k) * m1 / (sqrt(m2) / sqrt(1 - b2^k) + eps)
//   adamw    p = p (1 - lr wd), then adam without wd
//   rmsprop  g = g + wd p; a = alpha a + (1 - alpha) g^2; s = sqrt(a) + eps;
//            with momentum m: buf = m buf + g / s, p = p - lr buf; else p = p - lr g / s
//   clip by norm C: n = ||(||g_1||, ||g_2||, ...)||_2; every g *= min(1, C / (n + 1e-6))
//   clip by value V: every entry clamped to [-V, V]
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

enum class OptimizerKind { sgd, adam, adamw, rmsprop };

std::string_view to_string(OptimizerKind k);
/// Throws InvalidInput naming the unknown optimiser and the choices.
OptimizerKind parse_optimizer(std::string_view name);

/// An optimiser and its hyperparameters; each field means what the torch.optim
/// argument of the same name means. Defaults are torch's, except lr, which
/// torch.optim.SGD has none of.
struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::adam;
  double lr = 1e-3;
  double momentum = 0.0;   ///< sgd, rmsprop
  double dampening = 0.0;  ///< sgd
  bool nesterov = false;   ///< sgd
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999;  ///< adam, adamw
  double eps = 1e-8;                  ///< adam, adamw, rmsprop
  double alpha = 0.99;                ///< rmsprop
  /// Throws InvalidInput naming the option that is out of range (torch's own checks, and finiteness).
  void validate() const;
  /// torch's default weight decay for the kind: 0.01 for adamw, 0 otherwise.
  static double default_weight_decay(OptimizerKind kind) { return kind == OptimizerKind::adamw ? 1e-2 : 0.0; }
};

/// Gradient clipping (torch.nn.utils); 0 turns a rule off.
struct ClipSpec {
  double norm = 0.0;   ///< clip_grad_norm_(parameters, norm), 2-norm
  double value = 0.0;  ///< clip_grad_value_(parameters, value)
  /// Throws InvalidInput for a negative or non-finite bound.
  void validate() const;
};

/// One parameter tensor as flat arrays: its values and its gradient.
template <Scalar S>
struct ParamSlot {
  std::string name;
  S* value = nullptr;
  S* grad = nullptr;
  Index size = 0;
};

/// The 2-norm of all gradients together, as clip_grad_norm_ computes it: the
/// norm of the tensors' norms.
template <Scalar S>
double gradient_norm(std::span<const ParamSlot<S>> slots);

/// Clips the gradients by `clip` (norm first, then value, as two calls in that
/// order would); `norm` is gradient_norm(slots). Returns whether any gradient changed.
template <Scalar S>
bool clip_gradients(std::span<const ParamSlot<S>> slots, const ClipSpec& clip, double norm);

/// An optimiser's state over a fixed list of parameter tensors.
template <Scalar S>
class Optimizer {
 public:
  /// Validates the spec.
  explicit Optimizer(const OptimizerSpec& spec);

  const OptimizerSpec& spec() const { return spec_; }
  /// The number of steps taken (torch's state['step']).
  Index steps() const { return steps_; }

  /// One update of every slot with its gradient (optimizer.step()). The slots
  /// must be the same tensors, in the same order, at every step.
  void step(std::span<const ParamSlot<S>> slots);

  /// The state tensors named "<parameter>.<buffer>" (buffers: sgd
  /// momentum_buffer; adam, adamw exp_avg, exp_avg_sq; rmsprop square_avg and,
  /// with momentum, momentum_buffer), for a checkpoint; empty before the first step.
  std::vector<std::pair<std::string, const Vec<S>*>> state() const;
  /// Restores a state written by state() after `steps` steps over `slots`:
  /// find(name) returns the buffer's values or nullptr. Throws InvalidInput
  /// naming a missing buffer or one whose size is wrong.
  template <class Find>
  void restore(std::span<const ParamSlot<S>> slots, Index steps, Find&& find) {
    prepare(slots);
    steps_ = steps;
    if (steps == 0) return;
    for (auto& [name, buffer] : named_buffers()) {
      const std::vector<double>* values = find(name);
      restore_buffer(name, values, *buffer);
    }
  }

 private:
  void prepare(std::span<const ParamSlot<S>> slots);
  std::vector<std::pair<std::string, Vec<S>*>> named_buffers();
  static void restore_buffer(const std::string& name, const std::vector<double>* values, Vec<S>& buffer);
  std::vector<const char*> buffer_names() const;

  OptimizerSpec spec_;
  Index steps_ = 0;
  std::vector<std::string> names_;
  std::vector<Vec<S>> first_, second_;  // per slot: the kind's first and second buffer (buffer_names())
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace rnnscope
