// PyTorch interoperability through the command line: `rnnscope grad` on the
// committed PyTorch reference files, and malformed model or input files, each
// of which must give exit code 2 and a message naming the problem.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <iterator>
#include <set>
#include <string>

#include "reference_testing.hpp"
#include "rnnscope/io/safetensors.hpp"

using namespace rnnscope;
using check::reference_dir;
using check::split_reference;
using check::relative_difference;
namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code;
  std::string out;  // stdout and stderr together
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(RNNSCOPE_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(fs::temp_directory_path() / ("rnnscope_interop_" + name + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A safetensors file split into its JSON header and data area, to be mutated.
struct RawFile {
  nlohmann::json header;
  std::string data;

  static RawFile of(const TensorFile& f) {
    const std::string bytes = serialize_safetensors(f);
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    return {nlohmann::json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
  }
  std::string bytes(std::uint64_t lie = 0) const {
    const std::string h = header.dump();
    const std::uint64_t n = lie ? lie : h.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &n, 8);
    return out + h + data;
  }
};

}  // namespace

TEST(Interop, GradReproducesPyTorchForEveryReferenceModel) {
  TempDir dir("grad");
  size_t files = 0;
  std::set<std::string> cells;
  for (const auto& entry : fs::directory_iterator(reference_dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".safetensors" || name.rfind("conv1d", 0) == 0) continue;
    const check::ReferenceCase s = split_reference(entry.path());
    write_safetensors(dir.path() / "model.safetensors", s.model);
    write_safetensors(dir.path() / "input.safetensors", s.input);
    const fs::path out = dir.path() / "grads.safetensors";
    fs::remove(out);
    const CliRun r = run("grad --model " + (dir.path() / "model.safetensors").string() + " --input " +
                      (dir.path() / "input.safetensors").string() + " --out " + out.string());
    ASSERT_EQ(r.code, 0) << name << "\n" << r.out;
    const TensorFile got = read_safetensors(out);
    const bool f32 = s.model.metadata_at("dtype") == "F32";
    for (const auto& e : s.expected.tensors) {
      const NamedTensor* g = got.find(e.name);
      ASSERT_NE(g, nullptr) << name << ": no " << e.name;
      EXPECT_EQ(g->dtype, f32 ? DType::f32 : DType::f64) << name << ": " << e.name;
      ASSERT_EQ(g->shape, e.shape) << name << ": " << e.name;
      EXPECT_LT(relative_difference(*g, e), f32 ? 1e-5 : 1e-10) << name << ": " << e.name;
    }
    // Exactly PyTorch's set of results: outputs, states, every parameter gradient, grad.input, grad.h0 (c0).
    EXPECT_EQ(got.tensors.size(), s.expected.tensors.size()) << name;
    cells.insert(s.model.metadata_at("cell") + "/" + s.model.metadata_at("num_layers") + "/" +
                 s.model.metadata_at("bias"));
    ++files;
  }
  EXPECT_EQ(files, 60u);
  // Every cell with one and two layers, with and without bias.
  for (const std::string c : {"rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "ctrnn"})
    for (const std::string layers_bias : {"/1/true", "/2/true", "/1/false"})
      EXPECT_TRUE(cells.count(c + layers_bias)) << c + layers_bias;
  for (const std::string c : {"rnn_tanh/2/false", "lstm/2/false", "gru/2/false"})
    EXPECT_TRUE(cells.count(c)) << c;
  // The remedy cells (their K = 1, K > T and antisymmetric shapes are in the file names).
  for (const std::string c : {"rnn_residual/1/true", "rnn_residual/2/false", "rnn_skip/1/true", "rnn_skip/1/false",
                              "rnn_skip/2/true", "rnn_antisymmetric/1/true", "rnn_antisymmetric/2/false"})
    EXPECT_TRUE(cells.count(c)) << c;
}

TEST(Interop, MalformedFilesExitWithTwoAndNameTheProblem) {
  TempDir dir("bad");
  const check::ReferenceCase s = split_reference(reference_dir / "lstm_l1_f64.safetensors");
  const fs::path model = dir.path() / "model.safetensors", input = dir.path() / "input.safetensors";
  const fs::path bad = dir.path() / "bad.safetensors", out = dir.path() / "out.safetensors";
  write_safetensors(model, s.model);
  write_safetensors(input, s.input);
  ASSERT_EQ(run("grad --model " + model.string() + " --input " + input.string() + " --out " + out.string()).code, 0);
  fs::remove(out);

  const RawFile raw = RawFile::of(s.model);
  const std::string valid = raw.bytes();
  struct Case {
    std::string what, bytes, expected_message;
  };
  std::vector<Case> cases;
  cases.push_back({"truncated", valid.substr(0, valid.size() / 2), "outside the data area"});
  cases.push_back({"truncated inside the length", valid.substr(0, 5), "shorter than the 8-byte header length"});
  cases.push_back({"header length past the end", raw.bytes(valid.size()), "runs past the end of the file"});
  cases.push_back({"header length huge", raw.bytes(std::uint64_t{1} << 62), "above the limit"});
  {
    RawFile r = raw;
    // weight_hh_l0 moved 8 bytes into weight_ih_l0, keeping its length.
    auto& off = r.header["weight_hh_l0"]["data_offsets"];
    const auto len = off[1].get<std::uint64_t>() - off[0].get<std::uint64_t>();
    const auto begin = r.header["weight_ih_l0"]["data_offsets"][1].get<std::uint64_t>() - 8;
    off = {begin, begin + len};
    cases.push_back({"overlapping offsets", r.bytes(), "overlap"});
  }
  {
    RawFile r = raw;
    r.header["bias_hh_l0"]["data_offsets"][1] = r.data.size() + 64;
    cases.push_back({"offsets out of range", r.bytes(), "outside the data area"});
  }
  {
    RawFile r = raw;
    r.header["weight_ih_l0"]["dtype"] = "F16";
    cases.push_back({"wrong dtype", r.bytes(), "reads F32, F64 and I64"});
  }
  {
    RawFile r = raw;
    r.header["weight_ih_l0"]["dtype"] = "I64";  // the F64 bytes read as integers: far beyond 2^53
    cases.push_back({"F64 bytes labelled I64", r.bytes(), "tensor 'weight_ih_l0': I64 value"});
  }
  {
    TensorFile f = s.model;
    for (auto& t : f.tensors)
      if (t.name == "weight_ih_l0") {
        t.dtype = DType::i64;
        for (double& v : t.values) v = std::round(v * 10);
      }
    cases.push_back({"integer weights", serialize_safetensors(f),
                     "tensor 'weight_ih_l0' is I64, but the tensors of a model file must be F32 or F64"});
  }
  {
    RawFile r = raw;
    r.header["bias_ih_l0"]["shape"][0] = r.header["bias_ih_l0"]["shape"][0].get<int>() + 1;
    cases.push_back({"shape and byte count disagree", r.bytes(), "needs"});
  }
  {
    RawFile r = raw;
    r.header["weight_ih_l0"]["shape"] = {1u << 31, 1u << 31, 1u << 31};
    cases.push_back({"shape product overflows", r.bytes(), "weight_ih_l0"});
  }
  {
    TensorFile f = s.model;
    f.tensors.erase(f.tensors.begin() + 1);  // weight_hh_l0
    cases.push_back({"missing tensor", serialize_safetensors(f), "missing tensor 'weight_hh_l0'"});
  }
  {
    TensorFile f = s.model;
    for (auto& t : f.tensors)
      if (t.name == "bias_hh_l0") {
        t.shape = {t.shape[0] - 4};
        t.values.resize(static_cast<size_t>(t.shape[0]));
      }
    cases.push_back({"inconsistent shapes", serialize_safetensors(f), "bias_hh_l0: expected shape"});
  }
  {
    TensorFile f = s.model;
    f.metadata["cell"] = "transformer";
    cases.push_back({"unknown cell", serialize_safetensors(f), "unknown cell 'transformer'"});
  }
  {
    TensorFile f = s.model;
    for (auto& t : f.tensors)
      if (t.name == "weight_hh_l0") t.values[5] = std::numeric_limits<double>::infinity();
    cases.push_back({"an inf weight", serialize_safetensors(f), "has a non-finite value at (0, 5)"});
  }
  cases.push_back({"not safetensors at all", "hello, world; this is not a tensor file", "header"});
  for (const Case& c : cases) {
    write_bytes(bad, c.bytes);
    const CliRun r = run("grad --model " + bad.string() + " --input " + input.string() + " --out " + out.string());
    EXPECT_EQ(r.code, 2) << c.what << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expected_message), std::string::npos) << c.what << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << c.what << ": one line\n" << r.out;
    EXPECT_FALSE(fs::exists(out)) << c.what;
  }

  // Inputs that do not fit the model.
  std::vector<std::pair<TensorFile, std::string>> inputs;
  {
    TensorFile f = s.input;
    for (auto& t : f.tensors)
      if (t.name == "input") {
        t.shape[2] += 1;
        t.values.resize(static_cast<size_t>(t.numel()));
      }
    inputs.push_back({f, "input: expected shape (5, 3, 4), got (5, 3, 5)"});
  }
  {
    TensorFile f = s.input;
    for (auto& t : f.tensors)
      if (t.name == "h0") {
        t.shape[2] += 1;
        t.values.resize(static_cast<size_t>(t.numel()));
      }
    inputs.push_back({f, "h0: expected shape (1, 3, 6), got (1, 3, 7)"});
  }
  {
    TensorFile f = s.input;
    f.tensors.erase(std::remove_if(f.tensors.begin(), f.tensors.end(), [](const auto& t) { return t.name == "input"; }),
                    f.tensors.end());
    inputs.push_back({f, "missing tensor 'input'"});
  }
  {
    TensorFile f = s.input;
    for (auto& t : f.tensors)
      if (t.name == "input") t.values[3] = std::numeric_limits<double>::quiet_NaN();
    inputs.push_back({f, "input has a non-finite value"});
  }
  {
    TensorFile f = s.input;
    for (auto& t : f.tensors)
      if (t.name == "h0") t.name = "h_0";  // misspelt: must not become a silently zero h0
    inputs.push_back({f, "unexpected tensor 'h_0' in the input file"});
  }
  {
    TensorFile f = s.input;
    for (auto& t : f.tensors)
      if (t.name == "input") {
        t.dtype = DType::i64;  // e.g. class indices handed over as the input by mistake
        for (double& v : t.values) v = std::round(v);
      }
    inputs.push_back({f, "tensor 'input' is I64, but the tensors of an input file must be F32 or F64"});
  }
  for (const auto& [file, expected] : inputs) {
    write_safetensors(bad, file);
    const CliRun r = run("grad --model " + model.string() + " --input " + bad.string() + " --out " + out.string());
    EXPECT_EQ(r.code, 2) << expected << "\n" << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out)) << expected;
    // analyze reads the same input files and refuses the same way, writing nothing.
    const fs::path folder = dir.path() / "analysis";
    const CliRun a = run("analyze --quiet --model " + model.string() + " --input " + bad.string() + " --out " +
                         folder.string());
    EXPECT_EQ(a.code, 2) << expected << "\n" << a.out;
    EXPECT_NE(a.out.find(expected), std::string::npos) << a.out;
    EXPECT_FALSE(fs::exists(folder / "index.html")) << expected;
  }
  const CliRun missing = run("grad --model " + (dir.path() / "nope.safetensors").string() + " --input " +
                          input.string() + " --out " + out.string());
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("nope.safetensors"), std::string::npos) << missing.out;
}

// A relu network whose identity weights are scaled by 1e30 overflows a double within a dozen steps: grad and
// analyze refuse it, naming the layer, step, sequence and unit, instead of writing NaN gradients (grad wrote
// grad.weight_hh_l0 full of NaN, exit 0) or tables of "-nan" and "nan%".
TEST(Interop, AForwardPassThatOverflowsIsRefusedByName) {
  TempDir dir("overflow");
  const fs::path model = dir.path() / "model.safetensors", input = dir.path() / "input.safetensors";
  ASSERT_EQ(run("init --cell rnn_relu --init identity --scale 1e30 --input-size 2 --hidden 3 --dtype f64 --out " +
                model.string()).code,
            0);
  TensorFile in;
  in.tensors.push_back({"input", DType::f64, {40, 2, 2}, std::vector<double>(160, 1.0)});
  write_safetensors(input, in);
  const std::string expected = "the forward pass overflows: layer 0's output is inf at step ";
  const fs::path out = dir.path() / "grads.safetensors";
  const CliRun g = run("grad --model " + model.string() + " --input " + input.string() + " --out " + out.string());
  EXPECT_EQ(g.code, 2) << g.out;
  EXPECT_NE(g.out.find(expected), std::string::npos) << g.out;
  EXPECT_FALSE(fs::exists(out));
  const CliRun a = run("analyze --quiet --model " + model.string() + " --input " + input.string() + " --out " +
                       (dir.path() / "analysis").string());
  EXPECT_EQ(a.code, 2) << a.out;
  EXPECT_NE(a.out.find(expected), std::string::npos) << a.out;
}

TEST(Interop, InitWritesAPyTorchStateDict) {
  TempDir dir("init");
  for (const std::string cell : {"rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "ctrnn"}) {
    const fs::path path = dir.path() / (cell + ".safetensors");
    const auto r = run("init --cell " + cell + " --layers 2 --input-size 3 --hidden 5 --init orthogonal --dtype f64 "
                       "--seed 7 --out " + path.string());
    ASSERT_EQ(r.code, 0) << cell << "\n" << r.out;
    const TensorFile f = read_safetensors(path);
    EXPECT_EQ(f.metadata_at("cell"), cell);
    EXPECT_EQ(f.metadata_at("num_layers"), "2");
    const std::int64_t G = cell == "lstm" ? 20 : cell == "gru" ? 15 : 5;
    std::set<std::string> names;
    for (const auto& t : f.tensors) {
      names.insert(t.name);
      EXPECT_EQ(t.dtype, DType::f64) << t.name;
    }
    EXPECT_EQ(names, (std::set<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1",
                                            "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"}))
        << cell;
    EXPECT_EQ(f.find("weight_ih_l0")->shape, (std::vector<std::int64_t>{G, 3}));
    EXPECT_EQ(f.find("weight_ih_l1")->shape, (std::vector<std::int64_t>{G, 5}));
    // Orthogonal initialisation: every (H, H) gate block of W_hh is orthogonal.
    const Mat<double> w = to_matrix<double>(*f.find("weight_hh_l1"));
    for (Index g = 0; g < G / 5; ++g) {
      const Mat<double> block = w.middleRows(g * 5, 5);
      EXPECT_LT((block.transpose() * block - Mat<double>::Identity(5, 5)).norm(), 1e-12) << cell;
    }
    // Same seed, same bytes.
    const fs::path again = dir.path() / (cell + "_again.safetensors");
    ASSERT_EQ(run("init --cell " + cell + " --layers 2 --input-size 3 --hidden 5 --init orthogonal --dtype f64 "
                  "--seed 7 --out " + again.string()).code, 0);
    EXPECT_EQ(read_file(path), read_file(again)) << cell;
  }
  const fs::path nb = dir.path() / "nobias.safetensors";
  ASSERT_EQ(run("init --cell gru --no-bias --out " + nb.string()).code, 0);
  const TensorFile f = read_safetensors(nb);
  EXPECT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].dtype, DType::f32);
  for (const std::string bad : {"--cell transformer", "--hidden 0", "--dtype f16", "--init magic", "--cell ctrnn --dt -1"}) {
    const auto r = run("init " + bad + " --out " + (dir.path() / "bad.safetensors").string());
    EXPECT_EQ(r.code, 2) << bad << "\n" << r.out;
    EXPECT_NE(r.out.find("rnnscope: error:"), std::string::npos) << bad;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "bad.safetensors"));
}

TEST(Interop, MissingCotangentsAndStatesAreZero) {
  TempDir dir("zeros");
  const check::ReferenceCase s = split_reference(reference_dir / "lstm_l2_f64.safetensors");
  const fs::path model = dir.path() / "model.safetensors", input = dir.path() / "input.safetensors";
  const fs::path out = dir.path() / "out.safetensors";
  write_safetensors(model, s.model);
  // No cotangents at all: the outputs are PyTorch's, every gradient is exactly zero.
  TensorFile f = s.input;
  std::erase_if(f.tensors, [](const auto& t) { return t.name.rfind("grad_", 0) == 0; });
  write_safetensors(input, f);
  ASSERT_EQ(run("grad --model " + model.string() + " --input " + input.string() + " --out " + out.string()).code, 0);
  TensorFile g = read_safetensors(out);
  EXPECT_LT(relative_difference(*g.find("output"), *s.expected.find("output")), 1e-12);
  int grads = 0;
  for (const auto& t : g.tensors)
    if (t.name.rfind("grad.", 0) == 0) {
      ++grads;
      for (double v : t.values) ASSERT_EQ(v, 0.0) << t.name;
    }
  EXPECT_EQ(grads, 11);  // 8 parameters, input, h0, c0
  // No h0 and c0: the same as explicit zeros.
  TensorFile no_state = s.input, zero_state = s.input;
  std::erase_if(no_state.tensors, [](const auto& t) { return t.name == "h0" || t.name == "c0"; });
  for (auto& t : zero_state.tensors)
    if (t.name == "h0" || t.name == "c0") std::fill(t.values.begin(), t.values.end(), 0.0);
  const fs::path out2 = dir.path() / "out2.safetensors";
  write_safetensors(input, no_state);
  ASSERT_EQ(run("grad --model " + model.string() + " --input " + input.string() + " --out " + out.string()).code, 0);
  write_safetensors(input, zero_state);
  ASSERT_EQ(run("grad --model " + model.string() + " --input " + input.string() + " --out " + out2.string()).code, 0);
  EXPECT_EQ(read_file(out), read_file(out2));
}
