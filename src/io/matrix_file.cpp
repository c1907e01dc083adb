#include "rnnscope/io/matrix_file.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/safetensors.hpp"

namespace rnnscope {

namespace {

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// "'file': matrix of (R, C)": the shape checks shared by both formats.
void check_square(const std::string& source, Index rows, Index cols, Index max_size) {
  require(rows > 0 && cols > 0, fmt::format("{}: the matrix is empty", source));
  require(rows == cols, fmt::format("{}: the matrix is {} x {}, not square", source, rows, cols));
  require(rows <= max_size,
          fmt::format("{}: the matrix is {} x {}, larger than the limit {} x {} (its eigendecomposition and the "
                      "SVD of every power would take too long)",
                      source, rows, cols, max_size, max_size));
}

}  // namespace

Mat<double> parse_matrix_csv(std::string_view text, const std::string& source, Index max_size) {
  std::vector<std::vector<double>> rows;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t row = rows.size() + 1;
    require(static_cast<Index>(row) <= max_size,
            fmt::format("{}: more than {} rows, larger than the limit {} x {} (its eigendecomposition and the SVD of "
                        "every power would take too long)",
                        source, max_size, max_size, max_size));
    std::vector<double> values;
    std::string_view rest = line;
    for (std::size_t column = 1;; ++column) {
      const std::size_t comma = rest.find(',');
      const std::string_view cell = trim(rest.substr(0, comma));
      const std::string where = fmt::format("{}: row {} (line {}), column {}", source, row, line_number, column);
      require(!cell.empty(), where + ": empty cell");
      double v = 0;
      const char* first = cell.data();
      if (*first == '+') ++first;  // from_chars takes no leading '+'
      const auto [ptr, ec] = std::from_chars(first, cell.data() + cell.size(), v);
      require(ec != std::errc::invalid_argument && ptr == cell.data() + cell.size(),
              fmt::format("{}: '{}' is not a number", where, cell));
      require(ec != std::errc::result_out_of_range && std::isfinite(v),
              fmt::format("{}: '{}' is not a finite double", where, cell));
      values.push_back(v);
      require(
          static_cast<Index>(values.size()) <= max_size,
          fmt::format("{}: more than {} columns, larger than the limit {} x {}", where, max_size, max_size, max_size));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!rows.empty())
      require(values.size() == rows.front().size(),
              fmt::format("{}: row {} (line {}) has {} values, row 1 has {}", source, row, line_number, values.size(),
                          rows.front().size()));
    rows.push_back(std::move(values));
  }
  require(!rows.empty(), fmt::format("{}: no rows of numbers (the matrix is empty)", source));
  const Index n = static_cast<Index>(rows.size()), m = static_cast<Index>(rows.front().size());
  check_square(source, n, m, max_size);
  Mat<double> w(n, m);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < m; ++j) w(i, j) = rows[i][j];
  return w;
}

Mat<double> read_matrix_safetensors(const std::filesystem::path& path, const std::string& tensor, Index max_size) {
  const TensorFile file = read_safetensors(path);
  const std::string source = fmt::format("'{}'", path.string());
  std::string names;
  for (const auto& t : file.tensors) names += fmt::format("{}'{}'", names.empty() ? "" : ", ", t.name);
  const NamedTensor* t = nullptr;
  if (tensor.empty()) {
    require(file.tensors.size() == 1,
            file.tensors.empty()
                ? fmt::format("{}: holds no tensor", source)
                : fmt::format("{}: holds {} tensors ({}); name one with --tensor", source, file.tensors.size(), names));
    t = &file.tensors.front();
  } else {
    t = file.find(tensor);
    require(t != nullptr, fmt::format("{}: no tensor '{}' (it holds {})", source, tensor,
                                      names.empty() ? std::string("none") : names));
  }
  const std::string where = fmt::format("{}: tensor '{}'", source, t->name);
  require(is_floating(t->dtype),
          fmt::format("{} is {}, expected a floating-point matrix (F32 or F64)", where, dtype_name(t->dtype)));
  require(t->shape.size() == 2,
          fmt::format("{} has shape {}, expected a 2-D (square) matrix", where, t->shape_string()));
  check_square(where, t->shape[0], t->shape[1], max_size);
  const Mat<double> w = to_matrix<double>(*t);
  for (Index i = 0; i < w.rows(); ++i)
    for (Index j = 0; j < w.cols(); ++j)
      require(std::isfinite(w(i, j)),
              fmt::format("{}: row {}, column {} is {}, not finite", where, i + 1, j + 1, w(i, j)));
  return w;
}

Mat<double> read_matrix_file(const std::filesystem::path& path, const std::string& tensor, Index max_size) {
  if (path.extension() == ".safetensors") return read_matrix_safetensors(path, tensor, max_size);
  const std::string source = fmt::format("'{}'", path.string());
  require(tensor.empty(), fmt::format("{}: --tensor names a tensor of a .safetensors file; a CSV file holds one "
                                      "matrix",
                                      source));
  std::error_code ec;
  require(std::filesystem::is_regular_file(path, ec), fmt::format("{} is not a readable file", source));
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), fmt::format("cannot open {}", source));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(!in.bad(), fmt::format("cannot read {}", source));
  return parse_matrix_csv(text, source, max_size);
}

}  // namespace rnnscope
