// The one seeded random generator every random draw goes through. Its draws are
// defined here bit for bit (not by the standard library's distributions, which
// differ between implementations), so a seed gives the same numbers anywhere.
#pragma once

#include <cstdint>
#include <random>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  /// Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform on [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Standard normal by the Box-Muller transform.
  double normal();

  /// A (rows, cols) matrix of uniform draws on [lo, hi), filled column by column.
  template <class S>
  Mat<S> uniform_matrix(Index rows, Index cols, double lo, double hi) {
    Mat<S> m(rows, cols);
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<S>(uniform(lo, hi));
    return m;
  }
  /// A (rows, cols) matrix of normal draws with standard deviation `stddev`.
  template <class S>
  Mat<S> normal_matrix(Index rows, Index cols, double stddev = 1.0) {
    Mat<S> m(rows, cols);
    for (Index j = 0; j < cols; ++j)
      for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<S>(stddev * normal());
    return m;
  }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace rnnscope
