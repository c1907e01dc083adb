// Parity with PyTorch: every reference file written by tools/torch_reference.py
// holds a model, an input with cotangents, and PyTorch's outputs and gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "reference_testing.hpp"
#include "rnnscope/cells/conv1d.hpp"
#include "rnnscope/io/model_file.hpp"

using namespace rnnscope;
namespace fs = std::filesystem;
using check::is_input_name;
using check::is_result_name;
using check::reference_dir;
using check::relative_difference;

namespace {

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
  ASSERT_GE(files.size(), 60u);
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

// I64 holds integers such as class indices; weights, inputs, states and
// cotangents are floating-point data, so an I64 tensor in their place is refused
// with its name rather than converted (and grad would otherwise pick its output
// dtype from it).
TEST(PyTorchParity, I64TensorsAreRefusedWhereFloatsAreMeant) {
  const check::ReferenceCase s = check::split_reference(reference_dir / "gru_l1_f64.safetensors");
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // Integral values, so that only the dtype is wrong.
  auto as_i64 = [](NamedTensor& t) {
    t.dtype = DType::i64;
    for (double& v : t.values) v = std::round(v * 100);
  };
  ASSERT_EQ(message([&] { grad_files(s.model, s.input); }), "no error");
  ASSERT_EQ(message([&] { analysis_spec(s.model, s.input, {}); }), "no error");

  TensorFile model = s.model;
  for (auto& t : model.tensors)
    if (t.name == "weight_hh_l0") as_i64(t);
  const std::string weight = "tensor 'weight_hh_l0' is I64, but the tensors of a model file must be F32 or F64";
  EXPECT_EQ(message([&] { load_model<double>(model); }), weight);
  EXPECT_EQ(message([&] { load_model<float>(model); }), weight);
  EXPECT_EQ(message([&] { grad_files(model, s.input); }), weight);
  EXPECT_EQ(message([&] { analysis_spec(model, s.input, {}); }), weight);

  // Every tensor of both files I64: one dtype throughout, but not one grad may write.
  TensorFile all_model = s.model, all_input = s.input;
  for (auto* f : {&all_model, &all_input})
    for (auto& t : f->tensors) as_i64(t);
  EXPECT_EQ(message([&] { grad_files(all_model, all_input); }),
            "tensor '" + all_model.tensors.front().name +
                "' is I64, but the tensors of a model file must be F32 or F64");

  for (const std::string name : {"input", "h0", "grad_output"}) {
    TensorFile input = s.input;
    for (auto& t : input.tensors)
      if (t.name == name) as_i64(t);
    const std::string expected = "tensor '" + name + "' is I64, but the tensors of an input file must be F32 or F64";
    EXPECT_EQ(message([&] { grad_files(s.model, input); }), expected);
    EXPECT_EQ(message([&] { analysis_spec(s.model, input, {}); }), expected);
  }
}

namespace {

// PyTorch's Conv1d tensors are (B, C, L) row-major; the library's sequences are
// (C, L*B) with column t*B + b, and its weight is (C_out, C_in*K) with column ci*K + k.
template <Scalar S>
Mat<S> sequence_from_bcl(const NamedTensor& t) {
  const Index B = t.shape[0], C = t.shape[1], L = t.shape[2];
  Mat<S> m(C, L * B);
  for (Index b = 0; b < B; ++b)
    for (Index c = 0; c < C; ++c)
      for (Index l = 0; l < L; ++l) m(c, l * B + b) = static_cast<S>(t.values[(b * C + c) * L + l]);
  return m;
}

template <Scalar S>
double relative_to_bcl(const Mat<S>& got, const NamedTensor& expected) {
  const Mat<double> e = sequence_from_bcl<double>(expected);
  return (got.template cast<double>() - e).norm() / std::max(e.norm(), 1e-300);
}

template <Scalar S>
void check_conv1d_file(const fs::path& path, double tolerance) {
  const TensorFile ref = read_safetensors(path);
  auto meta = [&](const char* key) { return static_cast<Index>(std::stoll(ref.metadata_at(key))); };
  Conv1dOptions options;
  options.stride = meta("stride");
  options.padding = meta("padding");
  options.dilation = meta("dilation");
  const NamedTensor& w = *ref.find("weight");
  Conv1d<S> conv(w.shape[1], w.shape[0], w.shape[2], options);
  ASSERT_EQ(conv.params.weight.rows(), w.shape[0]);
  // Row-major (C_out, C_in, K) is row-major (C_out, C_in*K).
  for (Index co = 0; co < conv.params.weight.rows(); ++co)
    for (Index j = 0; j < conv.params.weight.cols(); ++j)
      conv.params.weight(co, j) = static_cast<S>(w.values[co * conv.params.weight.cols() + j]);
  const NamedTensor& bias = *ref.find("bias");
  for (Index co = 0; co < conv.params.bias.size(); ++co) conv.params.bias(co) = static_cast<S>(bias.values[co]);

  const NamedTensor& x = *ref.find("input");
  const Index batch = x.shape[0];
  const auto cache = conv.forward(sequence_from_bcl<S>(x), batch);
  EXPECT_LT(relative_to_bcl<S>(conv.output(cache), *ref.find("output")), tolerance) << path.filename();

  auto grads = conv.zero_gradients(cache);
  conv.backward(cache, sequence_from_bcl<S>(*ref.find("grad_output")), grads);
  EXPECT_LT(relative_to_bcl<S>(grads.d_input, *ref.find("grad.input")), tolerance) << path.filename();
  const NamedTensor& dw = *ref.find("grad.weight");
  const NamedTensor& db = *ref.find("grad.bias");
  Mat<double> dw_expected(conv.params.weight.rows(), conv.params.weight.cols());
  for (Index co = 0; co < dw_expected.rows(); ++co)
    for (Index j = 0; j < dw_expected.cols(); ++j) dw_expected(co, j) = dw.values[co * dw_expected.cols() + j];
  const Vec<double> db_expected = Eigen::Map<const Vec<double>>(db.values.data(), Index(db.values.size()));
  EXPECT_LT((grads.params.weight.template cast<double>() - dw_expected).norm() / dw_expected.norm(), tolerance)
      << path.filename();
  EXPECT_LT((grads.params.bias.template cast<double>() - db_expected).norm() / db_expected.norm(), tolerance)
      << path.filename();
}

}  // namespace

TEST(PyTorchParity, Conv1dReferenceFiles) {
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(reference_dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("conv1d", 0) != 0) continue;
    if (name.find("_f32") != std::string::npos) check_conv1d_file<float>(e.path(), 1e-5);
    else check_conv1d_file<double>(e.path(), 1e-10);
    ++files;
  }
  EXPECT_EQ(files, 4u);
}
