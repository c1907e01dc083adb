// How a library call runs, passed in like the random seed: the threads it may
// use, whom it tells of its progress and the processes it shares the work
// with. Results never depend on the threads: the same spec gives the same bits
// on one thread or on many (docs/architecture.md). Processes change only the
// order of the sums over a minibatch (docs/distributed.md).
#pragma once

#include <string>

#include "rnnscope/core/collective.hpp"

namespace rnnscope {

/// Told of a long computation's progress: stages of equal units of work.
/// The default does nothing; a front end draws it (the CLI on stderr).
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  /// The number of stages to come, shown as [i/n]; 0 hides it.
  virtual void set_stages(int /*count*/) {}
  /// Starts a stage of `units` equal steps (finishing the previous one).
  virtual void begin(const std::string& /*what*/, int /*units*/) {}
  /// `n` more units of the current stage are done.
  virtual void advance(int /*n*/) {}
  /// Finishes the current stage.
  virtual void end() {}
  /// A short status shown beside the current stage's count (a training run's loss and speed).
  virtual void status(const std::string& /*text*/) {}
  /// A line worth keeping in a log (a training run's evaluation), printed as it comes.
  virtual void note(const std::string& /*line*/) {}
};

struct Execution {
  /// Threads over batch slices and matrix products; 0 keeps the process's
  /// setting (OMP_NUM_THREADS, else every core). At most 1024.
  int threads = 0;
  /// Told of each finished task; none: nobody is told.
  ProgressSink* progress = nullptr;
  /// The processes that train() splits each minibatch over (data
  /// parallelism); none, or one of size 1: this process alone.
  Collective* collective = nullptr;
  /// The most memory, in bytes, the work may hold at its peak (core/cost.hpp);
  /// 0: what the machine has available when the work starts.
  double max_memory = 0;

  /// Throws InvalidInput naming a thread count outside 0..1024 or a negative or non-finite max_memory.
  void validate() const;
};

/// Applies an Execution's thread count on the calling thread for its
/// lifetime and restores the previous count after (OpenMP's and Eigen's).
class ThreadScope {
 public:
  explicit ThreadScope(const Execution& execution);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_omp_ = 0, previous_eigen_ = 0;
  bool applied_ = false;
};

}  // namespace rnnscope
