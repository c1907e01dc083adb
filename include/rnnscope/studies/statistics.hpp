// Statistics over curves that span decades, kept as log10.
//
// A value that is exactly zero (a relu unit that died, a gradient past a
// convolution's receptive field) is -inf in log10. Per-trajectory curves keep
// it; statistics floor it at kLog10Floor, below the smallest double, so a mean
// stays finite, and is_zero_log10 tells a floored value from a small one.
#pragma once

#include <vector>

namespace rnnscope {

inline constexpr double kLog10Floor = -324.0;  // below the smallest subnormal double (~4.9e-324)

/// max(v, kLog10Floor).
double floored(double log10_value);
/// True where a log10 value stands for an exact zero: at or below the floor.
bool is_zero_log10(double log10_value);

/// The median of the finite values of v (NaN when there are none).
double median_of_finite(std::vector<double> v);

/// Per-index statistics over curves of equal length.
struct CurveStatistics {
  std::vector<double> mean, std, min, max;  // std: the population standard deviation
};
/// Over curves in the order given (the sums are taken in that order, so the
/// same curves give the same bits); throws InvalidInput on none or unequal lengths.
CurveStatistics curve_statistics(const std::vector<std::vector<double>>& curves);

}  // namespace rnnscope
