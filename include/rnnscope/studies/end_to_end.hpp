// The end-to-end measure of a stack (diagnostics/end_to_end.hpp) as curves
// against the distance from the last step, for two losses on the top layer's
// outputs, each a random projection (DyNet's <r, y>, STYLE.md):
//
//   last:   L = sum_b <r_b, h^top_{T-1}[:, b]>            (the cotangent on the last step only)
//   every:  L = sum_t sum_b <r_{t,b}, h^top_t[:, b]>      (a cotangent on every step)
//
// For each loss and each quantity q (the input x, then h^0 .. h^{N-1}), per
// sequence b and distance L = 0..T-1:
//
//   ratio_b(L) = ||dL/dq_{T-1-L}[:, b]|| / ||dL/dq_{T-1}[:, b]||   (log10)
//
// and over sequences (and seeds) the statistics of the look-back study
// (statistics.hpp): the share of sequences exactly zero at L apart, mean, std,
// min, max and median of the others' log10. A sequence whose q at the last
// step receives exactly no gradient has no ratio and is left out.
//
// The verdict of a curve: its mean log10 at the longest distance L = T-1, and
// the "half-life": the smallest L at which the mean log10 falls below -3, the
// gradient below 10^-3 of the last step's (-1: never within T).
#pragma once

#include <cstdint>
#include <vector>

#include "rnnscope/core/random.hpp"
#include "rnnscope/diagnostics/end_to_end.hpp"
#include "rnnscope/sequence/model.hpp"

namespace rnnscope {

enum class EndToEndLoss { last, every };
/// "last", "every".
const char* to_string(EndToEndLoss loss);

/// The per-sequence log10 ratio curves of one seed's stack: curves[loss][q] holds one curve per sequence
/// (loss 0 last, 1 every; q 0 the input, 1 + l layer l's h).
struct EndToEndSamples {
  std::vector<std::vector<std::vector<std::vector<double>>>> curves;
};

/// Adds the ratio curves of one loss's norms (the first `sequences` sequences) to samples.curves[loss].
void add_end_to_end_samples(const StackGradientNorms& norms, EndToEndLoss loss, Index sequences,
                            EndToEndSamples& samples);

/// The two losses' cotangents drawn from rng, the last step's (H, B) first, then every step's (H, T*B), and
/// the ratio curves of the first `sequences` sequences.
template <class Cell>
EndToEndSamples end_to_end_samples(const Stack<Cell>& stack, const StackCache<Cell>& cache, Rng& rng, Index sequences) {
  const Index T = cache.steps, B = cache.batch, H = stack.output_size();
  EndToEndSamples s;
  Mat<double> d_output = Mat<double>::Zero(H, T * B);
  d_output.rightCols(B) = rng.normal_matrix<double>(H, B);
  add_end_to_end_samples(stack_gradient_norms(stack, cache, d_output), EndToEndLoss::last, sequences, s);
  d_output = rng.normal_matrix<double>(H, T * B);
  add_end_to_end_samples(stack_gradient_norms(stack, cache, d_output), EndToEndLoss::every, sequences, s);
  return s;
}

/// One loss and one quantity over L = 0..T-1.
struct EndToEndCurve {
  EndToEndLoss loss = EndToEndLoss::last;
  int layer = -1;  // -1: the input x; l >= 0: the output h^l of layer l
  std::vector<double> mean_log10, std_log10, min_log10, max_log10, median_log10, zero_share;
  Index sequences = 0;     // the sequences with a ratio (their last step's gradient is not exactly zero)
  double final_log10 = 0;  // mean_log10 at L = T-1
  Index half_life = -1;    // the smallest L with mean_log10 < -3; -1: never within T
};

struct EndToEndResult {
  Index layers = 0;                   // N
  std::vector<Index> distance;        // L = 0..T-1
  std::vector<EndToEndCurve> curves;  // loss last then every; in each: the input, then h^0 .. h^{N-1}
  bool empty() const { return curves.empty(); }
  /// The curve of a loss and a quantity (layer -1: the input).
  const EndToEndCurve& curve(EndToEndLoss loss, int layer) const;
};

/// The statistics and verdicts over the samples of every seed (in the order given).
EndToEndResult reduce_end_to_end(const std::vector<EndToEndSamples>& samples);

/// The measure of a given model on a given input (x (I, T*B), state0 (N*S, B) or empty) over its first
/// `sequences` sequences, the cotangents drawn from Rng(seed) (end_to_end_samples).
EndToEndResult model_end_to_end(const Model<double>& model, const Mat<double>& x, Index batch,
                                const Mat<double>& state0, Index sequences, std::uint64_t seed);

}  // namespace rnnscope
