// Lyapunov spectra (natural log per step) of random networks' trajectories,
// top k exponents (k = 0: all), one per (seed, batch element), after a warm-up
// of T/10 steps (diagnostics/lyapunov.hpp). Task: one seed.
#pragma once

#include <vector>

#include "rnnscope/studies/network.hpp"

namespace rnnscope {

struct LyapunovSpec : NetworkSpec {
  Index top = 0;  // exponents, largest first; 0: all (the state size)
  /// NetworkSpec's limits, and top in 0..state size (2H for the LSTM).
  void validate() const;
};

struct LyapunovResult {
  std::vector<double> mean, std;  // per exponent index, largest first
  std::vector<std::vector<double>> trajectories;
  MeanField theory;  // the mean-field prediction: theory.lambda against mean[0]
};

struct LyapunovStudy {
  using Spec = LyapunovSpec;
  using Task = SeedTask;
  struct Partial : TaskIndex {
    std::vector<std::vector<double>> trajectories;  // one spectrum per batch element
  };
  using Result = LyapunovResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline LyapunovResult lyapunov_study(const LyapunovSpec& spec, const Execution& execution = {}) {
  return run_study<LyapunovStudy>(spec, execution);
}

}  // namespace rnnscope
