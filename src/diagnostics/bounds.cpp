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
    case CellKind::rnn_residual: return BoundKind::residual;
    case CellKind::rnn_antisymmetric: return BoundKind::antisymmetric;
    case CellKind::rnn_skip: return BoundKind::skip;
    case CellKind::lstm:
    case CellKind::gru: return BoundKind::none;
  }
  return BoundKind::none;
}

std::string bound_formula(BoundKind k) {
  switch (k) {
    case BoundKind::elman: return "(γ ‖Wₕₕ‖₂)ᴸ";
    case BoundKind::ctrnn: return "(|1 − dt| + dt ‖Wₕₕ‖₂)ᴸ";
    case BoundKind::residual: return "(1 + γ ‖Wₕₕ‖₂)ᴸ";
    case BoundKind::antisymmetric: return "(1 + ε ‖W − Wᵀ − γI‖₂)ᴸ";
    case BoundKind::skip: return "(1 + γ² (‖Wₕₕ‖₂² + ‖W_skip‖₂²))^(L/2)";
    case BoundKind::none: return "";
  }
  return "";
}

template <Scalar S>
std::optional<double> step_bound(const Elman<S>& cell) {
  return derivative_bound(cell.nonlinearity()) * spectral_norm(cell.params.weight_hh.template cast<double>());
}

template <Scalar S>
std::optional<double> step_bound(const EulerRnn<S>& cell) {
  const EulerForm& form = cell.form();
  return std::abs(form.keep()) + form.step * spectral_norm(cell.recurrent_matrix());
}

template <Scalar S>
std::optional<double> step_bound(const SkipRnn<S>& cell) {
  const double gamma = derivative_bound(cell.nonlinearity());
  const Mat<double> w = cell.params.weight_hh.template cast<double>();
  const Mat<double> w_skip = cell.params.weight_skip.template cast<double>();
  if (cell.skip() == 1) return gamma * spectral_norm(Mat<double>(w + w_skip));
  const double a = spectral_norm(w), b = spectral_norm(w_skip);
  return std::sqrt(1 + gamma * gamma * (a * a + b * b));
}

template std::optional<double> step_bound(const Elman<float>&);
template std::optional<double> step_bound(const Elman<double>&);
template std::optional<double> step_bound(const EulerRnn<float>&);
template std::optional<double> step_bound(const EulerRnn<double>&);
template std::optional<double> step_bound(const SkipRnn<float>&);
template std::optional<double> step_bound(const SkipRnn<double>&);

}  // namespace rnnscope
