// What a piece of work will cost, computed from its sizes before anything is
// allocated: the memory it holds at its peak and the floating-point operations
// it does (docs/reliability.md, "The cost model").
//
// Every study (studies/study.hpp, Study::cost), train() and the commands compute
// it first. A request whose peak exceeds the limit (Execution::max_memory, by
// default the memory the machine has available) is refused with
// MemoryLimitExceeded before the work begins, naming the estimate, the limit and
// the sizes to lower; a run estimated to take longer than a minute tells its
// ProgressSink the estimate when it starts.
//
// The estimates count the large arrays (inputs, forward caches, gradients,
// Jacobians, result curves) from the same shapes the code allocates, not the
// program's own few tens of megabytes; tests compare them with the peak
// resident memory of real runs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

struct Execution;

struct Cost {
  double bytes = 0;  ///< held at the peak
  /// Floating-point operations a vector or a small matrix at a time (step
  /// Jacobians, chains of one sequence, elementwise work).
  double flops = 0;
  /// Operations in large matrix products (a batch's forward and backward, whole
  /// (n, n) matrices), counted in double: a float product counts half.
  double products = 0;
  /// The sizes the peak grows with, by the names their options have
  /// ("T", "batch", "hidden"), with their values: what a refusal asks to lower.
  std::vector<std::pair<std::string, double>> sizes;
};

/// Work done one part after the other: the larger peak (with its sizes), the sums of the operations.
Cost then(Cost first, const Cost& second);
/// `count` times the same work held together (count copies of the memory).
Cost times(Cost c, double count);

/// Bytes of `count` values of `scalar_bytes` each (8 for double).
inline double values(double count, double scalar_bytes = 8) { return count * scalar_bytes; }

/// The memory the process can have now, in bytes: MemAvailable of /proc/meminfo
/// (else the physical memory), and no more than its cgroup's limit leaves or
/// its address-space limit (ulimit -v) leaves unmapped; 0 if none can be read.
double available_memory();

/// The operations per second per thread that estimated_seconds() assumes for
/// Cost::flops and Cost::products (measured on the machine of
/// docs/performance.md: docs/reliability.md, "The cost model").
inline constexpr double kFlopsPerSecondPerThread = 4e9;
inline constexpr double kProductsPerSecondPerThread = 30e9;
/// A run estimated above this many seconds tells its progress the estimate.
inline constexpr double kAnnounceSeconds = 60;

/// The wall time the work will take on `threads` threads (0: every core).
double estimated_seconds(const Cost& cost, int threads);

/// "19 GB", "2.1 GB", "350 MB", "12 kB".
std::string bytes_text(double bytes);
/// "40 s", "about 3 min", "about 2.5 h".
std::string seconds_text(double seconds);

/// Bytes of a size such as "4G", "500M", "1.5GB", "2GiB" or "123456" (bytes): k, M, G, T are powers of 1000,
/// Ki, Mi, Gi, Ti of 1024. Throws InvalidInput naming `option` and the text that is not a size.
double parse_bytes(const std::string& text, const std::string& option = "--max-memory");

/// Refused before the work began: its estimated peak is above the limit.
class MemoryLimitExceeded : public InvalidInput {
 public:
  MemoryLimitExceeded(Cost cost, double limit, bool limit_given);
  const Cost& cost() const { return cost_; }
  double limit() const { return limit_; }
  /// Whether the limit was the caller's (max_memory), not the machine's available memory.
  bool limit_given() const { return limit_given_; }
  /// The message with each size written as `prefix` + its name ("--T 100000"), and
  /// the limit's option as `limit_option` ("--max-memory").
  std::string message(const std::string& prefix, const std::string& limit_option) const;

 private:
  static std::string compose(const Cost& cost, double limit, bool limit_given, const std::string& prefix,
                             const std::string& limit_option);
  Cost cost_;
  double limit_ = 0;
  bool limit_given_ = false;
};

/// Throws MemoryLimitExceeded if the cost's peak is above `max_memory` bytes
/// (0: the available memory; nothing is checked when neither is known), and
/// tells the execution's progress the estimated time when it is above
/// kAnnounceSeconds. Call it before allocating anything.
void check_cost(const Cost& cost, const Execution& execution);

}  // namespace rnnscope
