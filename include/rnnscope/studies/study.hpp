// The one seam every study shares: tasks(spec) -> run(task) -> reduce(results).
//
// A study is a type with
//   Spec     what to compute, validated once by tasks()
//   Task     one independent unit (one seed's network and sequences, one layer)
//   Partial  what run() returns for one task, carrying the task's index
//   Result   the plain result struct (numbers and arrays, no text)
//   static std::vector<Task> tasks(const Spec&);           validates, lists the tasks in a fixed order
//   static Partial run(const Spec&, const Task&);         a pure function of its arguments
//   static Result reduce(const Spec&, std::vector<Partial>);  any order, each task exactly once
//   static Cost cost(const Spec&);                        the peak memory and work of the whole study,
//                                                         from the spec's sizes alone (core/cost.hpp)
//
// so a caller can run the tasks in a loop (run_study), on threads, or on other
// processes, and reduce what comes back to the bits of the plain call.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "rnnscope/core/cost.hpp"
#include "rnnscope/core/execution.hpp"

namespace rnnscope {

template <class Study>
concept StudyType = requires(const typename Study::Spec& spec, const typename Study::Task& task,
                             std::vector<typename Study::Partial> parts) {
  { Study::tasks(spec) } -> std::same_as<std::vector<typename Study::Task>>;
  { Study::run(spec, task) } -> std::same_as<typename Study::Partial>;
  { Study::reduce(spec, std::move(parts)) } -> std::same_as<typename Study::Result>;
  { Study::cost(spec) } -> std::same_as<Cost>;
};

/// The task index of every Partial, 0..count-1 in the order tasks() lists them.
struct TaskIndex {
  std::size_t task = 0;
};

/// Sorts partial results by task index; throws InvalidInput unless each of
/// the `count` tasks is there exactly once (a lost or doubled result).
void check_task_indices(const std::vector<std::size_t>& indices, std::size_t count);
template <class Partial>
void order_by_task(std::vector<Partial>& parts, std::size_t count) {
  std::sort(parts.begin(), parts.end(), [](const Partial& a, const Partial& b) { return a.task < b.task; });
  std::vector<std::size_t> indices;
  indices.reserve(parts.size());
  for (const auto& p : parts) indices.push_back(p.task);
  check_task_indices(indices, count);
}

/// Runs the given tasks of a study (Study::tasks(spec), which validated the
/// spec) in order on the calling thread, with the execution's threads inside
/// each task, and reduces them. First checks the study's cost against the
/// execution's memory limit (check_cost: MemoryLimitExceeded, before any work).
template <StudyType Study>
typename Study::Result run_tasks(const typename Study::Spec& spec, const std::vector<typename Study::Task>& tasks,
                                 const Execution& execution = {}) {
  check_cost(Study::cost(spec), execution);
  ThreadScope threads(execution);
  std::vector<typename Study::Partial> parts;
  parts.reserve(tasks.size());
  for (const auto& task : tasks) {
    parts.push_back(Study::run(spec, task));
    if (execution.progress) execution.progress->advance(1);
  }
  return Study::reduce(spec, std::move(parts));
}

/// Validates the spec, lists its tasks and runs them (run_tasks).
template <StudyType Study>
typename Study::Result run_study(const typename Study::Spec& spec, const Execution& execution = {}) {
  return run_tasks<Study>(spec, Study::tasks(spec), execution);
}

}  // namespace rnnscope
