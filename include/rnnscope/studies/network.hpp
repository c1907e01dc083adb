// Random networks for the studies: a cell, its sizes and an initialisation,
// drawn again for each seed, with random input sequences.
//
// Seed s (0..seeds-1) uses Rng(seed + s * 0x9E3779B97F4A7C15): it draws the
// weights (initialise_model), then the inputs N(0, input_scale^2) of shape
// (I, T*B), then whatever the study draws next (cotangents, projections).
// Every study over random networks follows this one rule, so the same spec and
// seed give the same network in every study.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rnnscope/core/random.hpp"
#include "rnnscope/diagnostics/mean_field.hpp"
#include "rnnscope/sequence/model.hpp"
#include "rnnscope/studies/study.hpp"
#include "rnnscope/training/init.hpp"

namespace rnnscope {

/// What the studies over random single-layer networks share.
struct NetworkSpec {
  ModelSpec model;              // num_layers 1..8: the look-back study's stack; the other studies use layer 0
  Init init = Init::pytorch;
  double scale = 1.0;           // of the recurrent initialisation
  double forget_bias = 0.0;     // LSTM: added to the forget-gate bias
  Index steps = 100;            // T
  Index batch = 4;              // sequences per seed
  int seeds = 5;
  std::uint64_t seed = 1;
  double input_scale = 1.0;     // inputs are N(0, input_scale^2)

  /// Throws InvalidInput naming the first field out of range. The upper limits
  /// keep a study within minutes and memory: hidden 1..1024, input_size
  /// 1..65536, layers 1..8, T 1..100000, seeds and batch 1..1000; scale,
  /// forget bias and input scale finite; dt > 0.
  void validate() const;
};

/// The mean-field theory of the spec's random networks (diagnostics/mean_field.hpp).
MeanField network_theory(const NetworkSpec& spec);

/// The memory of one seed's drawn network run forward (its input, parameters
/// and the stack's forward cache) and the operations of all seeds' forward
/// passes; the sizes a refusal names are T, batch and hidden (and layers).
Cost network_cost(const NetworkSpec& spec);

/// One seed's network: the task of every study over random networks.
struct SeedTask {
  std::size_t task = 0;  // s, the seed index
};
/// The tasks 0..seeds-1 of a (validated) spec.
std::vector<SeedTask> seed_tasks(const NetworkSpec& spec);

/// Seed s's generator: Rng(seed + s * 0x9E3779B97F4A7C15).
Rng seed_rng(const NetworkSpec& spec, std::size_t s);

/// Seed s's model (spec.model.num_layers layers, layer 0 first), initialised,
/// and its input (I, T*B), drawn from rng (seed_rng(spec, s)) in that order.
struct DrawnNetwork {
  Model<double> model;
  Mat<double> x;
};
DrawnNetwork draw_network(const NetworkSpec& spec, Rng& rng);

/// Seed s's network run forward over its input: calls f(cell, cache, rng) with
/// its first layer (any cell type), that layer's forward cache and seed s's
/// generator, ready for the study's next draws.
template <class F>
void with_seed_network(const NetworkSpec& spec, std::size_t s, F&& f) {
  Rng rng = seed_rng(spec, s);
  const DrawnNetwork d = draw_network(spec, rng);
  std::visit(
      [&](const auto& stack) {
        const auto& cell = stack.layer(0);
        const auto cache = cell.forward(d.x, spec.batch);
        f(cell, cache, rng);
      },
      d.model);
}

}  // namespace rnnscope
