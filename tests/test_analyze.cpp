// rnnscope analyze on model and input files: the PyTorch reference models
// (split into a model file and an input file, as a PyTorch user exports them)
// and a model written by save_model.
#include <gtest/gtest.h>

#include "cli_testing.hpp"
#include "rnnscope/training/init.hpp"
#include "rnnscope/io/model_file.hpp"

using namespace cli_testing;
using namespace rnnscope;
using nlohmann::json;

namespace {

const fs::path reference_dir = fs::path(RNNSCOPE_TEST_DATA) / "reference";

bool is_parameter(const std::string& name) { return name.rfind("weight_", 0) == 0 || name.rfind("bias_", 0) == 0; }

/// Writes reference file `stem` as dir/model.safetensors (state_dict + metadata) and dir/input.safetensors.
void split_reference(const std::string& stem, const fs::path& dir) {
  const TensorFile ref = read_safetensors(reference_dir / (stem + ".safetensors"));
  TensorFile model, input;
  model.metadata = ref.metadata;
  for (const auto& t : ref.tensors) {
    if (is_parameter(t.name)) model.tensors.push_back(t);
    if (t.name == "input" || t.name == "h0" || t.name == "c0") input.tensors.push_back(t);
  }
  fs::create_directories(dir);
  write_safetensors(dir / "model.safetensors", model);
  write_safetensors(dir / "input.safetensors", input);
}

}  // namespace

TEST(Analyze, ReferenceModelsGiveEveryLayer) {
  for (const std::string stem : {"lstm_l2_f64", "rnn_tanh_l1_f32", "gru_l1_nobias_f64", "ctrnn_l1_dt0.5_f64"}) {
    const auto files = fresh_dir("analyze_in"), out = fresh_dir("analyze_out");
    split_reference(stem, files);
    const auto r = run("analyze --quiet --model " + (files / "model.safetensors").string() + " --input " +
                       (files / "input.safetensors").string() + " --out " + out.string());
    ASSERT_EQ(r.code, 0) << stem << "\n" << r.out;
    const auto names = check_folder(out);
    const json s = json::parse(read(out / "summary.json"));
    const int layers = s["run"]["layers"].get<int>();
    // The run names the kernel its products ran on (core/gemm.hpp).
    const std::string kernel = s["run"]["matrix_kernel"].get<std::string>();
    EXPECT_TRUE(kernel.rfind("OpenBLAS", 0) == 0 || kernel.rfind("Eigen", 0) == 0) << kernel;
    EXPECT_EQ(layers, stem.find("_l2_") != std::string::npos ? 2 : 1) << stem;
    // End to end through the whole stack, one layer or more: the input and every layer, both losses.
    EXPECT_TRUE(names.count("stack_end_to_end.csv") && names.count("stack_end_to_end.png")) << stem;
    EXPECT_NE(r.out.find("verdict, loss on the last step: the input"), std::string::npos) << stem << r.out;
    const auto& e2e = s["end_to_end"];
    EXPECT_EQ(e2e["layers"].get<int>(), layers) << stem;
    const std::string top = layers == 2 ? "h1" : "h0";
    for (const std::string loss : {"last", "every"}) {
      EXPECT_EQ(e2e[loss].size(), static_cast<size_t>(layers + 1)) << stem;
      EXPECT_DOUBLE_EQ(e2e[loss]["input"]["mean_log10_ratio"][0].get<double>(), 0.0) << stem;  // L = 0
      EXPECT_TRUE(e2e[loss][top]["log10_ratio_at_longest_L"].is_number()) << stem;
    }
    for (int l = 0; l < layers; ++l) {
      const std::string p = "layer" + std::to_string(l);
      for (const std::string f : {"_chains", "_spectrum_eigenvalues", "_spectrum_powers", "_lyapunov", "_contributions"}) {
        EXPECT_TRUE(names.count(p + f + ".png")) << stem << " " << p + f;
        EXPECT_TRUE(names.count(p + f + ".svg")) << stem << " " << p + f;
      }
      const auto& layer = s[p];
      EXPECT_DOUBLE_EQ(layer["chain_mean_log10"][0].get<double>(), 0.0) << stem;  // ||I||_2 = 1
      EXPECT_LT(layer["contributions_sum_error"].get<double>(), 1e-10) << stem;
      EXPECT_EQ(layer["spectra"].size(), stem.rfind("lstm", 0) == 0 ? 4u : stem.rfind("gru", 0) == 0 ? 3u : 1u);
      // The measured chain never exceeds its bound (Elman and CT-RNN).
      if (!layer["bound_log10_at_T"].is_null()) {
        EXPECT_LE(layer["chain_mean_log10_at_T"].get<double>(), layer["bound_log10_at_T"].get<double>() + 1e-9);
      }
      // The forget gates along the trajectory: LSTM layers only, and no empty file for the others.
      const bool lstm = stem.rfind("lstm", 0) == 0;
      EXPECT_EQ(names.count(p + "_forget.csv"), lstm ? 1u : 0u) << stem;
      EXPECT_EQ(names.count(p + "_forget.png"), lstm ? 1u : 0u) << stem;
      EXPECT_EQ(layer.contains("forget"), lstm) << stem;
      if (lstm) {
        const double mean = layer["forget"]["mean_forget_over_steps"].get<double>();
        EXPECT_GT(mean, 0.0);
        EXPECT_LT(mean, 1.0);
        EXPECT_NE(r.out.find("forget gate: mean"), std::string::npos) << r.out;
      }
    }
    fs::remove_all(files);
    fs::remove_all(out);
  }
}

TEST(Analyze, SavedModelMatchesTheLibrary) {
  // A sigmoid Elman model written by save_model: the chain at the end of the sequence
  // decays at least as fast as (||W_hh|| / 4)^L.
  ModelSpec spec;
  spec.cell = CellKind::rnn_sigmoid;
  spec.input_size = 3;
  spec.hidden_size = 6;
  Model<double> model = make_model<double>(spec);
  Rng rng(11);
  initialise_model(model, Init::xavier, 1.0, 0.0, rng);
  const Index T = 25, B = 2;
  TensorFile input;
  input.tensors.push_back(from_sequence<double>("input", rng.normal_matrix<double>(3, T * B), B));
  const auto files = fresh_dir("saved_in"), out = fresh_dir("saved_out");
  fs::create_directories(files);
  write_safetensors(files / "m.safetensors", save_model<double>(model, spec));
  write_safetensors(files / "x.safetensors", input);
  const std::string args = "analyze --quiet --model " + (files / "m.safetensors").string() + " --input " +
                           (files / "x.safetensors").string() + " --top 2 --out " + out.string();
  const auto r = run(args);
  ASSERT_EQ(r.code, 0) << r.out;
  const json s = json::parse(read(out / "summary.json"));
  const auto& l0 = s["layer0"];
  EXPECT_EQ(l0["lyapunov"].size(), 2u);
  const double w = l0["spectra"]["weight_hh"]["norm_2"].get<double>();
  EXPECT_LE(l0["chain_mean_log10_at_T"].get<double>(), T * std::log10(w / 4) + 1e-9);
  EXPECT_TRUE(l0["spectra"]["weight_hh"]["pascanu"]["vanishing_guaranteed"].get<bool>() == (w < 4));

  // Running again into the same folder is refused; --force replaces it.
  EXPECT_EQ(run(args).code, 2);
  EXPECT_EQ(run(args + " --force").code, 0);

  // Bad input: exit 2 with a one-line reason naming the problem, nothing written.
  const auto bad_out = fresh_dir("bad_out");
  TensorFile wrong;
  wrong.tensors.push_back(from_sequence<double>("input", rng.normal_matrix<double>(4, T * B), B));
  write_safetensors(files / "wrong.safetensors", wrong);
  TensorFile no_input;
  no_input.tensors.push_back(from_matrix<double>("other", Mat<double>::Zero(2, 2)));
  write_safetensors(files / "none.safetensors", no_input);
  { std::ofstream(files / "junk.safetensors") << "not a safetensors file"; }
  for (const auto& [bad, expect] : std::vector<std::pair<std::string, std::string>>{
           {"--model " + (files / "m.safetensors").string() + " --input " + (files / "wrong.safetensors").string(),
            "input"},
           {"--model " + (files / "m.safetensors").string() + " --input " + (files / "none.safetensors").string(),
            "input"},
           {"--model " + (files / "junk.safetensors").string() + " --input " + (files / "x.safetensors").string(),
            "junk.safetensors"},
           {"--model " + (files / "missing.safetensors").string() + " --input " + (files / "x.safetensors").string(),
            "missing.safetensors"},
           {"--model " + (files / "m.safetensors").string() + " --input " + (files / "x.safetensors").string() +
                " --top 99",
            "top must be at most the layer state size"}}) {
    const auto b = run("analyze --quiet " + bad + " --out " + bad_out.string());
    EXPECT_EQ(b.code, 2) << bad << "\n" << b.out;
    EXPECT_NE(b.out.find(expect), std::string::npos) << bad << "\n" << b.out;
    EXPECT_EQ(std::count(b.out.begin(), b.out.end(), '\n'), 1) << b.out;
    EXPECT_FALSE(fs::exists(bad_out));
  }
  fs::remove_all(files);
  fs::remove_all(out);
}
