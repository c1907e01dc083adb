#include "rnnscope/sequence/gradcheck.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace rnnscope {

double GradientCheckReport::worst_relative_error() const {
  double worst = 0;
  for (const auto& t : tensors) worst = std::max(worst, t.relative_error);
  return worst;
}

std::string GradientCheckReport::to_string() const {
  std::string s = fmt::format("{:<14} {:>8} {:>12} {:>12} {:>22}\n", "tensor", "size", "rel error",
                              "max abs err", "worst: analytic/numeric");
  for (const auto& t : tensors)
    s += fmt::format("{:<14} {:>8} {:>12.3e} {:>12.3e} {:>11.4e}/{:<11.4e}\n", t.name, t.size,
                     t.relative_error, t.max_abs_error, t.analytic_at_worst, t.numeric_at_worst);
  return s;
}

GradientCheckReport check_gradients(const std::function<double()>& loss,
                                    const std::vector<CheckedTensor>& tensors, double step) {
  GradientCheckReport report;
  report.step = step;
  for (const auto& t : tensors) {
    TensorCheck c;
    c.name = t.name;
    c.size = t.size;
    double diff2 = 0, a2 = 0, n2 = 0;
    for (Index i = 0; i < t.size; ++i) {
      const double saved = t.values[i];
      t.values[i] = saved + step;
      const double up = loss();
      t.values[i] = saved - step;
      const double down = loss();
      t.values[i] = saved;
      const double numeric = (up - down) / (2 * step);
      const double analytic = t.analytic[i];
      const double err = std::abs(analytic - numeric);
      diff2 += err * err;
      a2 += analytic * analytic;
      n2 += numeric * numeric;
      if (err >= c.max_abs_error) {
        c.max_abs_error = err;
        c.worst_index = i;
        c.analytic_at_worst = analytic;
        c.numeric_at_worst = numeric;
      }
    }
    c.relative_error = std::sqrt(diff2) / std::max({std::sqrt(a2), std::sqrt(n2), 1e-300});
    if (!std::isfinite(c.relative_error)) c.relative_error = INFINITY;
    report.tensors.push_back(c);
  }
  return report;
}

}  // namespace rnnscope
