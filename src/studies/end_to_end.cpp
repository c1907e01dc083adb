#include "rnnscope/studies/end_to_end.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "rnnscope/core/error.hpp"
#include "rnnscope/studies/statistics.hpp"

namespace rnnscope {

const char* to_string(EndToEndLoss loss) { return loss == EndToEndLoss::last ? "last" : "every"; }

void add_end_to_end_samples(const StackGradientNorms& norms, EndToEndLoss loss, Index sequences,
                            EndToEndSamples& samples) {
  const auto k = static_cast<size_t>(loss);
  const size_t quantities = 1 + norms.hidden_log10.size();
  if (samples.curves.size() <= k) samples.curves.resize(k + 1);
  samples.curves[k].resize(quantities);
  const Index T = norms.input_log10.rows(), B = std::min<Index>(sequences, norms.input_log10.cols());
  for (size_t q = 0; q < quantities; ++q) {
    const Mat<double>& m = q == 0 ? norms.input_log10 : norms.hidden_log10[q - 1];
    for (Index b = 0; b < B; ++b) {
      const double last = m(T - 1, b);
      if (is_zero_log10(last)) continue;  // no gradient at the last step: no ratio
      std::vector<double> c(static_cast<size_t>(T));
      for (Index L = 0; L < T; ++L) c[static_cast<size_t>(L)] = m(T - 1 - L, b) - last;
      samples.curves[k][q].push_back(std::move(c));
    }
  }
}

const EndToEndCurve& EndToEndResult::curve(EndToEndLoss loss, int layer) const {
  for (const auto& c : curves)
    if (c.loss == loss && c.layer == layer) return c;
  throw InvalidInput(fmt::format("end-to-end: no curve for loss {} and layer {}", to_string(loss), layer));
}

EndToEndResult reduce_end_to_end(const std::vector<EndToEndSamples>& samples) {
  require(!samples.empty() && samples.front().curves.size() == 2, "end-to-end: no samples");
  EndToEndResult r;
  const size_t quantities = samples.front().curves[0].size();
  r.layers = static_cast<Index>(quantities) - 1;
  Index T = 0;
  for (const auto& s : samples)
    for (const auto& per_loss : s.curves)
      for (const auto& per_q : per_loss)
        if (!per_q.empty()) T = static_cast<Index>(per_q.front().size());
  for (Index L = 0; L < T; ++L) r.distance.push_back(L);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const EndToEndLoss loss : {EndToEndLoss::last, EndToEndLoss::every}) {
    for (size_t q = 0; q < quantities; ++q) {
      std::vector<std::vector<double>> all;
      for (const auto& s : samples)
        for (const auto& c : s.curves[static_cast<size_t>(loss)][q]) all.push_back(c);
      EndToEndCurve c;
      c.loss = loss;
      c.layer = static_cast<int>(q) - 1;
      c.sequences = static_cast<Index>(all.size());
      if (all.empty()) {  // no sequence has a gradient at the last step
        for (auto* v : {&c.mean_log10, &c.std_log10, &c.min_log10, &c.max_log10, &c.median_log10, &c.zero_share})
          v->assign(static_cast<size_t>(T), nan);
        c.final_log10 = nan;
      } else {
        CurveStatistics s = curve_statistics(all);
        c.mean_log10 = std::move(s.mean);
        c.std_log10 = std::move(s.std);
        c.min_log10 = std::move(s.min);
        c.max_log10 = std::move(s.max);
        c.median_log10 = std::move(s.median);
        c.zero_share = std::move(s.zero_share);
        c.final_log10 = c.mean_log10.back();
        for (Index L = 0; L < T; ++L)
          if (c.mean_log10[static_cast<size_t>(L)] < -3) {
            c.half_life = L;
            break;
          }
      }
      r.curves.push_back(std::move(c));
    }
  }
  return r;
}

EndToEndResult model_end_to_end(const Model<double>& model, const Mat<double>& x, Index batch,
                                const Mat<double>& state0, Index sequences, std::uint64_t seed) {
  Rng rng(seed);
  return std::visit(
      [&](const auto& stack) {
        const auto cache = stack.forward(x, batch, state0);
        return reduce_end_to_end({end_to_end_samples(stack, cache, rng, sequences)});
      },
      model);
}

}  // namespace rnnscope
