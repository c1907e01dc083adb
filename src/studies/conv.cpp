#include "rnnscope/studies/conv.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "rnnscope/cells/conv1d.hpp"
#include "rnnscope/core/error.hpp"

namespace rnnscope {

void ConvSpec::validate() const {
  require(steps >= 1 && steps <= 100000, fmt::format("conv study: T must be in 1..100000, got {}", steps));
  require(!dilations.empty() && dilations.size() <= 32,
          fmt::format("conv study: needs 1..32 layers (one per dilation), got {}", dilations.size()));
  require(input_size >= 1 && input_size <= 1024,
          fmt::format("conv study: input channels must be in 1..1024, got {}", input_size));
  require(channels >= 1 && channels <= 1024, fmt::format("conv study: channels must be in 1..1024, got {}", channels));
  require(kernel_size >= 1 && kernel_size <= 1024,
          fmt::format("conv study: kernel size must be in 1..1024, got {}", kernel_size));
  double work = 0;  // multiply-adds of the forward pass, the backward's cost within a factor 2
  for (const Index d : dilations) {
    require(d >= 1 && d <= 100000, fmt::format("conv study: dilations must be in 1..100000, got {}", d));
    work += static_cast<double>(kernel_size) * static_cast<double>(channels) *
            static_cast<double>(std::max(channels, input_size)) * static_cast<double>(steps);
  }
  require(work <= 2e10, fmt::format("conv study: layers x K x channels x max(channels, input channels) x T is {:.3g}, "
                                    "above the limit 2e10 (about a minute); use fewer channels or a shorter T",
                                    work));
}

std::vector<ConvStudy::Task> ConvStudy::tasks(const Spec& spec) {
  spec.validate();
  return {Task{0}};
}

ConvStudy::Partial ConvStudy::run(const Spec& spec, const Task& task) {
  std::vector<CausalConvSpec> layers;
  for (const Index dil : spec.dilations) layers.push_back({spec.channels, spec.kernel_size, dil});
  ConvStack<double> stack(spec.input_size, layers, spec.nonlinearity);
  Rng rng(spec.seed);
  stack.init_uniform(rng);
  const Index T = spec.steps;
  const Mat<double> x = rng.normal_matrix<double>(spec.input_size, T);
  const auto cache = stack.forward(x, 1);
  Mat<double> dy = Mat<double>::Zero(stack.out_channels(), T);
  dy.col(T - 1) = rng.normal_matrix<double>(stack.out_channels(), 1);
  auto grads = stack.zero_gradients(cache);
  stack.backward(cache, dy, grads);
  Partial p;
  p.task = task.task;
  ConvResult& r = p.result;
  r.receptive_field = stack.receptive_field();
  for (Index d = 0; d < T; ++d) {
    r.distance.push_back(d);
    r.norm.push_back(grads.d_input.col(T - 1 - d).norm());
  }
  for (size_t i = 0; i < r.norm.size(); ++i) {
    r.relative.push_back(r.norm[i] / r.norm.front());
    if (r.distance[i] >= r.receptive_field) {
      r.largest_norm_past_receptive_field = std::max(r.largest_norm_past_receptive_field, r.norm[i]);
      r.zero_past_receptive_field = r.zero_past_receptive_field && r.norm[i] == 0;
    }
  }
  return p;
}

ConvResult ConvStudy::reduce(const Spec&, std::vector<Partial> parts) {
  order_by_task(parts, 1);
  return std::move(parts.front().result);
}

Cost ConvStudy::cost(const Spec& spec) {
  // One sequence: the input, each layer's cache (its input and output, (C, T)) and the gradients.
  const double T = static_cast<double>(spec.steps), C = static_cast<double>(std::max(spec.channels, spec.input_size));
  const double layers = static_cast<double>(spec.dilations.size()), K = static_cast<double>(spec.kernel_size);
  Cost c;
  c.bytes = values(4 * layers * C * T + 2 * layers * C * C * K + 4 * T);
  c.flops = 6 * layers * C * C * K * T;
  c.sizes = {{"T", T}, {"channels", static_cast<double>(spec.channels)}};
  return c;
}

}  // namespace rnnscope
