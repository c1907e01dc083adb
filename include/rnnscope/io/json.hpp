// JSON values from doubles.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>

namespace rnnscope {

/// A number for JSON, which has no infinity or NaN: those become null.
inline nlohmann::json json_number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace rnnscope
