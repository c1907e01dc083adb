// The processes a library call shares its work with: data-parallel training
// (training/trainer.hpp) splits each minibatch over them and sums their
// gradients. The library knows only this interface; the rnnscope command
// implements it on MPI (docs/distributed.md), and an embedder may implement it
// on whatever carries its messages. None (Execution::collective == nullptr) is
// one process.
//
// Every member is collective: each process calls it, in the same order, with
// the same sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace rnnscope {

class Collective {
 public:
  virtual ~Collective() = default;
  /// This process's index, 0..size()-1; process 0 is the one that writes.
  virtual int rank() const = 0;
  /// The number of processes, at least 1.
  virtual int size() const = 0;
  /// Replaces values[0..n) on every process by their sum over the processes,
  /// added in a fixed order (rank 0's, then rank 1's, ...), so that the same
  /// inputs on the same number of processes give the same bits on every
  /// process and in every run.
  virtual void sum(double* values, std::size_t n) = 0;
  virtual void sum(float* values, std::size_t n) = 0;
  /// Every process's `value`, in rank order.
  virtual std::vector<std::uint64_t> gather(std::uint64_t value) = 0;
};

/// Thrown on every process when the processes disagree on what must be equal
/// (their parameters after a step): the run cannot go on.
class CollectiveMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The first index of process `rank`'s share of n items split over `size`
/// processes in contiguous parts (sizes differ by at most one, the larger
/// ones first); its share is [share_begin(n, size, rank), share_begin(n, size, rank + 1)).
inline std::int64_t share_begin(std::int64_t n, int size, int rank) {
  const std::int64_t q = n / size, r = n % size;
  return rank * q + (rank < r ? rank : r);
}

}  // namespace rnnscope
