// The closed-form bound on a step Jacobian's spectral norm, ||J_t||_2 <= c,
// and so on a chain of L steps, ||C_L||_2 <= c^L:
//
//   Elman          c = gamma ||W_hh||_2                    (J_t = diag(f'(a_t)) W_hh, gamma = sup |f'|)
//   CT-RNN         c = |1 - dt| + dt ||W_hh||_2            (J_t = (1 - dt) I + dt diag(f'(a_t)) W_hh)
//   residual       c = 1 + gamma ||W_hh||_2                (J_t = I + diag(f'(a_t)) W_hh)
//   antisymmetric  c = 1 + eps ||W - W^T - gamma_d I||_2   (J_t = I + eps diag(f'(a_t)) M)
//   skip, K = 1    c = gamma ||W_hh + W_skip||_2           (J_t = diag(f'(a_t)) (W_hh + W_skip))
//   skip, K > 1    c = sqrt(1 + gamma^2 (||W_hh||_2^2 + ||W_skip||_2^2))
//
// The skip bound follows from ||J s||^2 = ||D (W_hh s_1 + W_skip s_K)||^2 +
// ||s_1||^2 + ... + ||s_{K-1}||^2 and Cauchy-Schwarz; it is at least 1 because
// the companion matrix's shift blocks are isometries: one step can never
// shrink every state. The Euler forms take gamma = 1 (tanh).
// Gated cells (LSTM, GRU) have no such closed form.
#pragma once

#include <optional>
#include <string>

#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/skip_rnn.hpp"
#include "rnnscope/sequence/model.hpp"

namespace rnnscope {

/// Which bound a cell kind has.
enum class BoundKind { none, elman, ctrnn, residual, antisymmetric, skip };
BoundKind bound_kind(CellKind k);
/// The bound of a chain of L steps as a formula, c^L written out ("(γ ‖Wₕₕ‖₂)ᴸ"); empty for none.
std::string bound_formula(BoundKind k);

/// The per-step factor c of the bound; none for gated cells.
template <Scalar S>
std::optional<double> step_bound(const Elman<S>& cell);
template <Scalar S>
std::optional<double> step_bound(const EulerRnn<S>& cell);
template <Scalar S>
std::optional<double> step_bound(const SkipRnn<S>& cell);
template <class Cell>
std::optional<double> step_bound(const Cell&) {
  return std::nullopt;
}

}  // namespace rnnscope
