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

Cost SpectrumStudy::cost(const Spec& spec) {
  // Each block (n, n) is decomposed (complex eigenvectors and their inverse), and each power W^n up to max_power
  // is formed twice (by products and from the eigendecomposition) and its singular values found: about 600 n^3
  // operations a power at the rate of the products (calibrated: a 512 x 512 block, 50 powers, 140 s on one
  // thread of the machine of docs/performance.md).
  const double n =
      spec.matrix.size() > 0 ? static_cast<double>(spec.matrix.rows()) : static_cast<double>(spec.model.hidden_size);
  const CellKind k = spec.model.cell;
  const double blocks = spec.matrix.size() > 0             ? 1.0
                        : k == CellKind::rnn_skip          ? 2.0
                        : k == CellKind::rnn_antisymmetric ? 3.0
                        : is_euler(k)                      ? 2.0
                                                           : static_cast<double>(gate_blocks(k));
  Cost c;
  if (spec.matrix.size() == 0) {
    NetworkSpec drawn = spec;
    drawn.steps = 1;  // the spectra draw the network but run no sequence
    drawn.batch = 1;
    c = network_cost(drawn);
  }
  c.bytes += values(16 * n * n);
  c.products += blocks * (100 + 600 * static_cast<double>(spec.max_power)) * n * n * n;  // one network (seed 0)
  c.sizes = {{spec.matrix.size() > 0 ? "matrix" : "hidden", n}};
  return c;
}

}  // namespace rnnscope
