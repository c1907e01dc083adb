// The order-to-chaos phase diagram of a cell (docs/theory.md): over a grid of
// the recurrent scale g (W_hh ~ N(0, g^2/H), the scaled initialisation) and the
// input scale (inputs N(0, input_scale^2), W_ih xavier, no bias), the
// mean-field exponent lambda_MF and the edge chi = 1 (g_c for each input
// scale); on a coarser grid of the same plane, the largest Lyapunov exponent
// measured on random networks of width H, and the difference.
//
// The initialisations a user is likely to pick are placed on the plane by
// their g and the input scale that gives their input variance s^2 under the
// plane's input weights: pytorch (g = 1/sqrt(3), its W_ih and biases),
// xavier (g = 1) and orthogonal at scale 1 (g = 1, the same point: in mean
// field an orthogonal W of scale g acts as a Gaussian one), each fed inputs N(0, 1).
//
// Tasks: one per row of the theory grid (an input scale), then one per point
// of the measured grid.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rnnscope/sequence/model.hpp"
#include "rnnscope/studies/study.hpp"

namespace rnnscope {

struct PhaseSpec {
  ModelSpec model;  ///< rnn_tanh, rnn_relu, rnn_sigmoid or ctrnn (with dt); hidden: the measured networks' width
  double g_min = 0.1, g_max = 3.0;
  Index g_points = 59;
  double s_min = 0.0, s_max = 3.0;  ///< input scales
  Index s_points = 31;
  Index measured_g = 10, measured_s = 4;  ///< the measured grid spans the same ranges
  Index steps = 1000;                     ///< T of each measured trajectory (the exponent after T/10 warm-up)
  int seeds = 2;                          ///< networks per measured point (one sequence each)
  std::uint64_t seed = 1;
  /// Throws InvalidInput naming the first field out of range: a covered cell, 0 < g_min < g_max <= 100,
  /// 0 <= s_min < s_max <= 100, grids 2..400 (theory) and 1..50 (measured), hidden 1..1024, T 10..100000,
  /// seeds 1..100.
  void validate() const;
};

struct PhaseMarker {
  std::string name;
  double g = 0, input_scale = 0;
};

struct PhaseResult {
  std::vector<double> g, input_scale;  ///< the theory grid's centres
  std::vector<double> lambda, chi;     ///< row-major: [i * g.size() + j] at (g[j], input_scale[i])
  std::vector<double> g_critical;      ///< per input scale; NaN where chi stays below 1
  std::vector<double> measured_g, measured_input_scale;
  std::vector<double> measured, predicted;  ///< row-major over the measured grid: lambda_1 and lambda_MF
  std::vector<PhaseMarker> markers;
};

struct PhaseStudy {
  using Spec = PhaseSpec;
  struct Task {
    std::size_t task = 0;
    bool theory = true;  ///< a theory row, or a measured point
    Index row = 0, column = 0;
  };
  struct Partial : TaskIndex {
    std::vector<double> lambda, chi;  ///< a theory row
    double g_critical = 0;
    double measured = 0, predicted = 0;  ///< a measured point
  };
  using Result = PhaseResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline PhaseResult phase_study(const PhaseSpec& spec, const Execution& execution = {}) {
  return run_study<PhaseStudy>(spec, execution);
}

}  // namespace rnnscope
