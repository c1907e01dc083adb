// A causal Conv1D stack (cells/conv1d.hpp ConvStack) on random input: the
// gradient of its last output step with respect to the input d steps
// earlier, exactly zero from the receptive field on. One task.
#pragma once

#include <cstdint>
#include <vector>

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/core/tensor.hpp"
#include "rnnscope/studies/study.hpp"

namespace rnnscope {

struct ConvSpec {
  Index input_size = 4;
  Index channels = 8;
  Index kernel_size = 3;
  std::vector<Index> dilations{1, 2, 4};  // one layer per entry
  Activation nonlinearity = Activation::tanh;
  Index steps = 64;
  std::uint64_t seed = 1;
  /// Throws InvalidInput naming the first field out of range.
  void validate() const;
};

struct ConvResult {
  Index receptive_field = 0;    // 1 + sum_l dilation_l (K - 1)
  std::vector<Index> distance;  // d = 0..T-1
  std::vector<double> norm;     // ||d <r, y_{T-1}> / d x_{T-1-d}||, exactly 0 for d >= receptive_field
  std::vector<double> relative; // norm / norm at d = 0
  bool zero_past_receptive_field = true;     // every norm at d >= receptive_field is exactly 0
  double largest_norm_past_receptive_field = 0;
};

struct ConvStudy {
  using Spec = ConvSpec;
  struct Task {
    std::size_t task = 0;
  };
  struct Partial : TaskIndex {
    ConvResult result;
  };
  using Result = ConvResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline ConvResult conv_distance_study(const ConvSpec& spec, const Execution& execution = {}) {
  return run_study<ConvStudy>(spec, execution);
}

}  // namespace rnnscope
