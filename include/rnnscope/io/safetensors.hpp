// Reading and writing safetensors files, the format of every weight and tensor
// file rnnscope exchanges with PyTorch.
//
// Layout: an 8-byte little-endian unsigned header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}
// (padded with spaces to a multiple of 8 bytes), then the data area: every
// tensor's row-major little-endian bytes at [begin, end) counted from the
// start of the data area. rnnscope reads and writes the dtypes F32, F64 and
// I64 (PyTorch's torch.int64, e.g. class indices).
//
// A file is untrusted input: the reader checks every field (lengths, JSON
// types, dtypes, offsets inside the data area, contiguous and non-overlapping
// coverage, byte counts against shapes with overflow checks, duplicate names)
// before it reads a byte of data, then each I64 value as it decodes it, and
// throws InvalidInput naming the problem.
// docs/formats.md states the rules and the files built on this format.
//
// Layouts: a tensor's values are kept row-major as in the file. The library's
// matrices are column-major, so a 2-D tensor (R, C) becomes Mat (R, C) with its
// memory transposed, and a time-major 3-D tensor (T, B, F) becomes the sequence
// matrix (F, T*B) with the same memory (tensor.hpp). A stacked state such as
// PyTorch's h0 (L, B, H) converts like a sequence, to (H, L*B): layer l is
// columns l*B .. l*B+B-1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

/// Element types rnnscope reads and writes (safetensors names "F32", "F64",
/// "I64"). I64 is little-endian two's complement; it holds integer data such as
/// class indices, never model weights or floating-point results.
enum class DType { f32, f64, i64 };

/// "F32", "F64" or "I64".
std::string_view dtype_name(DType dtype);
/// Bytes per element: 4 or 8.
std::size_t dtype_size(DType dtype);
/// True for F32 and F64, false for I64.
bool is_floating(DType dtype);
/// The dtype that stores S exactly.
template <Scalar S>
inline constexpr DType dtype_of = std::same_as<S, float> ? DType::f32 : DType::f64;

/// The largest magnitude an I64 value may have in rnnscope, 2^53: every integer
/// up to it is exact in double. The reader refuses a file holding a larger one,
/// the writer a value that is not an integer within +-2^53.
inline constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;

/// One tensor of a file. F32 values are exact in double, and so are I64 values
/// (integers within +-2^53).
struct NamedTensor {
  std::string name;
  DType dtype = DType::f64;
  std::vector<std::int64_t> shape;  // () for a scalar
  std::vector<double> values;       // row-major, product(shape) entries

  /// Product of the shape (1 for a scalar).
  std::int64_t numel() const;
  /// "(6, 5)", "(4)" or "()".
  std::string shape_string() const;
  /// "(3, 1, 0)": where the k-th value (row-major) is in the shape, for a message that names an entry.
  std::string position_string(std::size_t k) const;
};

/// The contents of a safetensors file: metadata and tensors in data order.
struct TensorFile {
  std::map<std::string, std::string> metadata;
  std::vector<NamedTensor> tensors;

  /// The tensor called `name`, or nullptr.
  const NamedTensor* find(const std::string& name) const;
  /// The tensor called `name`; throws InvalidInput "missing tensor 'name'".
  const NamedTensor& at(const std::string& name) const;
  /// The metadata value of `key`; throws InvalidInput "missing metadata key 'key'".
  const std::string& metadata_at(const std::string& key) const;
};

/// Parses a whole file held in memory. Throws InvalidInput naming the problem.
TensorFile parse_safetensors(std::span<const unsigned char> bytes);
/// Reads and parses `path`; errors name the file.
TensorFile read_safetensors(const std::filesystem::path& path);

/// The bytes of a file holding `file`: tensors in their given order, the
/// metadata first in the header (omitted when empty), the header padded with
/// spaces to a multiple of 8 bytes. F64 values written as F32 are rounded to
/// nearest; values written as I64 must be integers within +-2^53. Throws
/// InvalidInput for duplicate or reserved names, a shape that disagrees with
/// the number of values, a finite value beyond the F32 range, or an I64 value
/// that is not such an integer.
std::string serialize_safetensors(const TensorFile& file);
/// Writes serialize_safetensors(file) to `path` atomically (write_file_atomic).
void write_safetensors(const std::filesystem::path& path, const TensorFile& file);

/// Throws InvalidInput unless `t` has exactly `expected`:
/// "weight_hh_l0: expected shape (6, 6), got (6, 5)".
void check_tensor_shape(const NamedTensor& t, const std::vector<std::int64_t>& expected);

/// A 2-D tensor (R, C) as the matrix (R, C). Converting to float throws
/// InvalidInput for a finite value beyond the float range. These converters
/// take any dtype: I64 values are integers, exact in double (in float, an
/// integer above 2^24 rounds to nearest).
template <Scalar S> Mat<S> to_matrix(const NamedTensor& t);
/// A 1-D tensor (N) as the vector (N).
template <Scalar S> Vec<S> to_vector(const NamedTensor& t);
/// A time-major 3-D tensor (T, B, F) as the sequence matrix (F, T*B).
template <Scalar S> Mat<S> to_sequence(const NamedTensor& t);

/// The values of `t` (any shape, row-major) as integers, e.g. class indices as
/// PyTorch writes them (torch.int64). Takes I64, and F32 or F64 values that are
/// integers within +-2^53; throws InvalidInput naming the tensor and the first
/// other entry: "target: value 1.5 at index 3 is not an integer".
std::vector<std::int64_t> to_integers(const NamedTensor& t);

/// The matrix m (R, C) as a 2-D tensor (R, C). With dtype I64 the values must
/// be integers within +-2^53 when the tensor is written.
template <Scalar S> NamedTensor from_matrix(std::string name, const Mat<S>& m, DType dtype = dtype_of<S>);
/// The vector v (N) as a 1-D tensor (N).
template <Scalar S> NamedTensor from_vector(std::string name, const Vec<S>& v, DType dtype = dtype_of<S>);
/// The sequence x (F, T*B) as the time-major 3-D tensor (T, B, F); throws
/// InvalidInput unless batch > 0 divides the number of columns.
template <Scalar S>
NamedTensor from_sequence(std::string name, const Mat<S>& x, Index batch, DType dtype = dtype_of<S>);

extern template Mat<float> to_matrix<float>(const NamedTensor&);
extern template Mat<double> to_matrix<double>(const NamedTensor&);
extern template Vec<float> to_vector<float>(const NamedTensor&);
extern template Vec<double> to_vector<double>(const NamedTensor&);
extern template Mat<float> to_sequence<float>(const NamedTensor&);
extern template Mat<double> to_sequence<double>(const NamedTensor&);
extern template NamedTensor from_matrix<float>(std::string, const Mat<float>&, DType);
extern template NamedTensor from_matrix<double>(std::string, const Mat<double>&, DType);
extern template NamedTensor from_vector<float>(std::string, const Vec<float>&, DType);
extern template NamedTensor from_vector<double>(std::string, const Vec<double>&, DType);
extern template NamedTensor from_sequence<float>(std::string, const Mat<float>&, Index, DType);
extern template NamedTensor from_sequence<double>(std::string, const Mat<double>&, Index, DType);

}  // namespace rnnscope
