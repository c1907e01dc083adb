#include "rnnscope/diagnostics/recurrent_blocks.hpp"

#include <fmt/format.h>

#include <type_traits>

namespace rnnscope {

namespace {
template <class Cell>
constexpr bool is_lstm = std::is_same_v<Cell, LSTM<double>> || std::is_same_v<Cell, LSTM<float>>;
template <class Cell>
constexpr bool is_gru = std::is_same_v<Cell, GRU<double>> || std::is_same_v<Cell, GRU<float>>;
}  // namespace

template <class Cell>
std::vector<RecurrentBlock> recurrent_blocks(const Cell& cell) {
  const Mat<double> w = cell.params.weight_hh.template cast<double>();
  const Index H = w.cols();
  std::vector<RecurrentBlock> blocks;
  if constexpr (is_lstm<Cell> || is_gru<Cell>) {
    const char* gates = is_lstm<Cell> ? "ifgo" : "rzn";
    for (Index g = 0; gates[g] != '\0'; ++g)
      blocks.push_back({fmt::format("weight_hh[{}]", gates[g]), w.middleRows(g * H, H)});
  } else {
    blocks.push_back({"weight_hh", w});
  }
  if (cell.params.weight_skip.size() > 0) blocks.push_back({"weight_skip", cell.params.weight_skip.template cast<double>()});
  // The antisymmetric cell applies M = W - W^T - gamma I, not W: its spectrum too (eigenvalues on Re = -gamma).
  if constexpr (std::is_same_v<Cell, EulerRnn<double>> || std::is_same_v<Cell, EulerRnn<float>>)
    if (cell.form().antisymmetric) blocks.push_back({"W - W^T - gamma I", cell.recurrent_matrix()});
  return blocks;
}
template std::vector<RecurrentBlock> recurrent_blocks(const Elman<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const EulerRnn<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const LSTM<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const GRU<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const Elman<float>&);
template std::vector<RecurrentBlock> recurrent_blocks(const EulerRnn<float>&);
template std::vector<RecurrentBlock> recurrent_blocks(const LSTM<float>&);
template std::vector<RecurrentBlock> recurrent_blocks(const GRU<float>&);
template std::vector<RecurrentBlock> recurrent_blocks(const SkipRnn<double>&);
template std::vector<RecurrentBlock> recurrent_blocks(const SkipRnn<float>&);

template <Scalar S>
RecurrentBlock euler_step_block(const EulerRnn<S>& cell) {
  const EulerForm f = cell.form();
  const Mat<double> m = cell.recurrent_matrix().template cast<double>();
  Mat<double> step = f.step * m;
  step.diagonal().array() += f.keep();
  const char* name = f.antisymmetric ? "I + eps (W - W^T - gamma I)" : f.leak == 0 ? "I + W" : "(1 - dt) I + dt W";
  return {name, std::move(step)};
}
template RecurrentBlock euler_step_block(const EulerRnn<double>&);
template RecurrentBlock euler_step_block(const EulerRnn<float>&);

std::vector<BlockSpectrum> analyse_blocks(const std::vector<RecurrentBlock>& blocks, double gamma, int max_n) {
  std::vector<BlockSpectrum> out;
  for (const auto& b : blocks) {
    BlockSpectrum s;
    s.name = b.name;
    s.spectrum = analyse_spectrum(b.weight);
    s.powers = matrix_powers(b.weight, max_n);
    if (gamma > 0) {
      s.has_conditions = true;
      s.conditions = pascanu_conditions(b.weight, gamma);
    }
    out.push_back(std::move(s));
  }
  return out;
}

double conditions_gamma(CellKind k) {
  return k == CellKind::rnn_tanh || k == CellKind::rnn_relu || k == CellKind::rnn_sigmoid ? activation_gamma(k) : 0.0;
}

}  // namespace rnnscope
