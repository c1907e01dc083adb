// Errors thrown by the library. The CLI maps InvalidInput to exit code 2 and
// anything else to exit code 1.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// Bad input from the caller: a wrong shape, a non-finite value, an unknown name.
class InvalidInput : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws InvalidInput unless `what` has shape (rows, cols); the message names the tensor.
void check_shape(const std::string& name, Index rows, Index cols, Index expected_rows,
                 Index expected_cols);

template <class Derived>
void check_shape(const std::string& name, const Eigen::DenseBase<Derived>& m, Index rows,
                 Index cols) {
  check_shape(name, m.rows(), m.cols(), rows, cols);
}

/// Throws InvalidInput if any entry of `m` is NaN or infinite.
template <class Derived>
void check_finite(const std::string& name, const Eigen::DenseBase<Derived>& m) {
  if (!m.derived().allFinite()) {
    for (Index j = 0; j < m.cols(); ++j)
      for (Index i = 0; i < m.rows(); ++i)
        if (!std::isfinite(static_cast<double>(m(i, j))))
          throw InvalidInput(name + " has a non-finite value at (" + std::to_string(i) + ", " +
                             std::to_string(j) + ")");
  }
}

/// Checks a sequence x (features, T*B) at a public edge: the right number of
/// rows, at least one step, whole steps, finite values. Returns T.
template <class Derived>
Index check_sequence(const std::string& name, const Eigen::DenseBase<Derived>& x, Index features,
                     Index batch) {
  if (batch <= 0) throw InvalidInput(name + ": batch size must be positive, got " + std::to_string(batch));
  if (x.cols() == 0) throw InvalidInput(name + ": empty sequence (no time steps)");
  if (x.rows() != features || x.cols() % batch != 0)
    throw InvalidInput(name + ": expected shape (" + std::to_string(features) + ", T*" +
                       std::to_string(batch) + "), got (" + std::to_string(x.rows()) + ", " +
                       std::to_string(x.cols()) + ")");
  check_finite(name, x);
  return x.cols() / batch;
}

/// Throws InvalidInput with `message` unless `condition` holds.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw InvalidInput(message);
}

}  // namespace rnnscope
