// The LSTM's cell path against its hidden path (diagnostics/lstm_paths.hpp):
// mean log10 norms over seeds x batch elements for unit random cotangents on
// h and c. Task: one seed.
#pragma once

#include <vector>

#include "rnnscope/studies/network.hpp"

namespace rnnscope {

struct LstmPathSpec : NetworkSpec {
  /// NetworkSpec's limits, and the cell must be an lstm.
  void validate() const;
};

struct LstmPathResult {
  std::vector<Index> distance;  // L = 0..T
  std::vector<double> cell_log10, hidden_log10, total_log10;
};

struct LstmPathStudy {
  using Spec = LstmPathSpec;
  using Task = SeedTask;
  struct Partial : TaskIndex {
    std::vector<std::vector<double>> cell, hidden, total;  // per batch element (-inf: exactly zero)
  };
  using Result = LstmPathResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline LstmPathResult lstm_path_study(const LstmPathSpec& spec, const Execution& execution = {}) {
  return run_study<LstmPathStudy>(spec, execution);
}

}  // namespace rnnscope
