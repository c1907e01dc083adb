// Studies: the diagnostics run on networks drawn from a spec (a cell, sizes,
// an initialisation, seeds) or on a given model and input, reduced to the
// curves a table or a figure shows. The command line and the report call
// these; they add no mathematics of their own.
//
// Random networks follow the look-back study's conventions (lookback.hpp):
// seed s uses Rng(spec.seed + s * 0x9E3779B97F4A7C15), draws the weights with
// initialise_model, then inputs N(0, input_scale^2) of shape (I, T*B). Curves
// spanning decades are kept as log10; a value that is exactly zero is -inf in
// per-trajectory curves and floored at -324 (below the smallest double) in
// statistics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rnnscope/activations/activation.hpp"
#include "rnnscope/diagnostics/lookback.hpp"
#include "rnnscope/diagnostics/spectrum.hpp"

namespace rnnscope {

/// A square recurrent matrix of a cell: W_hh of the Elman and CT-RNN cells;
/// the (H, H) block of each gate for the LSTM (i, f, g, o) and GRU (r, z, n).
struct RecurrentBlock {
  std::string name;  // "weight_hh", or "weight_hh[f]" for a gate block
  Mat<double> weight;
};
template <class Cell>
std::vector<RecurrentBlock> recurrent_blocks(const Cell& cell);

/// Spectrum, powers and (where the cell has a gamma) Pascanu conditions of one block.
struct BlockSpectrum {
  std::string name;
  Spectrum spectrum;
  PowerComparison powers;
  bool has_conditions = false;  // Elman and CT-RNN (gamma = sup |f'|); not the gate blocks
  PascanuConditions conditions;
};
std::vector<BlockSpectrum> analyse_blocks(const std::vector<RecurrentBlock>& blocks, double gamma, int max_n);

/// Every recurrent block of the first network (seed spec.seed) of a spec, with W^n for n = 1..max_n.
std::vector<BlockSpectrum> spectrum_study(const LookbackSpec& spec, int max_n);

/// Lyapunov spectra (natural log per step), top k exponents (k = 0: all),
/// one per (seed, batch element), after a warm-up of T/10 steps.
struct LyapunovResult {
  std::vector<double> mean, std;  // per exponent index, largest first
  std::vector<std::vector<double>> trajectories;
};
LyapunovResult lyapunov_study(const LookbackSpec& spec, Index k);

/// The BPTT gradient of W_hh split by temporal distance d = t - k (contributions.hpp)
/// for a random-projection loss sum_t <r_t, h_t> on every step, as log10 of
/// ||contribution_d|| / ||dL/dW_hh||; statistics over seeds.
struct ContributionResult {
  std::vector<Index> distance;  // d = 0..T-1
  std::vector<double> mean_log10, std_log10;
  double max_sum_error = 0;  // largest ||sum_d contribution_d - BPTT gradient|| / ||BPTT gradient|| over seeds
};
ContributionResult contributions_study(const LookbackSpec& spec);

/// The LSTM's cell path against its hidden path (lstm_paths.hpp): mean log10
/// norms over seeds x batch elements for unit random cotangents on h and c.
struct LstmPathResult {
  std::vector<Index> distance;  // L = 0..T
  std::vector<double> cell_log10, hidden_log10, total_log10;
};
/// Throws InvalidInput unless spec.model.cell is lstm.
LstmPathResult lstm_path_study(const LookbackSpec& spec);

/// A causal Conv1D stack (ConvStack) on random input: the gradient of its last
/// output step with respect to the input d steps earlier.
struct ConvSpec {
  Index input_size = 4;
  Index channels = 8;
  Index kernel_size = 3;
  std::vector<Index> dilations{1, 2, 4};  // one layer per entry
  Activation nonlinearity = Activation::tanh;
  Index steps = 64;
  std::uint64_t seed = 1;
};
struct ConvResult {
  Index receptive_field = 0;    // 1 + sum_l dilation_l (K - 1)
  std::vector<Index> distance;  // d = 0..T-1
  std::vector<double> norm;     // ||d <r, y_{T-1}> / d x_{T-1-d}||, exactly 0 for d >= receptive_field
};
ConvResult conv_distance_study(const ConvSpec& spec);

/// The diagnostics of one layer of a given model on a given input.
struct LayerAnalysis {
  Index layer = 0;
  std::vector<Index> distance;  // L = 0..T
  std::vector<double> chain_mean_log10, chain_min_log10, chain_max_log10;  // log10 ||ds_{T-1}/ds_{T-1-L}||_2 over batch
  std::vector<double> bound_log10;  // L log10(c) (lookback.hpp step_bound); empty for gated cells
  std::vector<BlockSpectrum> spectra;
  std::vector<double> lyapunov;     // mean over the batch elements analysed, largest first
  ContributionResult contributions;  // loss sum_t <r_t, h_t> on this layer's outputs, r drawn from seed
};
struct AnalysisOptions {
  Index max_batch = 8;    // batch elements analysed (the first ones)
  int max_power = 50;     // W^n for n = 1..max_power
  Index lyapunov_k = 0;   // 0: all exponents
  std::uint64_t seed = 1; // for the random-projection loss
};
/// Every layer of `model` (CellKind `kind`) run on x (I, T*B) from state0 ((L*S, B) or empty).
std::vector<LayerAnalysis> analyse_model(const Model<double>& model, CellKind kind, const Mat<double>& x,
                                         Index batch, const Mat<double>& state0, const AnalysisOptions& options);

}  // namespace rnnscope
