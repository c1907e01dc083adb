// Parity with PyTorch: every reference file written by tools/torch_reference.py
// holds a model, an input with cotangents, and PyTorch's outputs and gradients.
#include <gtest/gtest.h>

#include <filesystem>

#include "rnnscope/io/model_file.hpp"

using namespace rnnscope;
namespace fs = std::filesystem;

namespace {

const fs::path reference_dir = fs::path(RNNSCOPE_TEST_DATA) / "reference";

bool is_input_name(const std::string& n) {
  return n == "input" || n == "h0" || n == "c0" || n.rfind("grad_", 0) == 0;
}
bool is_result_name(const std::string& n) {
  return n == "output" || n == "h_n" || n == "c_n" || n.rfind("grad.", 0) == 0;
}

double relative_difference(const NamedTensor& a, const NamedTensor& b) {
  double d = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.values.size(); ++i) {
    d += (a.values[i] - b.values[i]) * (a.values[i] - b.values[i]);
    na += a.values[i] * a.values[i];
    nb += b.values[i] * b.values[i];
  }
  return std::sqrt(d) / std::max({std::sqrt(na), std::sqrt(nb), 1e-300});
}

std::vector<fs::path> recurrent_reference_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(reference_dir))
    if (e.path().extension() == ".safetensors" && e.path().filename().string().rfind("conv1d", 0) != 0)
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST(PyTorchParity, EveryRecurrentReferenceFile) {
  const auto files = recurrent_reference_files();
  ASSERT_GE(files.size(), 26u);
  for (const auto& path : files) {
    const TensorFile ref = read_safetensors(path);
    TensorFile model, input;
    model.metadata = ref.metadata;
    for (const auto& t : ref.tensors) {
      if (is_input_name(t.name)) input.tensors.push_back(t);
      else if (!is_result_name(t.name)) model.tensors.push_back(t);
    }
    const bool f32 = ref.metadata_at("dtype") == "F32";
    const double tolerance = f32 ? 1e-5 : 1e-10;
    const TensorFile out = grad_files(model, input);
    size_t compared = 0;
    for (const auto& expected : ref.tensors) {
      if (!is_result_name(expected.name)) continue;
      const NamedTensor* got = out.find(expected.name);
      ASSERT_NE(got, nullptr) << path.filename() << ": no " << expected.name;
      ASSERT_EQ(got->shape, expected.shape) << path.filename() << ": " << expected.name;
      EXPECT_LT(relative_difference(*got, expected), tolerance) << path.filename() << ": " << expected.name;
      ++compared;
    }
    // output, h_n, every parameter gradient, grad.input, grad.h0 at least.
    EXPECT_EQ(compared + 0, out.tensors.size()) << path.filename();
    EXPECT_GE(compared, 6u) << path.filename();
  }
}

TEST(PyTorchParity, ModelFilesRoundTrip) {
  const TensorFile ref = read_safetensors(reference_dir / "lstm_l2_f64.safetensors");
  TensorFile model;
  model.metadata = ref.metadata;
  for (const auto& t : ref.tensors)
    if (!is_input_name(t.name) && !is_result_name(t.name)) model.tensors.push_back(t);
  const Model<double> m = load_model<double>(model);
  const TensorFile saved = save_model<double>(m, read_model_spec(model));
  ASSERT_EQ(saved.tensors.size(), model.tensors.size());
  for (size_t i = 0; i < saved.tensors.size(); ++i) {
    EXPECT_EQ(saved.tensors[i].name, model.tensors[i].name);
    EXPECT_EQ(saved.tensors[i].values, model.tensors[i].values);
  }
  EXPECT_EQ(saved.metadata.at("cell"), "lstm");
  EXPECT_EQ(saved.metadata.at("num_layers"), "2");
}

TEST(PyTorchParity, BadModelFilesAreNamed) {
  const TensorFile ref = read_safetensors(reference_dir / "gru_l1_f64.safetensors");
  TensorFile model;
  model.metadata = ref.metadata;
  for (const auto& t : ref.tensors)
    if (!is_input_name(t.name) && !is_result_name(t.name)) model.tensors.push_back(t);
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto bad = model;
  bad.metadata["cell"] = "transformer";
  EXPECT_NE(message([&] { load_model<double>(bad); }).find("unknown cell 'transformer'"), std::string::npos);
  bad = model;
  bad.metadata.erase("cell");
  EXPECT_NE(message([&] { load_model<double>(bad); }).find("cell"), std::string::npos);
  bad = model;
  bad.tensors[2].shape = {17};
  bad.tensors[2].values.resize(17);
  EXPECT_EQ(message([&] { load_model<double>(bad); }), "bias_ih_l0: expected shape (18), got (17)");
  bad = model;
  bad.tensors.erase(bad.tensors.begin() + 3);
  EXPECT_EQ(message([&] { load_model<double>(bad); }), "missing tensor 'bias_hh_l0'");
  bad = model;
  bad.metadata["hidden_size"] = "7";
  EXPECT_NE(message([&] { load_model<double>(bad); }).find("hidden_size"), std::string::npos);
  bad = model;
  bad.tensors.push_back(bad.tensors[0]);
  bad.tensors.back().name = "weight_xx_l0";
  EXPECT_NE(message([&] { load_model<double>(bad); }).find("unexpected tensor 'weight_xx_l0'"), std::string::npos);
}
