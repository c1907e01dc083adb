#include "rnnscope/studies/lstm_paths.hpp"

#include <fmt/format.h>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/lstm_paths.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope {

void LstmPathSpec::validate() const {
  NetworkSpec::validate();
  require(model.cell == CellKind::lstm, fmt::format("the cell-path study needs an lstm, got {}", to_string(model.cell)));
}

std::vector<SeedTask> LstmPathStudy::tasks(const Spec& spec) {
  spec.validate();
  return seed_tasks(spec);
}

LstmPathStudy::Partial LstmPathStudy::run(const Spec& spec, const Task& task) {
  Rng rng = seed_rng(spec, task.task);
  const DrawnNetwork d = draw_network(spec, rng);
  const auto& cell = std::get<Stack<LSTM<double>>>(d.model).layer(0);
  const auto cache = cell.forward(d.x, spec.batch);
  const Index H = cell.output_size();
  Partial p;
  p.task = task.task;
  for (Index b = 0; b < spec.batch; ++b) {
    const Vec<double> u_h = rng.normal_matrix<double>(H, 1), u_c = rng.normal_matrix<double>(H, 1);
    const LstmPaths paths = lstm_paths(cell, cache, b, u_h, u_c);
    p.cell.push_back(paths.cell_path_log10);
    p.hidden.push_back(paths.hidden_path_log10);
    p.total.push_back(paths.total_log10);
  }
  return p;
}

LstmPathResult LstmPathStudy::reduce(const Spec& spec, std::vector<Partial> parts) {
  order_by_task(parts, static_cast<std::size_t>(spec.seeds));
  std::vector<std::vector<double>> cell, hidden, total;
  for (auto& p : parts) {
    for (auto& c : p.cell) cell.push_back(std::move(c));
    for (auto& c : p.hidden) hidden.push_back(std::move(c));
    for (auto& c : p.total) total.push_back(std::move(c));
  }
  LstmPathResult r;
  for (Index L = 0; L <= spec.steps; ++L) r.distance.push_back(L);
  r.cell_log10 = curve_statistics(cell).mean;
  r.hidden_log10 = curve_statistics(hidden).mean;
  r.total_log10 = curve_statistics(total).mean;
  return r;
}

Cost LstmPathStudy::cost(const Spec& spec) {
  Cost c = network_cost(spec);
  const double T = static_cast<double>(spec.steps),
               runs = static_cast<double>(spec.seeds) * static_cast<double>(spec.batch);
  const double H = static_cast<double>(spec.model.hidden_size);
  c.bytes += values(2 * 3 * runs * (T + 1) + 8 * H * H);  // three curves per trajectory, and the path Jacobians
  c.flops += runs * T * 3 * step_jacobian_flops(spec.model);
  return c;
}

}  // namespace rnnscope
