#include "rnnscope/core/execution.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <fmt/format.h>

#include <cmath>

#include <Eigen/Core>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

void Execution::validate() const {
  require(threads >= 0 && threads <= 1024, fmt::format("threads must be in 0..1024, got {}", threads));
  require(std::isfinite(max_memory) && max_memory >= 0,
          fmt::format("max_memory must be a finite number of bytes >= 0 (0: the available memory), got {}",
                      max_memory));
}

ThreadScope::ThreadScope(const Execution& execution) {
  execution.validate();
  if (execution.threads == 0) return;
  applied_ = true;
  // Eigen's count is the process's, not the thread's: it is written only when
  // it changes, so that scopes of the same count on several threads (the runs
  // of a learnability study) never write it at once.
  previous_eigen_ = Eigen::nbThreads();
  if (previous_eigen_ != execution.threads) Eigen::setNbThreads(execution.threads);
#ifdef _OPENMP
  previous_omp_ = omp_get_max_threads();
  omp_set_num_threads(execution.threads);  // the threads of for_slices (cells/batch_schedule.hpp)
#endif
}

ThreadScope::~ThreadScope() {
  if (!applied_) return;
  if (Eigen::nbThreads() != previous_eigen_) Eigen::setNbThreads(previous_eigen_);
#ifdef _OPENMP
  omp_set_num_threads(previous_omp_);
#endif
}

}  // namespace rnnscope
