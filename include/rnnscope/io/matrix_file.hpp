// Reading one square matrix a user supplies (rnnscope spectrum --matrix): a CSV
// file of numbers, one row per line, separated by commas, or a safetensors file
// holding a 2-D F32 or F64 tensor. The file is untrusted input: every error
// names the file and where the problem is (row and column counted from 1).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// Parses CSV text as a square matrix of at most max_size rows. Lines are rows;
/// a cell is a number with optional spaces around it; empty lines and lines
/// starting with '#' (numpy.savetxt's header) are skipped; "\r\n" line ends are
/// accepted. Throws InvalidInput, prefixed with `source`, for no rows, a cell
/// that is not a number or not finite, a row of another length than the first,
/// a matrix that is not square, or more than max_size rows or columns.
Mat<double> parse_matrix_csv(std::string_view text, const std::string& source, Index max_size);

/// The square matrix of a safetensors file: the tensor called `tensor`, or the
/// file's only tensor when `tensor` is empty. Throws InvalidInput for a missing
/// tensor (naming the ones there are), several tensors and no name, a tensor
/// that is not 2-D, not F32 or F64, not square, empty, larger than max_size or
/// with a non-finite entry.
Mat<double> read_matrix_safetensors(const std::filesystem::path& path, const std::string& tensor, Index max_size);

/// A matrix file by its extension: ".safetensors" is read as safetensors, any
/// other as CSV (`tensor` must then be empty).
Mat<double> read_matrix_file(const std::filesystem::path& path, const std::string& tensor, Index max_size);

}  // namespace rnnscope
