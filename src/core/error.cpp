#include "rnnscope/core/error.hpp"

#include <fmt/format.h>

namespace rnnscope {

void check_shape(const std::string& name, Index rows, Index cols, Index expected_rows,
                 Index expected_cols) {
  if (rows != expected_rows || cols != expected_cols)
    throw InvalidInput(fmt::format("{}: expected shape ({}, {}), got ({}, {})", name,
                                   expected_rows, expected_cols, rows, cols));
}

}  // namespace rnnscope
