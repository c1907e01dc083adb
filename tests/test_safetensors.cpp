#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/safetensors.hpp"

using namespace rnnscope;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

std::string u64_le(std::uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string f64_le(const std::vector<double>& values) {
  std::string s;
  for (double v : values) s += u64_le(std::bit_cast<std::uint64_t>(v));
  return s;
}

std::string i64_le(const std::vector<std::int64_t>& values) {
  std::string s;
  for (std::int64_t v : values) s += u64_le(static_cast<std::uint64_t>(v));  // two's complement
  return s;
}

std::string f32_le(const std::vector<float>& values) {
  std::string s;
  for (float v : values) s += u64_le(std::bit_cast<std::uint32_t>(v)).substr(0, 4);
  return s;
}

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A file with the given header text and data area; the length field is the header's size.
Bytes file_with(const std::string& header, const std::string& data = "") {
  return to_bytes(u64_le(header.size()) + header + data);
}

// Parsing `bytes` must throw InvalidInput whose message contains `fragment`.
void expect_rejected(const Bytes& bytes, const std::string& fragment) {
  try {
    parse_safetensors(bytes);
    ADD_FAILURE() << "accepted a file that should fail with \"" << fragment << "\"";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message \"" << e.what() << "\" lacks \"" << fragment << "\"";
  }
}

void expect_rejected(const std::string& header, const std::string& data, const std::string& fragment) {
  SCOPED_TRACE(header);
  expect_rejected(file_with(header, data), fragment);
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, int begin,
                  int end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "(no exception)";
}

TensorFile sample_file() {
  TensorFile file;
  file.metadata = {{"cell", "lstm"}, {"num_layers", "2"}, {"note", "d\xc3\xa9j\xc3\xa0 vu"}};
  file.tensors.push_back({"weight_ih_l0", DType::f64, {3, 2}, {1.0, -2.5, 1e-300, 3.0, 0.1, -0.0}});
  file.tensors.push_back({"bias", DType::f32, {4}, {0.5, -1.25, 1e30, 0.1}});
  file.tensors.push_back({"scalar", DType::f64, {}, {42.0}});
  file.tensors.push_back({"empty", DType::f32, {0, 3}, {}});
  file.tensors.push_back({"input", DType::f32, {2, 1, 3}, {1, 2, 3, 4, 5, 6}});
  return file;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("rnnscope_safetensors_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

fs::path reference_dir() { return fs::path(RNNSCOPE_TEST_DATA) / "reference"; }

}  // namespace

TEST(Safetensors, RoundTripF32AndF64WithMetadata) {
  const TensorFile file = sample_file();
  const std::string bytes = serialize_safetensors(file);
  const TensorFile back = parse_safetensors(to_bytes(bytes));
  EXPECT_EQ(back.metadata, file.metadata);
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (std::size_t k = 0; k < file.tensors.size(); ++k) {
    const NamedTensor& a = file.tensors[k];
    const NamedTensor& b = back.tensors[k];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(b.name, a.name);  // data order is the given order
    EXPECT_EQ(b.dtype, a.dtype);
    EXPECT_EQ(b.shape, a.shape);
    ASSERT_EQ(b.values.size(), a.values.size());
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      // F32 stores the nearest float; F64 is exact, including the sign of zero.
      const double expected = a.dtype == DType::f32 ? static_cast<double>(static_cast<float>(a.values[i]))
                                                    : a.values[i];
      EXPECT_EQ(std::bit_cast<std::uint64_t>(b.values[i]), std::bit_cast<std::uint64_t>(expected)) << i;
    }
  }
  EXPECT_NE(back.at("bias").values[3], 0.1);  // rounded to float
  // Writing what was read gives the same bytes.
  EXPECT_EQ(serialize_safetensors(back), bytes);
}

TEST(Safetensors, WritesTheReferenceLayout) {
  TensorFile file;
  file.metadata = {{"k", "v"}};
  file.tensors.push_back({"b", DType::f32, {2}, {1.0, -2.0}});
  file.tensors.push_back({"a", DType::f64, {}, {0.5}});
  const std::string json =
      R"({"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"F64","shape":[],"data_offsets":[8,16]}})";
  std::string header = json;
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::string expected = u64_le(header.size()) + header + f32_le({1.0f, -2.0f}) + f64_le({0.5});
  const std::string bytes = serialize_safetensors(file);
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ((8 + header.size()) % 8, 0u);
  EXPECT_NE(header.size(), json.size());  // this case needs padding, so the padding is tested

  // Without metadata the key is left out.
  file.metadata.clear();
  const std::string plain = serialize_safetensors(file);
  EXPECT_EQ(plain.find("__metadata__"), std::string::npos);
  EXPECT_EQ(parse_safetensors(to_bytes(plain)).tensors.size(), 2u);
}

TEST(Safetensors, AcceptsEdgeCasesOfTheFormat) {
  // No tensors at all.
  EXPECT_TRUE(parse_safetensors(file_with("{}")).tensors.empty());
  // A header padded with spaces, a scalar, zero-size tensors sharing an offset,
  // entries listed out of data order: tensors come back in data order.
  const std::string header = "{" + entry("late", "F64", "[1]", 8, 16) + "," + entry("z1", "F32", "[0]", 0, 0) +
                             "," + entry("z2", "F64", "[2,0]", 0, 0) + "," + entry("s", "F64", "[]", 0, 8) +
                             ",\"__metadata__\":{}}    ";
  const TensorFile f = parse_safetensors(file_with(header, f64_le({2.0, 3.0})));
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors.back().name, "late");
  EXPECT_EQ(f.at("s").values, std::vector<double>{2.0});
  EXPECT_EQ(f.at("s").numel(), 1);
  EXPECT_EQ(f.at("late").values, std::vector<double>{3.0});
  EXPECT_TRUE(f.at("z2").values.empty());
  EXPECT_EQ(f.at("z2").shape_string(), "(2, 0)");
  EXPECT_TRUE(f.metadata.empty());
}

TEST(Safetensors, WritesAndReadsFiles) {
  TempDir dir;
  const fs::path path = dir.path / "model.safetensors";
  write_safetensors(path, sample_file());
  const TensorFile back = read_safetensors(path);
  EXPECT_EQ(back.metadata, sample_file().metadata);
  EXPECT_EQ(back.at("weight_ih_l0").values, sample_file().tensors[0].values);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}), 1);  // no temporary left

  // Errors name the file.
  std::ofstream(dir.path / "bad.safetensors", std::ios::binary) << "abc";
  const std::string message = message_of([&] { read_safetensors(dir.path / "bad.safetensors"); });
  EXPECT_NE(message.find("bad.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("shorter than the 8-byte header length"), std::string::npos) << message;
  EXPECT_NE(message_of([&] { read_safetensors(dir.path / "missing.safetensors"); }).find("missing.safetensors"),
            std::string::npos);
  EXPECT_THROW(read_safetensors(dir.path), InvalidInput);
  EXPECT_THROW(write_safetensors(dir.path / "no_such_folder" / "x.safetensors", sample_file()), InvalidInput);
}

TEST(Safetensors, RejectsBadLengths) {
  expect_rejected(Bytes{}, "file is 0 bytes, shorter than the 8-byte header length");
  expect_rejected(Bytes(7, 0), "file is 7 bytes, shorter than the 8-byte header length");
  expect_rejected(to_bytes(u64_le(20) + "{}"), "header length 20 runs past the end of the file (2 bytes");
  expect_rejected(to_bytes(u64_le((100ull << 20) + 1) + "{}"), "above the limit of 104857600 bytes (100 MiB)");
  expect_rejected(to_bytes(u64_le(~0ull) + "{}"), "above the limit");
  expect_rejected(Bytes(8, 0), "header is not valid JSON");  // zero-length header
}

TEST(Safetensors, RejectsHeadersThatAreNotJsonObjects) {
  expect_rejected("{\"a\":", "", "header is not valid JSON");
  expect_rejected("{\"a\":1}x", "", "header is not valid JSON");
  expect_rejected(std::string("{}\0\0", 4), "", "header is not valid JSON: NUL byte at offset 2");
  expect_rejected(std::string("{}  \0 {\"x\":1}", 13), "", "NUL byte at offset 4");
  expect_rejected("{\"\xff\":1}", "", "header is not valid JSON");          // invalid UTF-8
  expect_rejected("[1,2]", "", "header is a JSON array, not an object");
  expect_rejected("\"x\"", "", "header is a JSON string, not an object");
  expect_rejected(std::string(40, '[') + std::string(40, ']'), "", "nests deeper than 16 levels");
  std::string objects;
  for (int i = 0; i < 30; ++i) objects += "{\"a\":";
  expect_rejected(objects + "1" + std::string(30, '}'), "", "nests deeper");
}

TEST(Safetensors, RejectsMissingAndMistypedFields) {
  const std::string data = f32_le({1, 2});
  expect_rejected("{\"x\":5}", data, "tensor 'x': entry is number, not an object");
  expect_rejected(R"({"x":{"shape":[2],"data_offsets":[0,8]}})", data, "tensor 'x' lacks 'dtype'");
  expect_rejected(R"({"x":{"dtype":"F32","data_offsets":[0,8]}})", data, "tensor 'x' lacks 'shape'");
  expect_rejected(R"({"x":{"dtype":"F32","shape":[2]}})", data, "tensor 'x' lacks 'data_offsets'");
  expect_rejected(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})", data,
                  "tensor 'x' has an unknown key 'extra'");
  expect_rejected(R"({"x":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", data,
                  "tensor 'x': 'dtype' is number, not a string");
  expect_rejected(R"({"x":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", data,
                  "tensor 'x': 'shape' is string, not an array");
  expect_rejected(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", data,
                  "tensor 'x': 'data_offsets' is an array of 1 entry, not an array of two integers");
  expect_rejected(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":{"a":0}}})", data,
                  "not an array of two integers");
  expect_rejected(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,"8"]}})", data,
                  "tensor 'x': data_offsets end is the string '8', not a non-negative integer");
  expect_rejected(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[-8,8]}})", data,
                  "tensor 'x': data_offsets begin is -8, which is negative");
}

TEST(Safetensors, RejectsBadShapes) {
  const std::string data = f32_le({1, 2});
  expect_rejected("{" + entry("x", "F32", "[-2]", 0, 8) + "}", data, "tensor 'x': shape entry 0 is -2, which is negative");
  expect_rejected("{" + entry("x", "F32", "[1,2.5]", 0, 8) + "}", data,
                  "tensor 'x': shape entry 1 is 2.5, not a non-negative integer");
  expect_rejected("{" + entry("x", "F32", "[2.0]", 0, 8) + "}", data, "not a non-negative integer");
  expect_rejected("{" + entry("x", "F32", "[null]", 0, 8) + "}", data, "not a non-negative integer");
  expect_rejected("{" + entry("x", "F32", "[[2]]", 0, 8) + "}", data, "shape entry 0 is an array of 1 entry, not a");
  expect_rejected("{" + entry("x", "F32", "[9223372036854775808]", 0, 8) + "}", data, "too large");
  // Products that overflow 64 bits, in the element count and in the byte count.
  expect_rejected("{" + entry("x", "F32", "[4294967296,4294967296]", 0, 8) + "}", data,
                  "tensor 'x': shape (4294967296, 4294967296) overflows the byte count");
  expect_rejected("{" + entry("x", "F64", "[2305843009213693952,2]", 0, 8) + "}", f64_le({1}),
                  "overflows the byte count");
  expect_rejected("{" + entry("x", "F64", "[2305843009213693952]", 0, 8) + "}", f64_le({1}),
                  "overflows the byte count");
  // A shape that disagrees with the byte count.
  expect_rejected("{" + entry("x", "F32", "[3]", 0, 8) + "}", data,
                  "tensor 'x': shape (3) of F32 needs 12 bytes, data_offsets [0, 8] hold 8");
  expect_rejected("{" + entry("x", "F64", "[2]", 0, 8) + "}", data, "needs 16 bytes");
}

TEST(Safetensors, RejectsUnsupportedDtypes) {
  for (const char* dtype : {"BF16", "F16", "I32", "U64", "U8", "BOOL", "f32", "i64", ""}) {
    expect_rejected(fmt::format("{{{}}}", entry("x", dtype, "[2]", 0, 8)), f32_le({1, 2}),
                    fmt::format("tensor 'x' has dtype {}; rnnscope reads F32, F64 and I64", dtype));
  }
}

TEST(Safetensors, RejectsBadOffsets) {
  const std::string data = f32_le({1, 2, 3, 4});  // 16 bytes
  expect_rejected("{" + entry("x", "F32", "[4]", 4, 20) + "}", data,
                  "tensor 'x': data_offsets [4, 20] outside the data area of 16 bytes");
  expect_rejected("{" + entry("x", "F32", "[0]", 20, 20) + "}", data, "outside the data area");
  expect_rejected("{" + entry("x", "F32", "[1]", 8, 4) + "}", data, "tensor 'x': data_offsets [8, 4] begin after end");
  expect_rejected("{" + entry("a", "F32", "[3]", 0, 12) + "," + entry("b", "F32", "[2]", 8, 16) + "}", data,
                  "tensors 'a' [0, 12] and 'b' [8, 16] overlap in the data area");
  expect_rejected("{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 0, 16) + "}", data,
                  "overlap");
  expect_rejected("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 12, 16) + "}", data,
                  "gap in the data area: bytes [8, 12) belong to no tensor");
  expect_rejected("{" + entry("b", "F32", "[2]", 8, 16) + "}", data, "gap in the data area: bytes [0, 8)");
  expect_rejected("{" + entry("a", "F32", "[2]", 0, 8) + "}", data, "gap in the data area: bytes [8, 16)");
  expect_rejected("{}", data, "gap in the data area: bytes [0, 16)");
}

TEST(Safetensors, MessagesShowNamesSafely) {
  // Control characters are escaped and long names cut, so a message stays one short line.
  const std::string long_name(1000, 'n');
  const std::string message =
      message_of([&] { parse_safetensors(file_with("{\"a\\u001b[2Jb\":5,\"" + long_name + "\":5}")); });
  EXPECT_NE(message.find("tensor 'a\\x1b[2Jb'"), std::string::npos) << message;
  const std::string message2 = message_of([&] { parse_safetensors(file_with("{\"" + long_name + "\":5}")); });
  EXPECT_NE(message2.find("tensor '" + std::string(80, 'n') + "...'"), std::string::npos) << message2;
  EXPECT_LT(message2.size(), 200u);
}

TEST(Safetensors, RejectsDuplicateNames) {
  const std::string data = f32_le({1, 2});
  expect_rejected("{" + entry("x", "F32", "[1]", 0, 4) + "," + entry("x", "F32", "[1]", 4, 8) + "}", data,
                  "duplicate tensor name 'x'");
  expect_rejected(R"({"x":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}})", data,
                  "duplicate key 'dtype'");
  expect_rejected("{\"__metadata__\":{},\"__metadata__\":{}," + entry("x", "F32", "[2]", 0, 8) + "}", data,
                  "duplicate key '__metadata__'");
  expect_rejected("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}," + entry("x", "F32", "[2]", 0, 8) + "}", data,
                  "duplicate key 'a'");
}

TEST(Safetensors, RejectsBadMetadata) {
  const std::string data = f32_le({1, 2});
  const std::string x = entry("x", "F32", "[2]", 0, 8);
  expect_rejected("{\"__metadata__\":{\"layers\":2}," + x + "}", data,
                  "'__metadata__' value of 'layers' is number, not a string");
  expect_rejected("{\"__metadata__\":{\"a\":null}," + x + "}", data, "value of 'a' is null, not a string");
  expect_rejected("{\"__metadata__\":[\"a\"]," + x + "}", data, "'__metadata__' is array, not an object of strings");
  expect_rejected("{\"__metadata__\":\"a\"," + x + "}", data, "not an object of strings");
}

TEST(Safetensors, WriterRejectsInconsistentTensors) {
  auto rejects = [](TensorFile file, const std::string& fragment) {
    const std::string message = message_of([&] { serialize_safetensors(file); });
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  };
  TensorFile file;
  file.tensors = {{"a", DType::f64, {2}, {1, 2}}, {"a", DType::f64, {1}, {3}}};
  rejects(file, "duplicate tensor name 'a'");
  file.tensors = {{"__metadata__", DType::f64, {1}, {1}}};
  rejects(file, "'__metadata__' is reserved");
  file.tensors = {{"a", DType::f64, {2, 2}, {1, 2, 3}}};
  rejects(file, "tensor 'a': shape (2, 2) but 3 values");
  file.tensors = {{"a", DType::f64, {-1}, {}}};
  rejects(file, "negative extent");
  file.tensors = {{"a", DType::f32, {1}, {1e300}}};
  rejects(file, "a: value 1e+300 at (0) of shape (1) is outside the float range");
  file.tensors = {{"bad\xff", DType::f64, {1}, {1}}};
  rejects(file, "not valid UTF-8");
  // Infinities and NaN are values like any other.
  file.tensors = {{"a", DType::f32, {3}, {INFINITY, -INFINITY, NAN}}};
  const auto back = parse_safetensors(to_bytes(serialize_safetensors(file)));
  EXPECT_TRUE(std::isinf(back.at("a").values[0]) && std::isnan(back.at("a").values[2]));
}

TEST(Safetensors, LooksUpTensorsAndMetadata) {
  const TensorFile file = sample_file();
  EXPECT_EQ(file.find("bias"), &file.tensors[1]);
  EXPECT_EQ(file.find("nothing"), nullptr);
  EXPECT_EQ(&file.at("scalar"), &file.tensors[2]);
  EXPECT_EQ(message_of([&] { file.at("weight_hh_l0"); }), "missing tensor 'weight_hh_l0'");
  EXPECT_EQ(file.metadata_at("cell"), "lstm");
  EXPECT_EQ(message_of([&] { file.metadata_at("dt"); }), "missing metadata key 'dt'");
}

TEST(Safetensors, ConvertersFollowTheLibraryLayouts) {
  // 2-D (R, C) row-major -> Mat (R, C).
  const NamedTensor w{"w", DType::f64, {2, 3}, {0, 1, 2, 3, 4, 5}};
  const Mat<double> m = to_matrix<double>(w);
  ASSERT_EQ(m.rows(), 2);
  ASSERT_EQ(m.cols(), 3);
  for (Index r = 0; r < 2; ++r)
    for (Index c = 0; c < 3; ++c) EXPECT_EQ(m(r, c), static_cast<double>(r * 3 + c));
  EXPECT_EQ(from_matrix("w", m).values, w.values);
  EXPECT_EQ(from_matrix("w", m).shape, w.shape);
  EXPECT_EQ(from_matrix<float>("w", m.cast<float>()).dtype, DType::f32);
  EXPECT_EQ(from_matrix("w", m, DType::f32).dtype, DType::f32);

  // 1-D.
  const NamedTensor b{"b", DType::f32, {3}, {0.5, -1, 2}};
  const Vec<float> v = to_vector<float>(b);
  ASSERT_EQ(v.size(), 3);
  EXPECT_EQ(v(1), -1.0f);
  EXPECT_EQ(from_vector("b", v).values, b.values);
  EXPECT_EQ(from_vector("b", v).shape, b.shape);

  // 3-D time-major (T, B, F) -> (F, T*B): column t*B + b is step t of element b.
  const Index T = 2, B = 3, F = 4;
  NamedTensor x{"input", DType::f64, {T, B, F}, {}};
  for (int i = 0; i < T * B * F; ++i) x.values.push_back(i);
  const Mat<double> seq = to_sequence<double>(x);
  ASSERT_EQ(seq.rows(), F);
  ASSERT_EQ(seq.cols(), T * B);
  for (Index t = 0; t < T; ++t)
    for (Index bb = 0; bb < B; ++bb)
      for (Index f = 0; f < F; ++f)
        EXPECT_EQ(seq(f, t * B + bb), static_cast<double>((t * B + bb) * F + f));
  const NamedTensor back = from_sequence("input", seq, B);
  EXPECT_EQ(back.shape, x.shape);
  EXPECT_EQ(back.values, x.values);

  // Wrong ranks and batch sizes are named.
  EXPECT_EQ(message_of([&] { to_matrix<double>(b); }), "b: expected a 2-D tensor, got shape (3)");
  EXPECT_EQ(message_of([&] { to_vector<double>(w); }), "w: expected a 1-D tensor, got shape (2, 3)");
  EXPECT_EQ(message_of([&] { to_sequence<double>(w); }), "w: expected a 3-D tensor, got shape (2, 3)");
  EXPECT_EQ(message_of([&] { to_matrix<double>(NamedTensor{"s", DType::f64, {}, {1}}); }),
            "s: expected a 2-D tensor, got shape ()");
  EXPECT_EQ(message_of([&] { to_matrix<double>(NamedTensor{"u", DType::f64, {2, 2}, {1}}); }),
            "u: shape (2, 2) but 1 values");
  EXPECT_NE(message_of([&] { from_sequence("x", seq, 4); }).find("not whole steps of batch 4"), std::string::npos);
  EXPECT_THROW(from_sequence("x", seq, 0), InvalidInput);
}

TEST(Safetensors, ConvertingToFloatRejectsValuesOutOfRange) {
  const NamedTensor big{"w", DType::f64, {1, 2}, {1.0, -1e300}};
  EXPECT_EQ(message_of([&] { to_matrix<float>(big); }),
            "w: value -1e+300 at (0, 1) of shape (1, 2) is outside the float range");
  // A value is named by its place in the tensor's shape: entry 37 of (10, 8, 2) is (2, 2, 1).
  NamedTensor data{"input", DType::f64, {10, 8, 2}, std::vector<double>(160, 0.5)};
  data.values[37] = 1e308;
  EXPECT_EQ(message_of([&] { to_sequence<float>(data); }),
            "input: value 1e+308 at (2, 2, 1) of shape (10, 8, 2) is outside the float range");
  EXPECT_EQ(to_matrix<double>(big)(0, 1), -1e300);
  const NamedTensor inf{"v", DType::f64, {2}, {INFINITY, std::numeric_limits<float>::max()}};
  EXPECT_TRUE(std::isinf(to_vector<float>(inf)(0)));
}

TEST(Safetensors, CheckTensorShapeNamesTheTensor) {
  const NamedTensor w{"weight_hh_l0", DType::f32, {6, 5}, std::vector<double>(30)};
  EXPECT_EQ(message_of([&] { check_tensor_shape(w, {6, 6}); }), "weight_hh_l0: expected shape (6, 6), got (6, 5)");
  EXPECT_EQ(message_of([&] { check_tensor_shape(w, {30}); }), "weight_hh_l0: expected shape (30), got (6, 5)");
  EXPECT_NO_THROW(check_tensor_shape(w, {6, 5}));
}

// The files written by tools/torch_reference.py parse and hold what docs/formats.md promises.
TEST(SafetensorsReference, EveryFileHasTheDocumentedContents) {
  int files = 0;
  for (const auto& item : fs::directory_iterator(reference_dir())) {
    if (item.path().extension() != ".safetensors") continue;
    ++files;
    SCOPED_TRACE(item.path().filename().string());
    const TensorFile f = read_safetensors(item.path());
    // rnnscope's writer reproduces the file byte for byte.
    std::ifstream in(item.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(serialize_safetensors(f) == bytes);
    const std::string cell = f.metadata_at("cell");
    const DType dtype = f.metadata_at("dtype") == "F32" ? DType::f32 : DType::f64;
    EXPECT_EQ(f.metadata_at("dtype"), item.path().stem().string().ends_with("f32") ? "F32" : "F64");
    for (const auto& t : f.tensors) EXPECT_EQ(t.dtype, dtype) << t.name;
    const std::int64_t L = std::stoll(f.metadata_at("num_layers"));
    const std::int64_t Hs = std::stoll(f.metadata_at("hidden_size"));
    const std::int64_t Is = std::stoll(f.metadata_at("input_size"));
    const bool bias = f.metadata_at("bias") == "true";

    std::vector<std::string> params;
    if (cell == "conv1d") {
      const std::int64_t K = std::stoll(f.metadata_at("kernel_size"));
      check_tensor_shape(f.at("weight"), {Hs, Is, K});
      check_tensor_shape(f.at("bias"), {Hs});
      params = {"weight", "bias"};
      EXPECT_EQ(f.at("output").shape, f.at("grad_output").shape);
      EXPECT_EQ(f.at("grad.input").shape, f.at("input").shape);
      EXPECT_EQ(f.at("input").shape[1], Is);
    } else {
      const std::set<std::string> cells = {"rnn_tanh", "rnn_relu",     "rnn_sigmoid", "lstm",
                                           "gru",      "ctrnn",        "rnn_residual", "rnn_skip",
                                           "rnn_antisymmetric"};
      ASSERT_TRUE(cells.count(cell)) << cell;
      const std::int64_t G = (cell == "lstm" ? 4 : cell == "gru" ? 3 : 1) * Hs;
      for (std::int64_t l = 0; l < L; ++l) {
        const std::string s = "_l" + std::to_string(l);
        check_tensor_shape(f.at("weight_ih" + s), {G, l == 0 ? Is : Hs});
        check_tensor_shape(f.at("weight_hh" + s), {G, Hs});
        params.insert(params.end(), {"weight_ih" + s, "weight_hh" + s});
        if (bias) {
          check_tensor_shape(f.at("bias_ih" + s), {G});
          check_tensor_shape(f.at("bias_hh" + s), {G});
          params.insert(params.end(), {"bias_ih" + s, "bias_hh" + s});
        } else {
          EXPECT_EQ(f.find("bias_ih" + s), nullptr);
        }
        if (cell == "rnn_skip") {
          check_tensor_shape(f.at("weight_skip" + s), {Hs, Hs});
          params.push_back("weight_skip" + s);
        } else {
          EXPECT_EQ(f.find("weight_skip" + s), nullptr);
        }
      }
      const std::int64_t T = f.at("input").shape[0], B = f.at("input").shape[1];
      check_tensor_shape(f.at("input"), {T, B, Is});
      std::vector<std::string> states = {"h0", "grad_h_n", "h_n", "grad.h0"};
      if (cell == "lstm") states.insert(states.end(), {"c0", "grad_c_n", "c_n", "grad.c0"});
      for (const auto& name : states) check_tensor_shape(f.at(name), {L, B, Hs});
      check_tensor_shape(f.at("output"), {T, B, Hs});
      check_tensor_shape(f.at("grad_output"), {T, B, Hs});
      check_tensor_shape(f.at("grad.input"), {T, B, Is});
      if (cell == "ctrnn") {
        EXPECT_GT(std::stod(f.metadata_at("dt")), 0.0);
      }
      if (cell == "rnn_skip") {
        EXPECT_GE(std::stoi(f.metadata_at("skip")), 1);
      }
      if (cell == "rnn_antisymmetric") {
        EXPECT_GT(std::stod(f.metadata_at("eps")), 0.0);
        EXPECT_GE(std::stod(f.metadata_at("gamma")), 0.0);
      }
      // h_n is the last output for the last layer.
      const Mat<double> out = to_sequence<double>(f.at("output"));
      const Mat<double> h_n = to_sequence<double>(f.at("h_n"));
      EXPECT_TRUE(out.rightCols(B) == h_n.rightCols(B));
    }
    for (const auto& p : params) EXPECT_EQ(f.at("grad." + p).shape, f.at(p).shape) << p;
    // Every tensor is accounted for: parameters, their gradients and the named extras.
    std::size_t extras = cell == "conv1d" ? 4 : cell == "lstm" ? 12 : 8;
    EXPECT_EQ(f.tensors.size(), 2 * params.size() + extras);
  }
  EXPECT_EQ(files, 64);
}

// Recomputes the sigmoid Elman and the CT-RNN files' outputs from their own
// parameters through the converters: a transposed matrix or a misread
// sequence layout would not reproduce PyTorch's numbers.
TEST(SafetensorsReference, ConvertedTensorsReproducePyTorchOutputs) {
  for (const char* stem : {"rnn_sigmoid_l1_f64", "ctrnn_l1_dt0.5_f64", "rnn_sigmoid_l1_f32", "ctrnn_l1_dt0.1_f32"}) {
    SCOPED_TRACE(stem);
    const TensorFile f = read_safetensors(reference_dir() / (std::string(stem) + ".safetensors"));
    const bool ctrnn = f.metadata_at("cell") == "ctrnn";
    const double dt = ctrnn ? std::stod(f.metadata_at("dt")) : 1.0;
    const Mat<double> W_ih = to_matrix<double>(f.at("weight_ih_l0"));
    const Mat<double> W_hh = to_matrix<double>(f.at("weight_hh_l0"));
    const Vec<double> b = to_vector<double>(f.at("bias_ih_l0")) + to_vector<double>(f.at("bias_hh_l0"));
    const Mat<double> x = to_sequence<double>(f.at("input"));
    const Mat<double> h0 = to_sequence<double>(f.at("h0"));
    const Mat<double> expected = to_sequence<double>(f.at("output"));
    const Index B = f.at("input").shape[1], T = f.at("input").shape[0];
    ASSERT_EQ(h0.cols(), B);
    auto run = [&](const Mat<double>& recurrent) {
      Mat<double> h = h0, out(recurrent.rows(), T * B);
      for (Index t = 0; t < T; ++t) {
        Mat<double> a = W_ih * step_block(x, t, B) + recurrent * h;
        a.colwise() += b;
        if (ctrnn)
          h += dt * (a.array().tanh().matrix() - h);
        else
          h = (1.0 / (1.0 + (-a.array()).exp())).matrix();
        step_block(out, t, B) = h;
      }
      return (out - expected).cwiseAbs().maxCoeff();
    };
    // F32 files: PyTorch computed in float; double here differs by float rounding.
    const double tolerance = f.metadata_at("dtype") == "F64" ? 1e-14 : 1e-6;
    EXPECT_LT(run(W_hh), tolerance);
    // The negative control: reading the matrix transposed is detectably wrong.
    EXPECT_GT(run(W_hh.transpose()), 1e-3);
  }
}

// The F32 and F64 files of a case hold the same parameters and inputs, so a
// parity test may compare float against double results.
TEST(SafetensorsReference, F32AndF64FilesShareParametersAndInputs) {
  for (const char* stem : {"lstm_l2", "gru_l1_nobias", "conv1d_s1_p2_d2_k3"}) {
    SCOPED_TRACE(stem);
    const TensorFile f32 = read_safetensors(reference_dir() / (std::string(stem) + "_f32.safetensors"));
    const TensorFile f64 = read_safetensors(reference_dir() / (std::string(stem) + "_f64.safetensors"));
    ASSERT_EQ(f32.tensors.size(), f64.tensors.size());
    for (const auto& t : f32.tensors) {
      const NamedTensor& u = f64.at(t.name);
      EXPECT_EQ(t.shape, u.shape) << t.name;
      const bool given = !t.name.starts_with("grad.") && t.name != "output" && t.name != "h_n" && t.name != "c_n";
      if (given) {
        EXPECT_EQ(t.values, u.values) << t.name;
      }
    }
  }
}

// I64: PyTorch's torch.int64, e.g. class indices. Values are integers within
// +-2^53, exact in double.
namespace {

constexpr std::int64_t kTwo53 = std::int64_t{1} << 53;

}  // namespace

TEST(SafetensorsI64, ReadsHandWrittenBytes) {
  // The bytes spelt out, independently of the writer: -1 is eight 0xff bytes,
  // 2^53 is 0x0020000000000000 and -2^53 is 0xffe0000000000000, little-endian.
  const std::string data = std::string("\x00\x00\x00\x00\x00\x00\x00\x00", 8) +  // 0
                           std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8) +  // 7
                           std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8) +  // -1
                           std::string("\x00\x01\x00\x00\x00\x00\x00\x00", 8) +  // 256
                           std::string("\x00\x00\x00\x00\x00\x00\x20\x00", 8) +  // 2^53
                           std::string("\x00\x00\x00\x00\x00\x00\xe0\xff", 8) +  // -2^53
                           std::string("\x00\x00\x80\x3f", 4);                   // F32 1.0
  const std::string header =
      R"({"target":{"dtype":"I64","shape":[2,3],"data_offsets":[0,48]},)"
      R"("w":{"dtype":"F32","shape":[1],"data_offsets":[48,52]}})";
  const TensorFile f = parse_safetensors(file_with(header, data));
  ASSERT_EQ(f.tensors.size(), 2u);
  const NamedTensor& t = f.at("target");
  EXPECT_EQ(t.dtype, DType::i64);
  EXPECT_EQ(t.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(t.values, (std::vector<double>{0, 7, -1, 256, 9007199254740992.0, -9007199254740992.0}));
  EXPECT_EQ(to_integers(t), (std::vector<std::int64_t>{0, 7, -1, 256, kTwo53, -kTwo53}));
  EXPECT_EQ(f.at("w").values, std::vector<double>{1.0});
  EXPECT_EQ(dtype_name(DType::i64), "I64");
  EXPECT_EQ(dtype_size(DType::i64), 8u);
  EXPECT_FALSE(is_floating(DType::i64));
  EXPECT_TRUE(is_floating(DType::f32) && is_floating(DType::f64));
}

TEST(SafetensorsI64, WritesTheReferenceLayout) {
  TensorFile file;
  file.tensors.push_back({"y", DType::i64, {3}, {0, -1, 9007199254740992.0}});
  std::string header = R"({"y":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::string expected = u64_le(header.size()) + header + std::string(8, '\0') + std::string(8, '\xff') +
                               std::string("\x00\x00\x00\x00\x00\x00\x20\x00", 8);
  EXPECT_EQ(serialize_safetensors(file), expected);
}

TEST(SafetensorsI64, RoundTripsExactlyUpToTwoTo53) {
  TensorFile file;
  const std::vector<std::int64_t> ints = {0,          1,          -1,          42,         -7,
                                          kTwo53,     -kTwo53,    kTwo53 - 1,  -kTwo53 + 1, kTwo53 - 2,
                                          123456789012345, -987654321098765};
  NamedTensor y{"y", DType::i64, {3, 4}, {}};
  for (std::int64_t v : ints) y.values.push_back(static_cast<double>(v));
  file.tensors.push_back(y);
  file.tensors.push_back({"x", DType::f64, {2}, {0.5, -1.5}});
  file.tensors.push_back({"s", DType::i64, {}, {-0.0}});  // an integer zero: read back as +0
  file.tensors.push_back({"e", DType::i64, {0}, {}});
  const std::string bytes = serialize_safetensors(file);
  const TensorFile back = parse_safetensors(to_bytes(bytes));
  ASSERT_EQ(back.tensors.size(), 4u);
  EXPECT_EQ(back.at("y").dtype, DType::i64);
  EXPECT_EQ(back.at("y").shape, y.shape);
  EXPECT_EQ(back.at("y").values, y.values);
  EXPECT_EQ(to_integers(back.at("y")), ints);
  // Neighbours of 2^53 stay distinct.
  EXPECT_NE(back.at("y").values[5], back.at("y").values[7]);
  EXPECT_EQ(back.at("x").values, (std::vector<double>{0.5, -1.5}));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(back.at("s").values[0]), 0u);
  EXPECT_EQ(back.at("e").numel(), 0);
  EXPECT_EQ(serialize_safetensors(back), bytes);
}

TEST(SafetensorsI64, ReaderRefusesValuesBeyondTwoTo53) {
  const std::string header = "{" + entry("y", "I64", "[3]", 0, 24) + "}";
  expect_rejected(header, i64_le({0, kTwo53 + 1, 5}),
                  "tensor 'y': I64 value 9007199254740993 at index 1 is beyond +-2^53 (9007199254740992), so a "
                  "double cannot hold it exactly");
  expect_rejected(header, i64_le({0, 1, -kTwo53 - 1}), "I64 value -9007199254740993 at index 2 is beyond");
  expect_rejected(header, i64_le({std::numeric_limits<std::int64_t>::max(), 0, 0}),
                  "I64 value 9223372036854775807 at index 0");
  expect_rejected(header, i64_le({std::numeric_limits<std::int64_t>::min(), 0, 0}),
                  "I64 value -9223372036854775808 at index 0");
  // The value check reaches every tensor, not only the first.
  expect_rejected("{" + entry("a", "I64", "[1]", 0, 8) + "," + entry("b", "I64", "[1]", 8, 16) + "}",
                  i64_le({1, kTwo53 + 2}), "tensor 'b': I64 value 9007199254740994 at index 0");
  // The structural checks hold for I64 as for the other dtypes.
  expect_rejected("{" + entry("y", "I64", "[3]", 0, 16) + "}", i64_le({1, 2}),
                  "tensor 'y': shape (3) of I64 needs 24 bytes, data_offsets [0, 16] hold 16");
  expect_rejected("{" + entry("y", "I64", "[2]", 0, 16) + "}", i64_le({1, 2}).substr(0, 12),
                  "outside the data area of 12 bytes");
  expect_rejected("{" + entry("y", "I64", "[2305843009213693952]", 0, 8) + "}", i64_le({1}),
                  "tensor 'y': shape (2305843009213693952) overflows the byte count");
  expect_rejected("{" + entry("y", "I64", "[1]", 0, 8) + "}", i64_le({1, 2}), "gap in the data area: bytes [8, 16)");
  // The file is named when read from disk.
  TempDir dir;
  std::ofstream(dir.path / "targets.safetensors", std::ios::binary)
      << u64_le(header.size()) + header + i64_le({kTwo53 + 1, 0, 0});
  const std::string message = message_of([&] { read_safetensors(dir.path / "targets.safetensors"); });
  EXPECT_NE(message.find("targets.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("tensor 'y': I64 value 9007199254740993"), std::string::npos) << message;
}

TEST(SafetensorsI64, WriterRefusesValuesThatAreNotIntegersWithinTwoTo53) {
  auto message = [](std::vector<double> values) {
    TensorFile file;
    const auto n = static_cast<std::int64_t>(values.size());
    file.tensors.push_back({"y", DType::i64, {n}, std::move(values)});
    return message_of([&] { serialize_safetensors(file); });
  };
  EXPECT_EQ(message({0, 1.5}), "tensor 'y': value 1.5 at index 1 is not an integer; I64 holds integers within +-2^53");
  EXPECT_EQ(message({-0.25}), "tensor 'y': value -0.25 at index 0 is not an integer; I64 holds integers within +-2^53");
  EXPECT_EQ(message({9007199254740994.0}),
            "tensor 'y': value 9007199254740994 at index 0 is beyond +-2^53; I64 holds integers within +-2^53");
  EXPECT_NE(message({-1e300}).find("value -1e+300 at index 0 is beyond +-2^53"), std::string::npos);
  EXPECT_NE(message({1, NAN}).find("value nan at index 1 is not an integer"), std::string::npos);
  EXPECT_NE(message({INFINITY}).find("value inf at index 0 is not an integer"), std::string::npos);
  EXPECT_EQ(message({9007199254740992.0, -9007199254740992.0}), "(no exception)");
  // A float matrix handed over as I64 is checked the same way when written.
  TensorFile file;
  file.tensors.push_back(from_matrix<double>("m", Mat<double>::Constant(2, 2, 0.5), DType::i64));
  EXPECT_NE(message_of([&] { serialize_safetensors(file); }).find("tensor 'm': value 0.5 at index 0 is not an integer"),
            std::string::npos);
}

TEST(SafetensorsI64, ToIntegersTakesI64AndIntegralFloats) {
  EXPECT_EQ(to_integers(NamedTensor{"a", DType::i64, {2, 2}, {3, 0, -2, 9007199254740992.0}}),
            (std::vector<std::int64_t>{3, 0, -2, kTwo53}));
  EXPECT_EQ(to_integers(NamedTensor{"b", DType::f32, {3}, {1, 16777216, -4}}),
            (std::vector<std::int64_t>{1, 16777216, -4}));
  EXPECT_EQ(to_integers(NamedTensor{"c", DType::f64, {}, {-0.0}}), std::vector<std::int64_t>{0});
  EXPECT_EQ(to_integers(NamedTensor{"d", DType::f64, {0}, {}}), std::vector<std::int64_t>{});
  // Read from a file written as F32.
  TensorFile file;
  file.tensors.push_back({"labels", DType::f32, {4}, {2, 0, 1, 2}});
  EXPECT_EQ(to_integers(parse_safetensors(to_bytes(serialize_safetensors(file))).at("labels")),
            (std::vector<std::int64_t>{2, 0, 1, 2}));
}

TEST(SafetensorsI64, ToIntegersNamesTheFirstNonIntegralEntry) {
  EXPECT_EQ(message_of([&] { to_integers(NamedTensor{"target", DType::f64, {4}, {0, 2, 2.5, 0.5}}); }),
            "target: value 2.5 at index 2 is not an integer");
  EXPECT_EQ(message_of([&] { to_integers(NamedTensor{"t", DType::f32, {2}, {1, NAN}}); }),
            "t: value nan at index 1 is not an integer");
  EXPECT_EQ(message_of([&] { to_integers(NamedTensor{"t", DType::f64, {1, 2}, {1, -1e300}}); }),
            "t: value -1e+300 at index 1 is beyond +-2^53");
  EXPECT_EQ(message_of([&] { to_integers(NamedTensor{"t", DType::f64, {3}, {1}}); }), "t: shape (3) but 1 values");
}

TEST(SafetensorsI64, ConvertersTakeI64AsExactIntegers) {
  const NamedTensor t{"t", DType::i64, {2, 2}, {1, -2, 3, 9007199254740992.0}};
  const Mat<double> m = to_matrix<double>(t);
  EXPECT_EQ(m(0, 1), -2.0);
  EXPECT_EQ(m(1, 1), 9007199254740992.0);
  const Vec<float> v = to_vector<float>(NamedTensor{"v", DType::i64, {3}, {4, 5, -6}});
  ASSERT_EQ(v.size(), 3);
  EXPECT_EQ(v(2), -6.0f);
  const Mat<double> x = to_sequence<double>(NamedTensor{"x", DType::i64, {1, 1, 2}, {7, 8}});
  ASSERT_EQ(x.rows(), 2);
  EXPECT_EQ(x(1, 0), 8.0);
}
