#include "rnnscope/studies/statistics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "rnnscope/core/error.hpp"
#include "rnnscope/studies/study.hpp"

namespace rnnscope {

bool is_zero_log10(double log10_value) { return log10_value == -std::numeric_limits<double>::infinity(); }

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
  CurveStatistics s;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values;
  for (size_t i = 0; i < n; ++i) {
    double sum = 0, zeros = 0, lo = inf, hi = -inf;
    values.clear();
    for (const auto& c : curves) {
      const double v = c[i];
      if (is_zero_log10(v)) {
        zeros += 1;
        continue;
      }
      sum += v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      values.push_back(v);
    }
    const double count = static_cast<double>(values.size());
    s.zero_share.push_back(zeros / static_cast<double>(curves.size()));
    if (values.empty()) {
      s.mean.push_back(-inf);
      s.std.push_back(std::numeric_limits<double>::quiet_NaN());
      s.min.push_back(-inf);
      s.max.push_back(-inf);
      s.median.push_back(-inf);
      continue;
    }
    // Centred second pass: values near -400 with a spread of 0.01 keep their digits.
    const double m = sum / count;
    double centred = 0;
    for (const double v : values) centred += (v - m) * (v - m);
    s.mean.push_back(m);
    s.std.push_back(std::sqrt(centred / count));
    s.min.push_back(lo);
    s.max.push_back(hi);
    s.median.push_back(median_of_finite(values));
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
