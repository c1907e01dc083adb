#include "rnnscope/studies/spectrum.hpp"

#include <fmt/format.h>

#include <cmath>
#include <type_traits>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

void SpectrumSpec::validate() const {
  NetworkSpec::validate();
  require(max_power >= 1 && max_power <= 100000, fmt::format("max-power must be in 1..100000, got {}", max_power));
  if (matrix.size() == 0) return;
  require(matrix.rows() == matrix.cols(),
          fmt::format("spectrum: the matrix must be square, got ({}, {})", matrix.rows(), matrix.cols()));
  require(matrix.rows() <= kMaxSpectrumMatrix,
          fmt::format("spectrum: the matrix is {} x {}, larger than the limit {} x {}", matrix.rows(), matrix.cols(),
                      kMaxSpectrumMatrix, kMaxSpectrumMatrix));
  check_finite(matrix_name, matrix);
  require(std::isfinite(gamma) && gamma > 0, fmt::format("spectrum: gamma must be positive and finite, got {}", gamma));
}

std::vector<SeedTask> SpectrumStudy::tasks(const Spec& spec) {
  spec.validate();
  return {SeedTask{0}};
}

SpectrumStudy::Partial SpectrumStudy::run(const Spec& spec, const Task& task) {
  if (spec.matrix.size() > 0) {
    Partial p;
    p.task = task.task;
    p.blocks = analyse_blocks({{spec.matrix_name, spec.matrix}}, spec.gamma, spec.max_power);
    return p;
  }
  Rng rng = seed_rng(spec, task.task);
  const DrawnNetwork d = draw_network(spec, rng);
  const auto blocks = std::visit(
      [](const auto& stack) {
        auto b = recurrent_blocks(stack.layer(0));
        using Cell = std::decay_t<decltype(stack.layer(0))>;
        if constexpr (std::is_same_v<Cell, EulerRnn<double>> || std::is_same_v<Cell, EulerRnn<float>>)
          b.push_back(euler_step_block(stack.layer(0)));
        return b;
      },
      d.model);
  Partial p;
  p.task = task.task;
  p.blocks = analyse_blocks(blocks, conditions_gamma(spec.model.cell), spec.max_power);
  return p;
}

SpectrumResult SpectrumStudy::reduce(const Spec&, std::vector<Partial> parts) {
  order_by_task(parts, 1);
  return {std::move(parts.front().blocks)};
}

}  // namespace rnnscope
