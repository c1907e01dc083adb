// rnnscope train as its users run it: the folder it writes, resume bit for bit
// (from a finished run and from one stopped by SIGINT), divergence, user data,
// and bad options refused with exit code 2 before anything is written.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "cli_testing.hpp"
#include "rnnscope/io/training_files.hpp"

namespace rnnscope {
namespace {

using namespace cli_testing;

const std::string kSmall = "--task adding --T 8 --cell gru --hidden 5 --batch 4 --eval-size 8 --threads 1 --quiet";

/// curve.csv without its seconds column (timings differ between runs).
std::string curve_without_time(const fs::path& dir) {
  std::istringstream in(read(dir / "curve.csv"));
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

Index checkpoint_step(const fs::path& dir) {
  const TensorFile cp = read_safetensors(dir / "checkpoint.safetensors");
  return nlohmann::json::parse(cp.metadata_at("state")).at("step").get<Index>();
}

TEST(TrainCli, WritesModelCheckpointCurveFlowAndReport) {
  const fs::path dir = fresh_dir("train_folder");
  const cli_testing::Run r = run("train " + kSmall + " --steps 6 --eval-every 3 --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto names = check_folder(dir);
  for (const char* f : {"model.safetensors", "checkpoint.safetensors", "curve.csv", "gradient_flow.csv",
                        "summary.json", "index.html", "learning_curve.dat", "gradient_flow.dat", "eval_metric.dat"})
    EXPECT_TRUE(names.count(f)) << f;
  const auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  const auto& t = summary.at("train");
  EXPECT_EQ(t.at("steps"), 6);
  EXPECT_TRUE(t.at("solved").is_boolean());
  EXPECT_TRUE(t.at("solved_at_step").is_null() || t.at("solved_at_step").is_number());
  EXPECT_NEAR(t.at("baseline").get<double>(), 1.0 / 6.0, 1e-12);
  EXPECT_TRUE(t.at("eval_loss").is_number());
  // Seven curve rows (step 0 and six steps); evaluations at 0, 3 and 6, each a gradient-flow record of T distances.
  std::istringstream curve(read(dir / "curve.csv"));
  std::string line;
  int rows = -1;
  while (std::getline(curve, line)) ++rows;
  EXPECT_EQ(rows, 7);
  std::istringstream flow(read(dir / "gradient_flow.csv"));
  rows = -1;
  while (std::getline(flow, line)) ++rows;
  EXPECT_EQ(rows, 3 * 8);
  // The model loads as a trainable model: the GRU's names and the readout.
  const TensorFile model = read_safetensors(dir / "model.safetensors");
  for (const char* n : {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "readout.weight", "readout.bias"})
    EXPECT_NE(model.find(n), nullptr) << n;
  EXPECT_EQ(model.at("readout.weight").shape, (std::vector<std::int64_t>{1, 5}));
  EXPECT_EQ(model.at("weight_hh_l0").dtype, DType::f32);
  fs::remove_all(dir);
}

TEST(TrainCli, ResumeEqualsTheWholeRunForEveryOptimiser) {
  for (const std::string opt : {"sgd --momentum 0.9 --nesterov", "adam", "adamw", "rmsprop --momentum 0.5"}) {
    SCOPED_TRACE(opt);
    const fs::path whole = fresh_dir("train_whole"), part = fresh_dir("train_part");
    const std::string common = kSmall + " --eval-every 2 --optimizer " + opt;
    ASSERT_EQ(run("train " + common + " --steps 8 --out " + whole.string()).code, 0);
    ASSERT_EQ(run("train " + common + " --steps 3 --out " + part.string()).code, 0);
    const cli_testing::Run r = run("train --resume " + part.string() + " --steps 8 --quiet");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(read(whole / "model.safetensors"), read(part / "model.safetensors"));
    EXPECT_EQ(curve_without_time(whole), curve_without_time(part));
    EXPECT_EQ(read(whole / "gradient_flow.csv"), read(part / "gradient_flow.csv"));
    fs::remove_all(whole);
    fs::remove_all(part);
  }
}

TEST(TrainCli, SigintStopsWithACheckpointAndTheResumeContinuesBitForBit) {
  const fs::path stopped = fresh_dir("train_stopped"), whole = fresh_dir("train_whole_sigint");
  const std::string common = kSmall + " --eval-every 50 --checkpoint-every 1000000";
  // Started in the background, stopped by SIGINT a second after its output folder appeared (the
  // folder is made after the options are checked, just before the first step).
  const std::string marker = (stopped / ".rnnscope-output.json").string();
  const std::string script = std::string(RNNSCOPE_CLI_PATH) + " train " + common + " --steps 100000000 --out " +
                             stopped.string() + " & pid=$!; i=0; while [ ! -f " + marker +
                             " ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; sleep 1; kill -INT $pid; "
                             "wait $pid; echo \"exit=$?\"";
  FILE* p = popen(("sh -c '" + script + "' 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  EXPECT_NE(out.find("exit=130"), std::string::npos) << out;
  EXPECT_NE(out.find("--resume"), std::string::npos) << out;
  ASSERT_TRUE(fs::exists(stopped / "checkpoint.safetensors")) << out;
  const Index k = checkpoint_step(stopped);
  ASSERT_GT(k, 0);
  const Index total = k + 7;
  const cli_testing::Run r =
      run("train --resume " + stopped.string() + " --steps " + std::to_string(total) + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_EQ(run("train " + common + " --steps " + std::to_string(total) + " --out " + whole.string()).code, 0);
  EXPECT_EQ(read(whole / "model.safetensors"), read(stopped / "model.safetensors"));
  EXPECT_EQ(curve_without_time(whole), curve_without_time(stopped));
  fs::remove_all(whole);
  fs::remove_all(stopped);
}

TEST(TrainCli, DivergenceExitsOneNamingTheStepAndKeepsTheLastCheckpoint) {
  const fs::path dir = fresh_dir("train_diverge");
  const cli_testing::Run r =
      run("train --task recall --T 8 --cell rnn_relu --hidden 4 --batch 4 --eval-size 4 --threads 1 --quiet "
          "--optimizer sgd --lr 1e30 --clip-norm 0 --steps 50 --checkpoint-every 1 --out " +
          dir.string());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("diverged at step"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gradient norm"), std::string::npos) << r.out;
  const fs::path cp = dir / "checkpoint.safetensors";
  if (fs::exists(cp)) {  // a checkpoint written before the failing step holds finite values only
    const TensorFile f = read_safetensors(cp);
    for (const auto& t : f.tensors) {
      if (t.name.rfind("model.", 0) != 0) continue;
      for (double v : t.values) ASSERT_TRUE(std::isfinite(v)) << t.name;
    }
  }
  fs::remove_all(dir);
}

// A learning rate that makes the relu network overflow in its forward pass: the message spells the values as
// NaN / inf (never the C library's "-nan"), names the first tensor whose gradient is not finite and what the
// parameters were, and the curve holds only the finite steps.
TEST(TrainCli, DivergenceNamesTheNonFiniteValueAndItsTensor) {
  const fs::path dir = fresh_dir("train_diverge_named");
  const cli_testing::Run r =
      run("train --task adding --T 20 --cell rnn_relu --hidden 16 --batch 8 --eval-size 8 --threads 1 --quiet "
          "--optimizer sgd --lr 1e6 --steps 50 --out " +
          dir.string());
  ASSERT_EQ(r.code, 1) << r.out;
  const std::regex message(
      R"(rnnscope: training diverged at step \d+: the loss is \S+ and the gradient norm (NaN|inf)( \(the first )"
      R"(non-finite gradient: [\w.]+ \(entry \d+\) is (NaN|inf|-inf)\))?; the parameters are finite, the largest )"
      R"([\w.]+ \(entry \d+\) = \S+; the largest finite gradient norm before it was \S+; )");
  EXPECT_TRUE(std::regex_search(r.out, message)) << r.out;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
  const auto rows = csv_cells(dir / "curve.csv");
  ASSERT_GE(rows.size(), 2u) << "the header and step 0";
  for (const auto& row : rows)
    for (const auto& cell : row) EXPECT_EQ(cell.find("inf"), std::string::npos) << cell;
  const auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  EXPECT_NE(summary.dump().find("training diverged at step "), std::string::npos);
  fs::remove_all(dir);
}

/// A data file: input (T, N, 3) and class labels (N) as I64, the class the
/// sign pattern of the first step's inputs gives.
fs::path write_data(const fs::path& dir, bool out_of_range, bool wrong_shape) {
  fs::create_directories(dir);
  const std::int64_t T = 6, N = 16, I = 3;
  TensorFile f;
  NamedTensor input{"input", DType::f32, {T, N, I}, {}};
  Rng rng(3);
  for (std::int64_t i = 0; i < T * N * I; ++i) input.values.push_back(static_cast<float>(rng.normal()));
  NamedTensor target{"target", DType::i64, {wrong_shape ? N - 1 : N}, {}};
  for (std::int64_t n = 0; n < target.shape[0]; ++n)
    target.values.push_back(input.values[static_cast<size_t>(n * I)] > 0 ? 1.0 : 0.0);
  if (out_of_range) target.values[3] = 7;
  f.tensors = {input, target};
  const fs::path path = dir / "data.safetensors";
  write_safetensors(path, f);
  return path;
}

TEST(TrainCli, TrainsOnUserDataWithClassIndices) {
  const fs::path dir = fresh_dir("train_data"), in = fresh_dir("train_data_in");
  const fs::path data = write_data(in, false, false);
  const cli_testing::Run r = run("train --data " + data.string() +
                                 " --loss ce_last --cell lstm --hidden 8 --batch 16 --steps 60 "
                                 "--eval-every 20 --lr 0.05 --threads 1 --quiet --out " +
                                 dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto t = nlohmann::json::parse(read(dir / "summary.json")).at("train");
  EXPECT_GT(t.at("eval_metric").get<double>(), 0.9) << "the first input's sign is in the state from the first step";
  EXPECT_TRUE(t.at("baseline").is_null());
  EXPECT_EQ(read_safetensors(dir / "model.safetensors").at("readout.weight").shape[0], 2);
  fs::remove_all(dir);
  fs::remove_all(in);
}

// Data that would overflow the forward pass from its first step is refused, naming the entry in the file's own
// (T, N, I) or (N, O) indices.
TEST(TrainCli, NonFiniteDataIsRefusedNamingItsEntry) {
  const fs::path in = fresh_dir("train_nonfinite_in");
  fs::create_directories(in);
  const std::int64_t T = 4, N = 3, I = 2;
  int files = 0;
  const auto data = [&](double input_value, double target_value) {
    TensorFile f;
    NamedTensor input{"input", DType::f64, {T, N, I}, std::vector<double>(T * N * I, 0.5)};
    NamedTensor target{"target", DType::f64, {N, 1}, std::vector<double>(N, 1.0)};
    input.values[2 * N * I + 1 * I + 1] = input_value;  // (t, n, i) = (2, 1, 1)
    target.values[2] = target_value;                    // (n, o) = (2, 0)
    f.tensors = {input, target};
    const fs::path path = in / ("data" + std::to_string(files++) + ".safetensors");
    write_safetensors(path, f);
    return path;
  };
  const std::vector<std::pair<fs::path, std::string>> cases = {
      {data(INFINITY, 1.0), "input has a non-finite value, inf at (2, 1, 1) of (T, N, I) = (4, 3, 2)"},
      {data(NAN, 1.0), "input has a non-finite value, NaN at (2, 1, 1) of (T, N, I) = (4, 3, 2)"},
      {data(0.5, -INFINITY), "target has a non-finite value, -inf at (2, 0) of (N, O) = (3, 1)"},
  };
  for (const auto& [path, message] : cases) {
    const fs::path dir = fresh_dir("train_nonfinite");
    const cli_testing::Run r = run("train --data " + path.string() + " --loss mse_last --cell rnn_tanh --hidden 4 "
                                   "--batch 3 --steps 2 --dtype f64 --quiet --out " + dir.string());
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir));
  }
  fs::remove_all(in);
}

TEST(TrainCli, BadOptionsAndDataExitTwoBeforeWritingAnything) {
  const fs::path in = fresh_dir("train_bad_in");
  const fs::path bad_class = write_data(in / "a", true, false), bad_shape = write_data(in / "b", false, true);
  const fs::path good = write_data(in / "c", false, false);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--task sorting", "unknown task"},
      {"--lr -1", "--lr"},
      {"--lr nan", "--lr"},
      {"--lr inf", "--lr"},
      {"--clip-norm -1", "--clip-norm"},
      {"--clip-value inf", "--clip-value"},
      {"--steps 0", "--steps"},
      {"--steps -5", "--steps"},
      {"--batch 0", "--batch"},
      {"--T 1", "--T"},
      {"--lag 3", "--lag"},
      {"--task recall --lag 100", "--lag"},
      {"--optimizer adagrad", "unknown optimizer"},
      {"--optimizer adam --momentum 0.9", "--momentum"},
      {"--optimizer sgd --nesterov", "--nesterov"},
      {"--beta1 1", "--beta1"},
      {"--dtype f16", "--dtype"},
      {"--init chrono --cell gru", "chrono"},
      {"--cell transformer", "unknown cell"},
      {"--data " + bad_class.string() + " --loss ce_last --model /nonexistent", "--model"},
      {"--data " + bad_shape.string() + " --loss ce_last", "target"},
      {"--data " + good.string() + " --loss mse_all", "target"},
      {"--data " + good.string() + " --loss ce_last --batch 17", "--batch"},
      {"--data " + good.string() + " --task copy", "--task"},
      {"--loss ce_all", "--loss"},
      {"--resume /nonexistent", "checkpoint"},
  };
  for (const auto& [args, names] : cases) {
    const fs::path dir = fresh_dir("train_bad");
    const bool resume = args.rfind("--resume", 0) == 0;  // a resume writes into its own folder
    const cli_testing::Run r = run("train " + args + " --quiet" + (resume ? "" : " --out " + dir.string()));
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(names), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
    EXPECT_FALSE(fs::exists(dir)) << args;
  }
  // A class index beyond the model's readout.
  const fs::path model_dir = fresh_dir("train_bad_model");
  ASSERT_EQ(run("train --data " + good.string() + " --loss ce_last --cell gru --hidden 3 --batch 16 --steps 1 "
                "--threads 1 --quiet --out " + model_dir.string()).code, 0);
  const fs::path dir = fresh_dir("train_bad");
  const cli_testing::Run r = run("train --data " + bad_class.string() + " --loss ce_last --model " +
                    (model_dir / "model.safetensors").string() + " --batch 16 --quiet --out " + dir.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("class 7"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir));
  // --resume continues with the run's own options.
  const cli_testing::Run changed = run("train --resume " + model_dir.string() + " --lr 0.1 --quiet");
  EXPECT_EQ(changed.code, 2) << changed.out;
  EXPECT_NE(changed.out.find("--lr cannot be changed"), std::string::npos) << changed.out;
  fs::remove_all(model_dir);
  fs::remove_all(in);
}

}  // namespace
}  // namespace rnnscope
