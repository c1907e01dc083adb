#include "rnnscope/studies/activations.hpp"

#include "rnnscope/activations/activation.hpp"

namespace rnnscope {

void ActivationSpec::validate() const { (void)activation_study(eps, steps, order); }

std::vector<ActivationsStudy::Task> ActivationsStudy::tasks(const Spec& spec) {
  spec.validate();
  return {Task{0}};
}

ActivationsStudy::Partial ActivationsStudy::run(const Spec& spec, const Task& task) {
  Partial p;
  p.task = task.task;
  ActivationResult& r = p.result;
  r.study = activation_study(spec.eps, spec.steps, spec.order);
  const auto ps = derivative_maclaurin(Activation::sigmoid, spec.order);
  const auto pt = derivative_maclaurin(Activation::tanh, spec.order);
  for (int i = -200; i <= 200; ++i) {
    const double x = i / 50.0;
    r.x.push_back(x);
    r.sigmoid_prime.push_back(derivative(Activation::sigmoid, x));
    r.tanh_prime.push_back(derivative(Activation::tanh, x));
    r.sigmoid_prime_approx.push_back(evaluate_polynomial(ps, x));
    r.tanh_prime_approx.push_back(evaluate_polynomial(pt, x));
  }
  return p;
}

ActivationResult ActivationsStudy::reduce(const Spec&, std::vector<Partial> parts) {
  order_by_task(parts, 1);
  return std::move(parts.front().result);
}

Cost ActivationsStudy::cost(const Spec& spec) {
  // rho(eps)^T and its approximations for T = 1..steps, a handful of curves, and the 401-point derivative plots.
  Cost c;
  c.bytes = values(16 * static_cast<double>(spec.steps) + 8 * 401);
  c.flops = 100 * static_cast<double>(spec.steps) + 401 * 100 * (spec.order + 1.0);
  c.sizes = {{"T", static_cast<double>(spec.steps)}};
  return c;
}

}  // namespace rnnscope
