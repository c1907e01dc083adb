#include "rnnscope/studies/network.hpp"

#include <fmt/format.h>

#include <cmath>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/mean_field.hpp"

namespace rnnscope {

void NetworkSpec::validate() const {
  require(model.hidden_size >= 1 && model.hidden_size <= 1024,
          fmt::format("hidden must be in 1..1024, got {}", model.hidden_size));
  require(model.input_size >= 1 && model.input_size <= 65536,
          fmt::format("input-size must be in 1..65536, got {}", model.input_size));
  require(model.num_layers >= 1 && model.num_layers <= 8,
          fmt::format("layers must be in 1..8, got {}", model.num_layers));
  require(steps >= 1 && steps <= 100000, fmt::format("T must be in 1..100000, got {}", steps));
  require(seeds >= 1 && seeds <= 1000, fmt::format("seeds must be in 1..1000, got {}", seeds));
  require(batch >= 1 && batch <= 1000, fmt::format("batch must be in 1..1000, got {}", batch));
  require(std::isfinite(scale), "scale must be finite");
  check_cell_shape(model);
  require(init != Init::critical || has_mean_field(model.cell),
          fmt::format("--init critical sets the mean-field g_c, which the {} cell has none of: {}",
                      to_string(model.cell), mean_field_gap(model.cell)));
  // The step Jacobians and chains are (S, S) with S = K H for the skip cell.
  require(model.cell != CellKind::rnn_skip || model.skip * model.hidden_size <= 4096,
          fmt::format("the skip cell's state holds skip x hidden = {} x {} = {} values; the studies' (S, S) "
                      "Jacobians allow at most 4096: lower --skip or --hidden",
                      model.skip, model.hidden_size, model.skip * model.hidden_size));
  require(std::isfinite(forget_bias), "forget-bias must be finite");
  require(std::isfinite(input_scale), "input scale must be finite");
}

Cost network_cost(const NetworkSpec& spec) {
  Cost c = forward_cost(spec.model, spec.steps, spec.batch);
  c.bytes += values(static_cast<double>(spec.model.input_size) * static_cast<double>(spec.steps) *
                    static_cast<double>(spec.batch));  // the drawn input beside the cache's copy
  c.flops *= spec.seeds;
  c.products *= spec.seeds;
  return c;
}

std::vector<SeedTask> seed_tasks(const NetworkSpec& spec) {
  std::vector<SeedTask> tasks;
  tasks.reserve(static_cast<std::size_t>(spec.seeds));
  for (int s = 0; s < spec.seeds; ++s) tasks.push_back({static_cast<std::size_t>(s)});
  return tasks;
}

MeanField network_theory(const NetworkSpec& spec) {
  MeanFieldSpec m;
  m.model = spec.model;
  m.init = spec.init;
  m.scale = spec.scale;
  m.input_scale = spec.input_scale;
  m.forget_bias = spec.forget_bias;
  return mean_field(m);
}

Rng seed_rng(const NetworkSpec& spec, std::size_t s) {
  return Rng(spec.seed + static_cast<std::uint64_t>(s) * 0x9E3779B97F4A7C15ULL);
}

DrawnNetwork draw_network(const NetworkSpec& spec, Rng& rng) {
  const ModelSpec& ms = spec.model;
  DrawnNetwork d{make_model<double>(ms), {}};
  const double scale = resolve_scale(spec.init, spec.scale, ms, spec.input_scale, spec.forget_bias);
  initialise_model(d.model, spec.init, scale, spec.forget_bias, rng);
  d.x = rng.normal_matrix<double>(ms.input_size, spec.steps * spec.batch, spec.input_scale);
  return d;
}

}  // namespace rnnscope
