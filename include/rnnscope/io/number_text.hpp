// One number in a message or a screen table, so that a value that is not finite or that a double no longer
// holds says what it is instead of printing as "-nan" or as a 0 that is not one.
#pragma once

#include <string>

namespace rnnscope {

/// v with `digits` significant digits ("{:.{digits}g}"); "NaN" for not-a-number, whatever its sign bit (never
/// the C library's "-nan"); "inf" and "-inf"; and "below 1e-308" ("above -1e-308") for a nonzero magnitude
/// under 1e-308, where a double has lost its digits (subnormal) on the way to 0.
std::string number_text(double v, int digits = 6);

}  // namespace rnnscope
