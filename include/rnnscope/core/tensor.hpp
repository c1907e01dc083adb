// Scalar and tensor aliases over Eigen, and the layout of sequences.
//
// Letters used across the library: T time steps, B batch, I input features,
// H hidden units, G gate rows (H, 3H or 4H), S the size of a cell's state.
//
// A sequence (T, B, F) is stored as one column-major F x (T*B) matrix: column
// t*B + b holds the features of batch element b at step t. Its memory is
// exactly PyTorch's row-major (T, B, F) tensor, and the input projections of
// all steps are a single GEMM on it.
#pragma once

#include <Eigen/Dense>
#include <concepts>
#include <cstdint>

namespace rnnscope {

using Index = Eigen::Index;

template <class S>
concept Scalar = std::same_as<S, float> || std::same_as<S, double>;

template <class S> using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S> using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// Columns of step t in a sequence matrix with B columns per step.
template <class Derived>
auto step_block(Eigen::MatrixBase<Derived>& m, Index t, Index B) {
  return m.middleCols(t * B, B);
}
template <class Derived>
auto step_block(const Eigen::MatrixBase<Derived>& m, Index t, Index B) {
  return m.middleCols(t * B, B);
}

}  // namespace rnnscope
