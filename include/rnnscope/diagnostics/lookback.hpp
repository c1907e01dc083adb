// The look-back window study (seed 001): how the gradient reaching the state
// L steps back from the end shrinks or grows with L, for a cell and an
// initialisation, over several seeds, beside the theoretical bound.
//
//   ratio(L) = ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}||,   bound(L) = (gamma ||W_hh||_2)^L
//
// The cotangent on the final state is a random direction on the output (h);
// for the LSTM the state is (h, c) and the norm is over both. Statistics are
// taken over seeds x batch elements in log10 (the ratios span decades).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "rnnscope/sequence/model.hpp"
#include "rnnscope/training/init.hpp"

namespace rnnscope {

/// The per-step factor c of the bound ||J_t||_2 <= c: gamma ||W_hh||_2 for the
/// Elman cell, |1 - dt| + dt ||W_hh||_2 for the CT-RNN; none for gated cells,
/// whose Jacobians have no such closed-form bound.
template <Scalar S>
std::optional<double> step_bound(const Elman<S>& cell);
template <Scalar S>
std::optional<double> step_bound(const CtRnn<S>& cell);
template <class Cell>
std::optional<double> step_bound(const Cell&) {
  return std::nullopt;
}

struct LookbackSpec {
  ModelSpec model;              // num_layers is taken as 1
  Init init = Init::pytorch;
  double scale = 1.0;           // of the recurrent initialisation
  double forget_bias = 0.0;     // LSTM: added to the forget-gate bias
  Index steps = 100;            // T
  Index batch = 4;              // trajectories per seed
  int seeds = 5;
  std::uint64_t seed = 1;
  double input_scale = 1.0;     // inputs are N(0, input_scale^2)
};

struct LookbackResult {
  std::vector<Index> distance;           // L = 0..T
  std::vector<double> mean_log10, std_log10, min_log10, max_log10;
  std::vector<double> bound_log10;       // mean over seeds of L log10(c); empty without a bound
  std::vector<double> lyapunov_top;      // per seed: the largest Lyapunov exponent of batch element 0
};

LookbackResult lookback_study(const LookbackSpec& spec);

/// Initialises a model's weights for a study (and the LSTM forget bias).
template <Scalar S>
void initialise_model(Model<S>& model, Init init, double scale, double forget_bias, Rng& rng);

}  // namespace rnnscope
