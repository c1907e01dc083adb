#include "rnnscope/studies/statistics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "rnnscope/core/error.hpp"
#include "rnnscope/studies/study.hpp"

namespace rnnscope {

double floored(double log10_value) { return std::max(log10_value, kLog10Floor); }

bool is_zero_log10(double log10_value) { return log10_value <= kLog10Floor; }

double median_of_finite(std::vector<double> v) {
  std::erase_if(v, [](double x) { return !std::isfinite(x); });
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

CurveStatistics curve_statistics(const std::vector<std::vector<double>>& curves) {
  require(!curves.empty(), "curve statistics: no curves");
  const size_t n = curves.front().size();
  for (const auto& c : curves)
    require(c.size() == n, fmt::format("curve statistics: curves of {} and {} points", n, c.size()));
  const double count = static_cast<double>(curves.size());
  CurveStatistics s;
  s.mean.assign(n, 0.0);
  s.std.assign(n, 0.0);
  s.min.assign(n, INFINITY);
  s.max.assign(n, -INFINITY);
  for (size_t i = 0; i < n; ++i) {
    double sum = 0, sum2 = 0;
    for (const auto& c : curves) {
      sum += c[i];
      sum2 += c[i] * c[i];
    }
    const double m = sum / count;
    s.mean[i] = m;
    s.std[i] = std::sqrt(std::max(0.0, sum2 / count - m * m));
  }
  for (const auto& c : curves)
    for (size_t i = 0; i < n; ++i) {
      s.min[i] = std::min(s.min[i], c[i]);
      s.max[i] = std::max(s.max[i], c[i]);
    }
  return s;
}

void check_task_indices(const std::vector<std::size_t>& indices, std::size_t count) {
  require(indices.size() == count, fmt::format("study: {} results for {} tasks", indices.size(), count));
  for (std::size_t i = 0; i < count; ++i)
    require(indices[i] == i, fmt::format("study: the result of task {} is {}", i,
                                         i > 0 && indices[i] == indices[i - 1] ? "there twice" : "missing"));
}

}  // namespace rnnscope
