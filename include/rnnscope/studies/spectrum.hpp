// The spectra of a random network's recurrent matrices: every block of the
// first network (seed index 0) of a spec, with W^n for n = 1..max_power.
// One task.
#pragma once

#include <vector>

#include "rnnscope/diagnostics/recurrent_blocks.hpp"
#include "rnnscope/studies/network.hpp"

namespace rnnscope {

struct SpectrumSpec : NetworkSpec {
  int max_power = 50;
  /// NetworkSpec's limits, and max_power in 1..100000.
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
};

inline SpectrumResult spectrum_study(const SpectrumSpec& spec, const Execution& execution = {}) {
  return run_study<SpectrumStudy>(spec, execution);
}

}  // namespace rnnscope
