// A cell's square recurrent matrices and their spectra: W_hh of the Elman and
// Euler cells (for the antisymmetric cell the trained W and the M = W - W^T -
// gamma I it applies), W_hh and W_skip of the skip cell; the (H, H) block of each gate for the LSTM (i, f, g, o) and
// the GRU (r, z, n), each of which multiplies h_{t-1} on its own.
#pragma once

#include <string>
#include <vector>

#include "rnnscope/diagnostics/spectrum.hpp"
#include "rnnscope/sequence/model.hpp"

namespace rnnscope {

struct RecurrentBlock {
  std::string name;  // "weight_hh", or "weight_hh[f]" for a gate block
  Mat<double> weight;
};
template <class Cell>
std::vector<RecurrentBlock> recurrent_blocks(const Cell& cell);

/// The step matrix of a forward-Euler cell linearised where f' = 1:
/// (1 - leak step) I + step M, whose eigenvalues are 1 - dt + dt mu for the
/// CT-RNN (mu those of W_hh: a small dt moves them toward 1), 1 + mu for the
/// residual cell and 1 + eps mu for the antisymmetric cell (mu those of W -
/// W^T - gamma I). Named by its formula.
template <Scalar S>
RecurrentBlock euler_step_block(const EulerRnn<S>& cell);

/// Spectrum, powers and (where the cell has a gamma) Pascanu conditions of one block.
struct BlockSpectrum {
  std::string name;
  Spectrum spectrum;
  PowerComparison powers;
  bool has_conditions = false;  // Elman (gamma = sup |f'|); not the CT-RNN or the gate blocks
  PascanuConditions conditions;
};
/// W^n for n = 1..max_n; the Pascanu conditions where gamma > 0.
std::vector<BlockSpectrum> analyse_blocks(const std::vector<RecurrentBlock>& blocks, double gamma, int max_n);

/// gamma for the Pascanu conditions: the Elman cells' sup |f'|; 0 for the
/// others, whose step Jacobians are not diag(f') W_hh.
double conditions_gamma(CellKind k);

}  // namespace rnnscope
