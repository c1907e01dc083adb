#include "rnnscope/diagnostics/bounds.hpp"

#include <cmath>

#include "rnnscope/diagnostics/jacobian_chain.hpp"

namespace rnnscope {

BoundKind bound_kind(CellKind k) {
  switch (k) {
    case CellKind::rnn_tanh:
    case CellKind::rnn_relu:
    case CellKind::rnn_sigmoid: return BoundKind::elman;
    case CellKind::ctrnn: return BoundKind::ctrnn;
    case CellKind::lstm:
    case CellKind::gru: return BoundKind::none;
  }
  return BoundKind::none;
}

template <Scalar S>
std::optional<double> step_bound(const Elman<S>& cell) {
  return derivative_bound(cell.nonlinearity()) * spectral_norm(cell.params.weight_hh.template cast<double>());
}

template <Scalar S>
std::optional<double> step_bound(const CtRnn<S>& cell) {
  return std::abs(1.0 - cell.dt()) + cell.dt() * spectral_norm(cell.params.weight_hh.template cast<double>());
}

template std::optional<double> step_bound(const Elman<float>&);
template std::optional<double> step_bound(const Elman<double>&);
template std::optional<double> step_bound(const CtRnn<float>&);
template std::optional<double> step_bound(const CtRnn<double>&);

}  // namespace rnnscope
