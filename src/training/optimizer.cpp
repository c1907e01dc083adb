#include "rnnscope/training/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

std::string_view to_string(OptimizerKind k) {
  switch (k) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::adam: return "adam";
    case OptimizerKind::adamw: return "adamw";
    case OptimizerKind::rmsprop: return "rmsprop";
  }
  return "?";
}

OptimizerKind parse_optimizer(std::string_view name) {
  for (OptimizerKind k : {OptimizerKind::sgd, OptimizerKind::adam, OptimizerKind::adamw, OptimizerKind::rmsprop})
    if (name == to_string(k)) return k;
  throw InvalidInput(fmt::format("unknown optimizer '{}' (expected sgd, adam, adamw or rmsprop)", name));
}

void OptimizerSpec::validate() const {
  const auto finite_at_least_0 = [](double v, const char* option) {
    require(std::isfinite(v) && v >= 0, fmt::format("{} must be finite and >= 0, got {}", option, v));
  };
  finite_at_least_0(lr, "--lr");
  finite_at_least_0(momentum, "--momentum");
  finite_at_least_0(weight_decay, "--weight-decay");
  finite_at_least_0(eps, "--eps");
  require(std::isfinite(dampening), fmt::format("--dampening must be finite, got {}", dampening));
  if (kind == OptimizerKind::sgd && nesterov)
    require(momentum > 0 && dampening == 0, "--nesterov needs --momentum > 0 and zero dampening (as torch.optim.SGD)");
  require(kind == OptimizerKind::sgd || !nesterov, "--nesterov is an option of sgd");
  require(kind == OptimizerKind::sgd || kind == OptimizerKind::rmsprop || momentum == 0,
          fmt::format("--momentum is an option of sgd and rmsprop, not of {}", to_string(kind)));
  for (const auto& [v, option] : {std::pair{beta1, "--beta1"}, std::pair{beta2, "--beta2"}})
    require(std::isfinite(v) && v >= 0 && v < 1, fmt::format("{} must be in [0, 1), got {}", option, v));
  finite_at_least_0(alpha, "--alpha");
}

void ClipSpec::validate() const {
  require(std::isfinite(norm) && norm >= 0, fmt::format("--clip-norm must be finite and >= 0 (0: off), got {}", norm));
  require(std::isfinite(value) && value >= 0,
          fmt::format("--clip-value must be finite and >= 0 (0: off), got {}", value));
}

template <Scalar S>
double gradient_norm(std::span<const ParamSlot<S>> slots) {
  double total = 0;
  for (const auto& s : slots) {
    // In the tensor's dtype, as torch.norm (vectorised).
    const double sum = static_cast<double>(Eigen::Map<const Vec<S>>(s.grad, s.size).squaredNorm());
    const double n =
        static_cast<double>(static_cast<S>(std::sqrt(sum)));  // each tensor's norm in its dtype, as torch.norm
    total += n * n;
  }
  return static_cast<double>(static_cast<S>(std::sqrt(total)));
}

template <Scalar S>
bool clip_gradients(std::span<const ParamSlot<S>> slots, const ClipSpec& clip, double norm) {
  bool clipped = false;
  if (clip.norm > 0) {
    const S coef = static_cast<S>(clip.norm) / (static_cast<S>(norm) + static_cast<S>(1e-6));
    if (coef < S(1)) {  // torch multiplies by the clamped coefficient, 1 here: no change
      clipped = true;
      for (const auto& s : slots)
        for (Index i = 0; i < s.size; ++i) s.grad[i] *= coef;
    }
  }
  if (clip.value > 0) {
    const S v = static_cast<S>(clip.value);
    for (const auto& s : slots)
      for (Index i = 0; i < s.size; ++i) {
        const S g = std::clamp(s.grad[i], -v, v);
        clipped = clipped || g != s.grad[i];
        s.grad[i] = g;
      }
  }
  return clipped;
}

namespace {

template <class S>
struct AdamConstants {
  S neg_step_size, root2, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, decay, wd;
};

/// Adam's update of n values, torch's operations in torch's order, as whole
/// array operations (Eigen's packet square root and division vectorise; a
/// loop over std::sqrt does not, as it may set errno).
template <class S, bool AdamW, bool WeightDecay>
void adam_update(S* p0, const S* g0, S* m10, S* m20, Index n, const AdamConstants<S>& c) {
  using A = Eigen::Array<S, Eigen::Dynamic, 1>;
  Eigen::Map<A> p(p0, n), m1(m10, n), m2(m20, n);
  const Eigen::Map<const A> g(g0, n);
  if constexpr (AdamW) p *= c.decay;
  const auto update = [&](const auto& grad) {
    m1 = m1 * c.beta1;
    m1 = m1 + c.one_minus_beta1 * grad;
    m2 = m2 * c.beta2;
    m2 = m2 + c.one_minus_beta2 * grad * grad;
    p = p + c.neg_step_size * (m1 / (m2.sqrt() / c.root2 + c.eps));
  };
  if constexpr (WeightDecay)
    update((g + c.wd * p).eval());
  else
    update(g);
}

}  // namespace

template <Scalar S>
Optimizer<S>::Optimizer(const OptimizerSpec& spec) : spec_(spec) {
  spec_.validate();
}

template <Scalar S>
std::vector<const char*> Optimizer<S>::buffer_names() const {
  switch (spec_.kind) {
    case OptimizerKind::sgd:
      return spec_.momentum != 0 ? std::vector<const char*>{"momentum_buffer"} : std::vector<const char*>{};
    case OptimizerKind::adam:
    case OptimizerKind::adamw: return {"exp_avg", "exp_avg_sq"};
    case OptimizerKind::rmsprop:
      return spec_.momentum > 0 ? std::vector<const char*>{"square_avg", "momentum_buffer"}
                                : std::vector<const char*>{"square_avg"};
  }
  return {};
}

template <Scalar S>
void Optimizer<S>::prepare(std::span<const ParamSlot<S>> slots) {
  if (!names_.empty()) {
    if (names_.size() != slots.size()) throw InvalidInput("optimizer: the parameters changed between steps");
    return;
  }
  const size_t buffers = buffer_names().size();
  for (const auto& s : slots) {
    names_.push_back(s.name);
    first_.push_back(buffers >= 1 ? Vec<S>::Zero(s.size) : Vec<S>());
    second_.push_back(buffers >= 2 ? Vec<S>::Zero(s.size) : Vec<S>());
  }
}

template <Scalar S>
std::vector<std::pair<std::string, Vec<S>*>> Optimizer<S>::named_buffers() {
  std::vector<std::pair<std::string, Vec<S>*>> out;
  const auto names = buffer_names();
  for (size_t k = 0; k < names_.size(); ++k) {
    if (names.size() >= 1) out.emplace_back(names_[k] + "." + names[0], &first_[k]);
    if (names.size() >= 2) out.emplace_back(names_[k] + "." + names[1], &second_[k]);
  }
  return out;
}

template <Scalar S>
std::vector<std::pair<std::string, const Vec<S>*>> Optimizer<S>::state() const {
  std::vector<std::pair<std::string, const Vec<S>*>> out;
  if (steps_ == 0) return out;
  for (auto& [name, buffer] : const_cast<Optimizer*>(this)->named_buffers()) out.emplace_back(name, buffer);
  return out;
}

template <Scalar S>
void Optimizer<S>::restore_buffer(const std::string& name, const std::vector<double>* values, Vec<S>& buffer) {
  require(values != nullptr, fmt::format("checkpoint: missing optimizer state '{}'", name));
  require(static_cast<Index>(values->size()) == buffer.size(),
          fmt::format("checkpoint: optimizer state '{}' has {} values, expected {}", name, values->size(),
                      buffer.size()));
  for (Index i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<S>((*values)[static_cast<size_t>(i)]);
}

template <Scalar S>
void Optimizer<S>::step(std::span<const ParamSlot<S>> slots) {
  prepare(slots);
  ++steps_;
  const OptimizerSpec& o = spec_;
  const S wd = static_cast<S>(o.weight_decay);
  const S neg_lr = static_cast<S>(-o.lr);
  for (size_t k = 0; k < slots.size(); ++k) {
    const ParamSlot<S>& s = slots[k];
    if (first_[k].size() > 0 && s.size != first_[k].size())
      throw InvalidInput("optimizer: the parameters changed between steps");
    S* p = s.value;
    const S* g0 = s.grad;
    S* b1 = first_[k].data();
    S* b2 = second_[k].data();
    switch (o.kind) {
      case OptimizerKind::sgd: {
        const S m = static_cast<S>(o.momentum), keep = static_cast<S>(1.0 - o.dampening);
        for (Index i = 0; i < s.size; ++i) {
          S d = g0[i];
          if (o.weight_decay != 0) d = d + wd * p[i];
          if (o.momentum != 0) {
            b1[i] = steps_ == 1 ? d : b1[i] * m + keep * d;
            d = o.nesterov ? d + m * b1[i] : b1[i];
          }
          p[i] = p[i] + neg_lr * d;
        }
        break;
      }
      case OptimizerKind::adam:
      case OptimizerKind::adamw: {
        const double step = static_cast<double>(steps_);
        const double correction1 = 1 - std::pow(o.beta1, step), correction2 = 1 - std::pow(o.beta2, step);
        const AdamConstants<S> c{static_cast<S>(-(o.lr / correction1)), static_cast<S>(std::sqrt(correction2)),
                                 static_cast<S>(o.beta1), static_cast<S>(o.beta2), static_cast<S>(1 - o.beta1),
                                 static_cast<S>(1 - o.beta2), static_cast<S>(o.eps),
                                 static_cast<S>(1 - o.lr * o.weight_decay), wd};
        // One loop for each combination, without a branch inside, so that it vectorises.
        if (o.kind == OptimizerKind::adamw)
          adam_update<S, true, false>(p, g0, b1, b2, s.size, c);
        else if (o.weight_decay != 0)
          adam_update<S, false, true>(p, g0, b1, b2, s.size, c);
        else
          adam_update<S, false, false>(p, g0, b1, b2, s.size, c);
        break;
      }
      case OptimizerKind::rmsprop: {
        const S alpha = static_cast<S>(o.alpha), one_minus_alpha = static_cast<S>(1 - o.alpha);
        const S eps = static_cast<S>(o.eps), m = static_cast<S>(o.momentum);
        for (Index i = 0; i < s.size; ++i) {
          S g = g0[i];
          if (o.weight_decay != 0) g = g + wd * p[i];
          b1[i] = b1[i] * alpha;
          b1[i] = b1[i] + one_minus_alpha * g * g;
          const S avg = std::sqrt(b1[i]) + eps;
          if (o.momentum > 0) {
            b2[i] = b2[i] * m + g / avg;
            p[i] = p[i] + neg_lr * b2[i];
          } else {
            p[i] = p[i] + neg_lr * (g / avg);
          }
        }
        break;
      }
    }
  }
}

template double gradient_norm(std::span<const ParamSlot<float>>);
template double gradient_norm(std::span<const ParamSlot<double>>);
template bool clip_gradients(std::span<const ParamSlot<float>>, const ClipSpec&, double);
template bool clip_gradients(std::span<const ParamSlot<double>>, const ClipSpec&, double);
template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace rnnscope
