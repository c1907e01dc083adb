// The activation study (diagnostics/activation_study.hpp) with the curves a
// figure shows: sigmoid', tanh' and their order-n Maclaurin polynomials,
// sampled on [-4, 4] in steps of 0.02. One task.
#pragma once

#include <vector>

#include "rnnscope/diagnostics/activation_study.hpp"
#include "rnnscope/studies/study.hpp"

namespace rnnscope {

struct ActivationSpec {
  double eps = 0.05;  // where the derivatives are compared
  int steps = 20;     // T: rho(eps)^T for T = 1..steps
  int order = 1;      // of the Maclaurin approximations
  /// Throws InvalidInput on a non-finite eps, T < 1, order < 0, or results
  /// that are not finite doubles (activation_study's checks; cheap).
  void validate() const;
};

struct ActivationResult {
  ActivationStudy study;
  std::vector<double> x;  // -4..4
  std::vector<double> sigmoid_prime, tanh_prime, sigmoid_prime_approx, tanh_prime_approx;
};

struct ActivationsStudy {
  using Spec = ActivationSpec;
  struct Task {
    std::size_t task = 0;
  };
  struct Partial : TaskIndex {
    ActivationResult result;
  };
  using Result = ActivationResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline ActivationResult activations_study(const ActivationSpec& spec, const Execution& execution = {}) {
  return run_study<ActivationsStudy>(spec, execution);
}

}  // namespace rnnscope
