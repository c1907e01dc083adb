// The closed-form bound on a step Jacobian's spectral norm, ||J_t||_2 <= c,
// and so on a chain of L steps, ||C_L||_2 <= c^L:
//
//   Elman    c = gamma ||W_hh||_2          (J_t = diag(f'(a_t)) W_hh, gamma = sup |f'|)
//   CT-RNN   c = |1 - dt| + dt ||W_hh||_2  (J_t = (1 - dt) I + dt diag(f'(a_t)) W_hh)
//
// Gated cells (LSTM, GRU) have no such closed form.
#pragma once

#include <optional>

#include "rnnscope/cells/ctrnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/sequence/model.hpp"

namespace rnnscope {

/// Which bound a cell kind has.
enum class BoundKind { none, elman, ctrnn };
BoundKind bound_kind(CellKind k);

/// The per-step factor c of the bound; none for gated cells.
template <Scalar S>
std::optional<double> step_bound(const Elman<S>& cell);
template <Scalar S>
std::optional<double> step_bound(const CtRnn<S>& cell);
template <class Cell>
std::optional<double> step_bound(const Cell&) {
  return std::nullopt;
}

}  // namespace rnnscope
