// Refusing a forward pass that overflowed, by name: weights or an input too large for the dtype (a relu network
// with huge weights over a long sequence) give inf, then NaN, states, and every gradient or diagnostic computed
// from them would be a NaN, or a 0 read as an exact zero, written as if it were a result.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <string>

#include "rnnscope/core/error.hpp"

namespace rnnscope {

/// Throws InvalidInput naming the first non-finite output of one layer's forward pass (batch sequences) by step,
/// sequence and unit: "the forward pass overflows: layer 0's output is inf at step 12 (sequence 0, unit 3) ...".
template <class CellT>
void require_finite_output(const CellT& cell, const typename CellT::Cache& cache, Index batch, Index layer = 0) {
  const auto out = cell.output(cache);
  if (out.allFinite()) return;
  for (Index col = 0; col < out.cols(); ++col)  // column t B + b holds step t of sequence b
    for (Index i = 0; i < out.rows(); ++i)
      if (const double v = static_cast<double>(out(i, col)); !std::isfinite(v))
        throw InvalidInput(fmt::format(
            "the forward pass overflows: layer {}'s output is {} at step {} (sequence {}, unit {}); the weights or "
            "the input are too large for {}, and no gradient or diagnostic would be finite",
            layer, std::isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf"), col / batch, col % batch, i,
            sizeof(typename CellT::Scalar) == 4 ? "F32" : "F64"));
}

/// require_finite_output for every layer of a stack, bottom first.
template <class StackT>
void require_finite_forward(const StackT& stack, const typename StackT::Cache& cache) {
  for (Index l = 0; l < stack.num_layers(); ++l)
    require_finite_output(stack.layer(l), stack.layer_cache(cache, l), cache.batch, l);
}

}  // namespace rnnscope
