#include "rnnscope/studies/phase.hpp"

#include <fmt/format.h>

#include <cmath>

#include "rnnscope/core/error.hpp"
#include "rnnscope/diagnostics/mean_field.hpp"
#include "rnnscope/studies/lyapunov.hpp"

namespace rnnscope {

namespace {

double at(double lo, double hi, Index i, Index n) {
  return n == 1 ? 0.5 * (lo + hi) : lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
}

MeanFieldSpec plane_point(const PhaseSpec& spec, double g, double input_scale, bool with_critical) {
  MeanFieldSpec m;
  m.model = spec.model;
  m.init = Init::scaled;
  m.scale = g;
  m.input_scale = input_scale;
  m.with_critical = with_critical;
  return m;
}

}  // namespace

void PhaseSpec::validate() const {
  require(has_mean_field(model.cell),
          fmt::format("phase: the {} cell has no mean-field theory ({}); choose rnn_tanh, rnn_relu, rnn_sigmoid or "
                      "ctrnn",
                      to_string(model.cell), mean_field_gap(model.cell)));
  require(model.cell != CellKind::lstm && model.cell != CellKind::gru,
          fmt::format("phase: the {} cell's theory gives no exponent past the edge (its gates swing with a chaotic "
                      "state), and the diagram needs both sides; choose rnn_tanh, rnn_relu, rnn_sigmoid or ctrnn",
                      to_string(model.cell)));
  check_cell_shape(model);
  require(std::isfinite(g_min) && std::isfinite(g_max) && g_min > 0 && g_min < g_max && g_max <= 100,
          fmt::format("phase: the recurrent scales need 0 < g-min < g-max <= 100, got {} and {}", g_min, g_max));
  require(std::isfinite(s_min) && std::isfinite(s_max) && s_min >= 0 && s_min < s_max && s_max <= 100,
          fmt::format("phase: the input scales need 0 <= s-min < s-max <= 100, got {} and {}", s_min, s_max));
  require(g_points >= 2 && g_points <= 400 && s_points >= 2 && s_points <= 400,
          fmt::format("phase: the theory grid needs 2..400 points a side, got {} x {}", g_points, s_points));
  require(measured_g >= 1 && measured_g <= 50 && measured_s >= 1 && measured_s <= 50,
          fmt::format("phase: the measured grid needs 1..50 points a side, got {} x {}", measured_g, measured_s));
  require(model.hidden_size >= 1 && model.hidden_size <= 1024,
          fmt::format("hidden must be in 1..1024, got {}", model.hidden_size));
  require(model.input_size >= 1 && model.input_size <= 65536,
          fmt::format("input-size must be in 1..65536, got {}", model.input_size));
  require(steps >= 10 && steps <= 100000, fmt::format("T must be in 10..100000, got {}", steps));
  require(seeds >= 1 && seeds <= 100, fmt::format("seeds must be in 1..100, got {}", seeds));
}

std::vector<PhaseStudy::Task> PhaseStudy::tasks(const Spec& spec) {
  spec.validate();
  std::vector<Task> t;
  for (Index i = 0; i < spec.s_points; ++i) t.push_back({t.size(), true, i, 0});
  for (Index i = 0; i < spec.measured_s; ++i)
    for (Index j = 0; j < spec.measured_g; ++j) t.push_back({t.size(), false, i, j});
  return t;
}

PhaseStudy::Partial PhaseStudy::run(const Spec& spec, const Task& task) {
  Partial p;
  p.task = task.task;
  if (task.theory) {
    const double s = at(spec.s_min, spec.s_max, task.row, spec.s_points);
    for (Index j = 0; j < spec.g_points; ++j) {
      const MeanField m = mean_field(plane_point(spec, at(spec.g_min, spec.g_max, j, spec.g_points), s, j == 0));
      p.lambda.push_back(m.lambda);
      p.chi.push_back(m.chi);
      if (j == 0) p.g_critical = m.g_critical;
    }
    return p;
  }
  const double g = at(spec.g_min, spec.g_max, task.column, spec.measured_g);
  const double s = at(spec.s_min, spec.s_max, task.row, spec.measured_s);
  LyapunovSpec l;
  l.model = spec.model;
  l.init = Init::scaled;
  l.scale = g;
  l.input_scale = s;
  l.steps = spec.steps;
  l.seeds = spec.seeds;
  l.batch = 1;
  l.top = 1;
  l.seed = spec.seed + task.task;
  p.measured = lyapunov_study(l).mean[0];
  p.predicted = mean_field(plane_point(spec, g, s, false)).lambda;
  return p;
}

PhaseResult PhaseStudy::reduce(const Spec& spec, std::vector<Partial> parts) {
  order_by_task(parts, static_cast<std::size_t>(spec.s_points + spec.measured_s * spec.measured_g));
  PhaseResult r;
  for (Index j = 0; j < spec.g_points; ++j) r.g.push_back(at(spec.g_min, spec.g_max, j, spec.g_points));
  for (Index i = 0; i < spec.s_points; ++i) r.input_scale.push_back(at(spec.s_min, spec.s_max, i, spec.s_points));
  for (Index j = 0; j < spec.measured_g; ++j) r.measured_g.push_back(at(spec.g_min, spec.g_max, j, spec.measured_g));
  for (Index i = 0; i < spec.measured_s; ++i)
    r.measured_input_scale.push_back(at(spec.s_min, spec.s_max, i, spec.measured_s));
  for (const auto& p : parts) {
    if (static_cast<Index>(p.task) < spec.s_points) {
      r.lambda.insert(r.lambda.end(), p.lambda.begin(), p.lambda.end());
      r.chi.insert(r.chi.end(), p.chi.begin(), p.chi.end());
      r.g_critical.push_back(p.g_critical);
    } else {
      r.measured.push_back(p.measured);
      r.predicted.push_back(p.predicted);
    }
  }
  // The usual initialisations on the plane: g, and the input scale whose variance under the plane's input
  // weights (xavier, no bias) equals theirs with inputs N(0, 1).
  const InitVariances plane = init_variances(Init::scaled, 1.0, spec.model.cell, spec.model.input_size,
                                             spec.model.hidden_size, spec.model.bias);
  const double I = static_cast<double>(spec.model.input_size);
  for (const auto& [name, init] : {std::pair<const char*, Init>{"pytorch", Init::pytorch},
                                   std::pair<const char*, Init>{"xavier = orthogonal 1", Init::xavier}}) {
    const InitVariances v =
        init_variances(init, 1.0, spec.model.cell, spec.model.input_size, spec.model.hidden_size, spec.model.bias);
    r.markers.push_back({name, std::sqrt(v.recurrent), std::sqrt((I * v.input + v.bias) / (I * plane.input))});
  }
  return r;
}

Cost PhaseStudy::cost(const Spec& spec) {
  // The theory grid's points are a few numbers each; each measured point is a Lyapunov study of `seeds`
  // networks (one sequence each, the top exponent).
  LyapunovSpec l;
  l.model = spec.model;
  l.steps = spec.steps;
  l.seeds = spec.seeds;
  l.batch = 1;
  l.top = 1;
  Cost c = LyapunovStudy::cost(l);
  c = times(c, static_cast<double>(spec.measured_g) * static_cast<double>(spec.measured_s));
  c.bytes = LyapunovStudy::cost(l).bytes;  // the points run one after the other
  // A theory point solves the mean-field equations: the CT-RNN's two-time ones take the longest.
  const double theory = spec.model.cell == CellKind::ctrnn ? 3e8 : 1.5e7;
  c.flops += static_cast<double>(spec.g_points) * static_cast<double>(spec.s_points) * theory;
  c.bytes += values(4 * static_cast<double>(spec.g_points) * static_cast<double>(spec.s_points));
  return c;
}

}  // namespace rnnscope
