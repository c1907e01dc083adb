// Statistics over curves that span decades, kept as log10.
//
// A value that is exactly zero (a relu unit that died, a gradient past a
// convolution's receptive field) is -inf in log10, and only such a value: the
// renormalised chains carry a ratio far below the smallest double (1e-437 is
// -437). Statistics count the exact zeros apart (their share) and summarise the
// other values as they are, so a mean is never pulled down by a zero and never
// floored.
#pragma once

#include <vector>

namespace rnnscope {

/// True where a log10 value stands for an exact zero: -inf.
bool is_zero_log10(double log10_value);

/// The median of the finite values of v (NaN when there are none).
double median_of_finite(std::vector<double> v);

/// Per-index statistics over log10 curves of equal length. zero_share is the
/// share of curves that are exactly zero there (-inf); mean, std (the
/// population standard deviation), min, max and median are over the others.
/// Where every curve is zero: mean, min, max and median are -inf, std is NaN.
struct CurveStatistics {
  std::vector<double> mean, std, min, max, median, zero_share;
};
/// Over curves in the order given (the sums are taken in that order, so the
/// same curves give the same bits); throws InvalidInput on none or unequal lengths.
CurveStatistics curve_statistics(const std::vector<std::vector<double>>& curves);

}  // namespace rnnscope
