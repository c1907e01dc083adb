#include "rnnscope/io/safetensors.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/files.hpp"

namespace rnnscope {

namespace {

using json = nlohmann::json;

// The reference implementation's bound; a header this large is already absurd.
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;
// A valid header nests three levels (file, tensor, shape); anything much deeper
// is hostile and would only cost memory.
constexpr int kMaxHeaderDepth = 16;
constexpr const char* kMetadataKey = "__metadata__";

// Text from a file shown in a message: control bytes escaped, long text cut
// (at a character boundary), so a hostile name cannot flood or drive a terminal.
std::string printable(const std::string& s) {
  constexpr std::size_t kMaxShown = 80;
  std::size_t n = std::min(s.size(), kMaxShown);
  while (n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (n < s.size()) out += "...";
  return out;
}

std::string quoted(const std::string& s) { return fmt::format("'{}'", printable(s)); }

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("({})", fmt::join(shape, ", "));
}

std::uint64_t load_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The file is little-endian; on a big-endian host the bytes are reversed.
template <class U>
U load_le(const unsigned char* p) {
  unsigned char bytes[sizeof(U)];
  std::memcpy(bytes, p, sizeof(U));
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes, bytes + sizeof(U));
  return std::bit_cast<U>(bytes);
}

template <class U>
void store_le(U v, std::string& out) {
  auto bytes = std::bit_cast<std::array<char, sizeof(U)>>(v);
  if constexpr (std::endian::native == std::endian::big) std::reverse(bytes.begin(), bytes.end());
  out.append(bytes.data(), bytes.size());
}

// Product of non-negative extents; false if it overflows (a zero extent makes it 0).
bool checked_product(const std::vector<std::uint64_t>& extents, std::uint64_t& product) {
  product = 1;
  if (std::find(extents.begin(), extents.end(), 0u) != extents.end()) {
    product = 0;
    return true;
  }
  for (std::uint64_t e : extents)
    if (__builtin_mul_overflow(product, e, &product)) return false;
  return true;
}

// Rejects duplicate keys (nlohmann::json keeps only one of them) and absurd nesting
// while the header is parsed.
class HeaderGuard {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxHeaderDepth)
      throw InvalidInput(fmt::format("header nests deeper than {} levels", kMaxHeaderDepth));
    switch (event) {
      case json::parse_event_t::object_start:
        keys_.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys_.empty()) keys_.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!keys_.empty() && !keys_.back().insert(key).second) {
          if (keys_.size() == 1 && key != kMetadataKey)
            throw InvalidInput(fmt::format("duplicate tensor name {} in the header", quoted(key)));
          throw InvalidInput(fmt::format("duplicate key {} in the header", quoted(key)));
        }
        break;
      }
      default:
        break;
    }
    return true;
  }

 private:
  std::vector<std::set<std::string>> keys_;
};

// A tensor entry of the header once checked, before its data is read.
struct Entry {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin, end;
};

// A JSON value in a message, short whatever its size.
std::string describe(const json& v) {
  if (v.is_string()) return fmt::format("the string {}", quoted(v.get_ref<const std::string&>()));
  if (v.is_array()) return fmt::format("an array of {} {}", v.size(), v.size() == 1 ? "entry" : "entries");
  if (v.is_object()) return "an object";
  return v.dump();  // a number, a boolean or null
}

// Reads a non-negative JSON integer; `what` describes it for the message.
std::uint64_t non_negative_integer(const json& v, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) throw InvalidInput(fmt::format("{} is {}, which is negative", what, v.dump()));
  throw InvalidInput(fmt::format("{} is {}, not a non-negative integer", what, describe(v)));
}

Entry check_entry(const std::string& name, const json& v, std::uint64_t data_size) {
  const std::string tensor = fmt::format("tensor {}", quoted(name));
  if (!v.is_object()) throw InvalidInput(fmt::format("{}: entry is {}, not an object", tensor, v.type_name()));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) throw InvalidInput(fmt::format("{} lacks '{}'", tensor, key));
  for (const auto& item : v.items())
    if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
      throw InvalidInput(fmt::format("{} has an unknown key {}", tensor, quoted(item.key())));

  Entry e{name, DType::f64, {}, 0, 0};
  const json& dtype = v.at("dtype");
  if (!dtype.is_string())
    throw InvalidInput(fmt::format("{}: 'dtype' is {}, not a string", tensor, dtype.type_name()));
  const auto& dtype_string = dtype.get_ref<const std::string&>();
  if (dtype_string == "F32")
    e.dtype = DType::f32;
  else if (dtype_string == "F64")
    e.dtype = DType::f64;
  else if (dtype_string == "I64")
    e.dtype = DType::i64;
  else
    throw InvalidInput(
        fmt::format("{} has dtype {}; rnnscope reads F32, F64 and I64", tensor, printable(dtype_string)));

  const json& shape = v.at("shape");
  if (!shape.is_array())
    throw InvalidInput(fmt::format("{}: 'shape' is {}, not an array", tensor, shape.type_name()));
  std::vector<std::uint64_t> extents;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::uint64_t d = non_negative_integer(shape[i], fmt::format("{}: shape entry {}", tensor, i));
    if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw InvalidInput(fmt::format("{}: shape entry {} is {}, too large", tensor, i, d));
    extents.push_back(d);
    e.shape.push_back(static_cast<std::int64_t>(d));
  }

  const json& offsets = v.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2)
    throw InvalidInput(fmt::format("{}: 'data_offsets' is {}, not an array of two integers", tensor,
                                   describe(offsets)));
  e.begin = non_negative_integer(offsets[0], fmt::format("{}: data_offsets begin", tensor));
  e.end = non_negative_integer(offsets[1], fmt::format("{}: data_offsets end", tensor));
  if (e.begin > e.end)
    throw InvalidInput(fmt::format("{}: data_offsets [{}, {}] begin after end", tensor, e.begin, e.end));
  if (e.end > data_size)
    throw InvalidInput(fmt::format("{}: data_offsets [{}, {}] outside the data area of {} bytes", tensor,
                                   e.begin, e.end, data_size));

  std::uint64_t count = 0, bytes = 0;
  if (!checked_product(extents, count) || __builtin_mul_overflow(count, dtype_size(e.dtype), &bytes))
    throw InvalidInput(fmt::format("{}: shape {} overflows the byte count", tensor, shape_text(e.shape)));
  if (bytes != e.end - e.begin)
    throw InvalidInput(fmt::format("{}: shape {} of {} needs {} bytes, data_offsets [{}, {}] hold {}", tensor,
                                   shape_text(e.shape), dtype_string, bytes, e.begin, e.end,
                                   e.end - e.begin));
  return e;
}

std::map<std::string, std::string> check_metadata(const json& v) {
  if (!v.is_object())
    throw InvalidInput(fmt::format("'__metadata__' is {}, not an object of strings", v.type_name()));
  std::map<std::string, std::string> metadata;
  for (const auto& item : v.items()) {
    if (!item.value().is_string())
      throw InvalidInput(fmt::format("'__metadata__' value of {} is {}, not a string", quoted(item.key()),
                                     item.value().type_name()));
    metadata.emplace(item.key(), item.value().get<std::string>());
  }
  return metadata;
}

// The tensors sorted by offset must tile [0, data_size) exactly.
void check_coverage(std::vector<Entry>& entries, std::uint64_t data_size) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      throw InvalidInput(fmt::format("tensors {} [{}, {}] and {} [{}, {}] overlap in the data area",
                                     quoted(previous->name), previous->begin, previous->end, quoted(e.name),
                                     e.begin, e.end));
    if (e.begin > covered)
      throw InvalidInput(fmt::format("gap in the data area: bytes [{}, {}) belong to no tensor", covered,
                                     e.begin));
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size)
    throw InvalidInput(fmt::format("gap in the data area: bytes [{}, {}) belong to no tensor", covered,
                                   data_size));
}

// The values of a checked entry; an I64 value beyond +-2^53, which a double
// cannot hold exactly, is an error.
std::vector<double> decode(const unsigned char* data, const Entry& e) {
  const std::size_t count = static_cast<std::size_t>((e.end - e.begin) / dtype_size(e.dtype));
  const unsigned char* p = data + e.begin;
  std::vector<double> values(count);
  switch (e.dtype) {
    case DType::f32:
      for (std::size_t i = 0; i < count; ++i)
        values[i] = static_cast<double>(std::bit_cast<float>(load_le<std::uint32_t>(p + 4 * i)));
      break;
    case DType::f64:
      for (std::size_t i = 0; i < count; ++i) values[i] = std::bit_cast<double>(load_le<std::uint64_t>(p + 8 * i));
      break;
    case DType::i64:
      for (std::size_t i = 0; i < count; ++i) {
        const auto v = std::bit_cast<std::int64_t>(load_le<std::uint64_t>(p + 8 * i));
        if (v > kMaxExactInteger || v < -kMaxExactInteger)
          throw InvalidInput(fmt::format("tensor {}: I64 value {} at index {} is beyond +-2^53 ({}), so a double "
                                         "cannot hold it exactly",
                                         quoted(e.name), v, i, kMaxExactInteger));
        values[i] = static_cast<double>(v);
      }
      break;
  }
  return values;
}

// True if v is an integer within +-2^53 (so it converts to int64 and back exactly).
bool exact_integer(double v) {
  return std::isfinite(v) && v == std::trunc(v) && std::abs(v) <= static_cast<double>(kMaxExactInteger);
}

// Why v is not an exact integer, for a message.
std::string_view not_integer_reason(double v) {
  return std::isfinite(v) && v == std::trunc(v) ? "is beyond +-2^53" : "is not an integer";
}

// Throws unless every value converts to S without leaving its range.
template <Scalar S>
void check_range(const NamedTensor& t) {
  if constexpr (std::same_as<S, float>) {
    constexpr double limit = std::numeric_limits<float>::max();
    for (std::size_t i = 0; i < t.values.size(); ++i)
      if (std::isfinite(t.values[i]) && std::abs(t.values[i]) > limit)
        throw InvalidInput(fmt::format("{}: value {} at {} of shape {} is outside the float range", t.name,
                                       t.values[i], t.position_string(i), t.shape_string()));
  }
}

void require_rank(const NamedTensor& t, std::size_t rank) {
  if (t.shape.size() != rank)
    throw InvalidInput(fmt::format("{}: expected a {}-D tensor, got shape {}", t.name, rank, t.shape_string()));
  require(t.values.size() == static_cast<std::size_t>(t.numel()),
          fmt::format("{}: shape {} but {} values", t.name, t.shape_string(), t.values.size()));
}

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i64:
      return "I64";
  }
  throw std::logic_error("dtype_name: not a DType");
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f64:
    case DType::i64:
      return 8;
  }
  throw std::logic_error("dtype_size: not a DType");
}

bool is_floating(DType dtype) { return dtype == DType::f32 || dtype == DType::f64; }

std::int64_t NamedTensor::numel() const {
  std::int64_t n = 1;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) n = 0;
  for (std::int64_t d : shape)
    if (d < 0 || (n != 0 && __builtin_mul_overflow(n, d, &n)))
      throw InvalidInput(fmt::format("{}: shape {} has no valid element count", name, shape_string()));
  return n;
}

std::string NamedTensor::shape_string() const { return shape_text(shape); }

std::string NamedTensor::position_string(std::size_t k) const {
  std::vector<std::int64_t> at(shape.size());
  auto rest = static_cast<std::int64_t>(k);
  for (std::size_t d = shape.size(); d-- > 0;) {
    at[d] = shape[d] > 0 ? rest % shape[d] : 0;
    rest = shape[d] > 0 ? rest / shape[d] : 0;
  }
  return shape_text(at);
}

const NamedTensor* TensorFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const NamedTensor& TensorFile::at(const std::string& name) const {
  if (const NamedTensor* t = find(name)) return *t;
  throw InvalidInput(fmt::format("missing tensor {}", quoted(name)));
}

const std::string& TensorFile::metadata_at(const std::string& key) const {
  const auto it = metadata.find(key);
  if (it == metadata.end()) throw InvalidInput(fmt::format("missing metadata key {}", quoted(key)));
  return it->second;
}

TensorFile parse_safetensors(std::span<const unsigned char> bytes) {
  if (bytes.size() < 8)
    throw InvalidInput(fmt::format("file is {} bytes, shorter than the 8-byte header length", bytes.size()));
  const std::uint64_t header_size = load_u64_le(bytes.data());
  const std::uint64_t after_length = bytes.size() - 8;
  if (header_size > kMaxHeaderBytes)
    throw InvalidInput(fmt::format("header length {} is above the limit of {} bytes (100 MiB)", header_size,
                                   kMaxHeaderBytes));
  if (header_size > after_length)
    throw InvalidInput(fmt::format("header length {} runs past the end of the file ({} bytes follow the length)",
                                   header_size, after_length));
  const unsigned char* header_begin = bytes.data() + 8;
  const unsigned char* data = header_begin + header_size;
  const std::uint64_t data_size = after_length - header_size;

  // nlohmann::json stops at a NUL byte as if the input ended; JSON text never holds one.
  if (const void* nul = std::memchr(header_begin, 0, header_size))
    throw InvalidInput(fmt::format("header is not valid JSON: NUL byte at offset {}",
                                   static_cast<const unsigned char*>(nul) - header_begin));
  json header;
  try {
    header = json::parse(header_begin, data, HeaderGuard{});
  } catch (const json::exception& e) {
    throw InvalidInput(fmt::format("header is not valid JSON: {}", e.what()));
  }
  if (!header.is_object())
    throw InvalidInput(fmt::format("header is a JSON {}, not an object", header.type_name()));

  TensorFile file;
  std::vector<Entry> entries;
  for (const auto& item : header.items()) {
    if (item.key() == kMetadataKey)
      file.metadata = check_metadata(item.value());
    else
      entries.push_back(check_entry(item.key(), item.value(), data_size));
  }
  check_coverage(entries, data_size);

  file.tensors.reserve(entries.size());
  for (Entry& e : entries) {
    std::vector<double> values = decode(data, e);
    file.tensors.push_back({std::move(e.name), e.dtype, std::move(e.shape), std::move(values)});
  }
  return file;
}

TensorFile read_safetensors(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InvalidInput(fmt::format("'{}' is not a readable file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidInput(fmt::format("cannot open '{}'", path.string()));
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InvalidInput(fmt::format("cannot read '{}'", path.string()));
  try {
    return parse_safetensors(bytes);
  } catch (const InvalidInput& e) {
    throw InvalidInput(fmt::format("'{}': {}", path.string(), e.what()));
  }
}

std::string serialize_safetensors(const TensorFile& file) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) {
    auto& metadata = header[kMetadataKey];
    for (const auto& [key, value] : file.metadata) metadata[key] = value;
  }
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const auto& t : file.tensors) {
    const std::string tensor = fmt::format("tensor {}", quoted(t.name));
    require(t.name != kMetadataKey, "'__metadata__' is reserved and cannot name a tensor");
    require(names.insert(t.name).second, fmt::format("duplicate tensor name {}", quoted(t.name)));
    std::vector<std::uint64_t> extents;
    for (std::int64_t d : t.shape) {
      require(d >= 0, fmt::format("{}: shape {} has a negative extent", tensor, t.shape_string()));
      extents.push_back(static_cast<std::uint64_t>(d));
    }
    std::uint64_t count = 0;
    require(checked_product(extents, count) && count == t.values.size(),
            fmt::format("{}: shape {} but {} values", tensor, t.shape_string(), t.values.size()));
    if (t.dtype == DType::f32) check_range<float>(t);
    if (t.dtype == DType::i64)
      for (std::size_t i = 0; i < t.values.size(); ++i)
        if (!exact_integer(t.values[i]))
          throw InvalidInput(fmt::format("{}: value {} at index {} {}; I64 holds integers within +-2^53", tensor,
                                         t.values[i], i, not_integer_reason(t.values[i])));
    const std::uint64_t end = offset + count * dtype_size(t.dtype);
    header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }

  std::string text;
  try {
    text = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::ordered_json::exception&) {
    throw InvalidInput("a tensor name or metadata string is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + text.size() + offset);
  store_le<std::uint64_t>(text.size(), out);
  out += text;
  for (const auto& t : file.tensors) {
    switch (t.dtype) {
      case DType::f32:
        for (double v : t.values) store_le(std::bit_cast<std::uint32_t>(static_cast<float>(v)), out);
        break;
      case DType::f64:
        for (double v : t.values) store_le(std::bit_cast<std::uint64_t>(v), out);
        break;
      case DType::i64:  // integers within +-2^53, checked above
        for (double v : t.values) store_le(std::bit_cast<std::uint64_t>(static_cast<std::int64_t>(v)), out);
        break;
    }
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const TensorFile& file) {
  write_file_atomic(path, serialize_safetensors(file));
}

void check_tensor_shape(const NamedTensor& t, const std::vector<std::int64_t>& expected) {
  if (t.shape != expected)
    throw InvalidInput(fmt::format("{}: expected shape {}, got {}", t.name, shape_text(expected), t.shape_string()));
}

template <Scalar S>
Mat<S> to_matrix(const NamedTensor& t) {
  require_rank(t, 2);
  check_range<S>(t);
  return Eigen::Map<const RowMajor>(t.values.data(), t.shape[0], t.shape[1]).template cast<S>();
}

template <Scalar S>
Vec<S> to_vector(const NamedTensor& t) {
  require_rank(t, 1);
  check_range<S>(t);
  return Eigen::Map<const Vec<double>>(t.values.data(), t.shape[0]).template cast<S>();
}

template <Scalar S>
Mat<S> to_sequence(const NamedTensor& t) {
  require_rank(t, 3);
  check_range<S>(t);
  // Row-major (T, B, F) is column-major (F, T*B): the same memory.
  return Eigen::Map<const Mat<double>>(t.values.data(), t.shape[2], t.shape[0] * t.shape[1]).template cast<S>();
}

std::vector<std::int64_t> to_integers(const NamedTensor& t) {
  require(t.values.size() == static_cast<std::size_t>(t.numel()),
          fmt::format("{}: shape {} but {} values", t.name, t.shape_string(), t.values.size()));
  std::vector<std::int64_t> out(t.values.size());
  for (std::size_t i = 0; i < t.values.size(); ++i) {
    const double v = t.values[i];
    if (!exact_integer(v))
      throw InvalidInput(fmt::format("{}: value {} at index {} {}", t.name, v, i, not_integer_reason(v)));
    out[i] = static_cast<std::int64_t>(v);
  }
  return out;
}

template <Scalar S>
NamedTensor from_matrix(std::string name, const Mat<S>& m, DType dtype) {
  NamedTensor t{std::move(name), dtype, {m.rows(), m.cols()}, std::vector<double>(m.size())};
  Eigen::Map<RowMajor>(t.values.data(), m.rows(), m.cols()) = m.template cast<double>();
  return t;
}

template <Scalar S>
NamedTensor from_vector(std::string name, const Vec<S>& v, DType dtype) {
  NamedTensor t{std::move(name), dtype, {v.size()}, std::vector<double>(v.size())};
  Eigen::Map<Vec<double>>(t.values.data(), v.size()) = v.template cast<double>();
  return t;
}

template <Scalar S>
NamedTensor from_sequence(std::string name, const Mat<S>& x, Index batch, DType dtype) {
  require(batch > 0 && x.cols() % batch == 0,
          fmt::format("{}: {} columns are not whole steps of batch {}", name, x.cols(), batch));
  NamedTensor t{std::move(name), dtype, {x.cols() / batch, batch, x.rows()}, std::vector<double>(x.size())};
  Eigen::Map<Mat<double>>(t.values.data(), x.rows(), x.cols()) = x.template cast<double>();
  return t;
}

template Mat<float> to_matrix<float>(const NamedTensor&);
template Mat<double> to_matrix<double>(const NamedTensor&);
template Vec<float> to_vector<float>(const NamedTensor&);
template Vec<double> to_vector<double>(const NamedTensor&);
template Mat<float> to_sequence<float>(const NamedTensor&);
template Mat<double> to_sequence<double>(const NamedTensor&);
template NamedTensor from_matrix<float>(std::string, const Mat<float>&, DType);
template NamedTensor from_matrix<double>(std::string, const Mat<double>&, DType);
template NamedTensor from_vector<float>(std::string, const Vec<float>&, DType);
template NamedTensor from_vector<double>(std::string, const Vec<double>&, DType);
template NamedTensor from_sequence<float>(std::string, const Mat<float>&, Index, DType);
template NamedTensor from_sequence<double>(std::string, const Mat<double>&, Index, DType);

}  // namespace rnnscope
