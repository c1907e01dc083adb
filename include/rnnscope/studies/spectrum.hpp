// The spectra of a random network's recurrent matrices: every block of the
// first network (seed index 0) of a spec, with W^n for n = 1..max_power; or of
// one matrix a user gives (`matrix`), with the Pascanu conditions for the
// activation bound `gamma`. One task.
#pragma once

#include <string>
#include <vector>

#include "rnnscope/diagnostics/recurrent_blocks.hpp"
#include "rnnscope/studies/network.hpp"

namespace rnnscope {

/// The largest user matrix, as --hidden for a cell: its eigendecompositions and SVDs take O(n^3) each
/// (docs/diagnostics.md gives the time at 512).
inline constexpr Index kMaxSpectrumMatrix = 1024;

struct SpectrumSpec : NetworkSpec {
  int max_power = 50;
  /// A user's square matrix, analysed instead of a network's blocks when not empty (the network fields are then
  /// unused), under the name `matrix_name`, with the Pascanu conditions for `gamma` = sup |f'| (1 for tanh and
  /// relu, 1/4 for sigmoid).
  Mat<double> matrix;
  std::string matrix_name = "W";
  double gamma = 1.0;
  /// NetworkSpec's limits, and max_power in 1..100000; a given matrix square, finite and at most
  /// kMaxSpectrumMatrix rows, gamma positive and finite.
  void validate() const;
};

struct SpectrumResult {
  std::vector<BlockSpectrum> blocks;
};

struct SpectrumStudy {
  using Spec = SpectrumSpec;
  using Task = SeedTask;
  struct Partial : TaskIndex {
    std::vector<BlockSpectrum> blocks;
  };
  using Result = SpectrumResult;
  static std::vector<Task> tasks(const Spec& spec);
  static Partial run(const Spec& spec, const Task& task);
  static Result reduce(const Spec& spec, std::vector<Partial> parts);
  /// The peak memory and work before anything runs (core/cost.hpp).
  static Cost cost(const Spec& spec);
};

inline SpectrumResult spectrum_study(const SpectrumSpec& spec, const Execution& execution = {}) {
  return run_study<SpectrumStudy>(spec, execution);
}

}  // namespace rnnscope
