// rnnscope check --cell conv1d and rnnscope receptive-field.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli_testing.hpp"
#include "rnnscope/cells/conv1d.hpp"
#include "rnnscope/sequence/gradcheck.hpp"
#include "rnnscope/studies/conv.hpp"

using namespace cli_testing;
using namespace rnnscope;

namespace {

// The rows of check's table: tensor name -> (size, relative error).
std::map<std::string, std::pair<long, double>> check_table(const std::string& out) {
  std::map<std::string, std::pair<long, double>> rows;
  const std::regex row(R"(\n(\w+)\s+(\d+)\s+([0-9.e+-]+)\s)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator(); ++it)
    rows[(*it)[1].str()] = {std::stol((*it)[2].str()), std::stod((*it)[3].str())};
  return rows;
}

// A Conv1d whose backward is off by a relative `error` in one weight entry: a wrong gradient the check must catch.
struct WrongConv : Conv1d<double> {
  using Conv1d<double>::Conv1d;
  double error = 0;
  void backward(const Cache& c, const Mat<double>& dy, Gradients& g) const {
    Conv1d<double>::backward(c, dy, g);
    g.params.weight(0, 1) *= 1 + error;
  }
};

}  // namespace

TEST(CliConv, CheckPassesForEveryShapeAndChecksEveryEntry) {
  struct Case {
    std::string args;
    long weight, bias, input;  // entries: C_out C_in K, C_out, C_in T B
  };
  const Case cases[] = {
      {"", 4 * 3 * 3, 4, 3 * 5 * 2},                                                   // defaults: C_in 3, C_out 4, K 3
      {"--kernel-size 1 --input-size 2 --hidden 3", 3 * 2 * 1, 3, 2 * 5 * 2},          // K = 1
      {"--kernel-size 3 --dilation 3 --padding 3 --T 4", 4 * 3 * 3, 4, 3 * 4 * 2},     // field 7 > T = 4
      {"--kernel-size 3 --dilation 4 --causal --T 3 --batch 1", 4 * 3 * 3, 4, 3 * 3},  // causal, field 9 > T = 3
      {"--kernel-size 2 --stride 2 --padding 1 --T 7 --batch 3", 4 * 3 * 2, 4, 3 * 7 * 3},
      {"--kernel-size 4 --no-bias --hidden 1 --input-size 1 --T 4 --batch 1", 4, 0, 4},         // T_out = 1
      {"--kernel-size 2 --dilation 1,2,4 --T 6", 4 * 3 * 2 + 2 * 4 * 4 * 2, 3 * 4, 3 * 6 * 2},  // stack, field 8
  };
  for (const auto& c : cases) {
    const auto r = run("check --cell conv1d " + c.args);
    ASSERT_EQ(r.code, 0) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find("PASS"), std::string::npos) << c.args << "\n" << r.out;
    const auto rows = check_table(r.out);
    long weights = 0, biases = 0;
    for (const auto& [name, row] : rows) {
      // Far below the tolerance 1e-6: for one layer the loss is linear in each entry, so central differences are
      // exact up to rounding; for the tanh stack their error is of order step^2.
      EXPECT_LT(row.second, 1e-8) << c.args << " " << name << "\n" << r.out;
      if (name.rfind("weight", 0) == 0) weights += row.first;
      if (name.rfind("bias", 0) == 0) biases += row.first;
    }
    EXPECT_EQ(weights, c.weight) << c.args << "\n" << r.out;
    EXPECT_EQ(biases, c.bias) << c.args << "\n" << r.out;
    ASSERT_TRUE(rows.count("input")) << r.out;
    EXPECT_EQ(rows.at("input").first, c.input) << c.args << "\n" << r.out;
    EXPECT_EQ(rows.count("state0"), 0u) << r.out;
  }
  const auto stack = run("check --cell conv1d --kernel-size 2 --dilation 1,2,4 --T 6");
  EXPECT_NE(stack.out.find("receptive field 8"), std::string::npos) << stack.out;
  EXPECT_NE(stack.out.find("weight_l2"), std::string::npos) << stack.out;
  const auto causal = run("check --cell conv1d --kernel-size 3 --dilation 4 --causal --T 3 --batch 1");
  EXPECT_NE(causal.out.find("receptive field 9, T_out=3"), std::string::npos) << causal.out;
}

TEST(CliConv, CheckFailsAboveItsToleranceAndRefusesOptionsOfTheOtherFamily) {
  const auto fail = run("check --cell conv1d --tolerance 1e-30");
  EXPECT_EQ(fail.code, 1) << fail.out;
  EXPECT_NE(fail.out.find("FAIL"), std::string::npos) << fail.out;
  EXPECT_NE(fail.out.find("gradient check FAILED"), std::string::npos) << fail.out;
  const std::pair<const char*, const char*> bad[] = {
      {"check --cell conv1d --layers 2", "--layers does not apply to conv1d"},
      {"check --cell conv1d --dt 0.5", "--dt does not apply to conv1d"},
      {"check --cell rnn_tanh --kernel-size 3", "--kernel-size shapes the conv1d cell; rnn_tanh has none"},
      {"check --cell lstm --causal", "--causal shapes the conv1d cell"},
      {"check --cell conv1d --dilation 1,2 --stride 2", "--stride, --padding and --causal apply to one layer"},
      {"check --cell conv1d --dilation 1,2 --causal", "is always causal"},
      {"check --cell conv1d --kernel-size 9 --T 3", "no output step"},
      {"check --cell conv1d --causal --stride 2", "causal"},
      {"check --cell conv1d --kernel-size 0", "--kernel-size must be in 1..64"},
      {"check --cell conv1d --dilation 0", "--dilation values must be in 1..64"},
      {"check --cell conv1d --padding -1", "--padding must be in 0..256"},
      {"check --cell conv1d --hidden 65", "<= 64"},
  };
  for (const auto& [args, reason] : bad) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(reason), std::string::npos) << args << "\n" << r.out;
  }
}

TEST(CliConv, TheLayerCheckCatchesAWrongGradient) {
  // The mechanism check --cell conv1d uses, on a backward that is wrong in one weight entry by 1e-4.
  Rng rng(3);
  WrongConv conv(2, 3, 3, {.dilation = 2});
  conv.init_uniform(rng);
  const Mat<double> x = rng.normal_matrix<double>(2, 7 * 2);
  Rng same(9);
  const auto right = check_layer_gradients(conv, x, 2, same);
  EXPECT_LT(right.worst_relative_error(), 1e-9) << right.to_string();
  ASSERT_EQ(right.tensors.size(), 3u);
  EXPECT_EQ(right.tensors[0].name, "weight");
  EXPECT_EQ(right.tensors[0].size, 3 * 2 * 3);
  conv.error = 1e-4;
  Rng again(9);
  const auto wrong = check_layer_gradients(conv, x, 2, again);
  EXPECT_FALSE(wrong.passed(1e-6)) << wrong.to_string();
  EXPECT_EQ(wrong.tensors[0].worst_index, 3);        // weight(0, 1) in column-major (3, 6)
  EXPECT_LT(wrong.tensors[1].relative_error, 1e-9);  // bias and input are untouched
  EXPECT_LT(wrong.tensors[2].relative_error, 1e-9);
}

TEST(CliConv, ReceptiveFieldWritesItsFilesAndMatchesTheStudyAndTheClosedForm) {
  const auto dir = fresh_dir("receptive_field");
  const auto r = run("receptive-field --quiet --kernel-size 3 --dilations 1,2,4 --T 40 --seed 7 --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto names = check_folder(dir);
  for (const char* f : {"conv_distance.csv", "conv_distance.json", "conv_distance.png", "conv_distance.svg",
                        "index.html", "summary.json"})
    EXPECT_TRUE(names.count(f)) << f;
  // 1 + sum (K-1) d = 1 + 2 (1 + 2 + 4) = 15.
  EXPECT_NE(r.out.find("= 1 + 2 x (1 + 2 + 4) = 15"), std::string::npos) << r.out;
  const auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  const auto& s = summary["conv1d"]["Conv1D K=3 dilation 1-2-4"];
  EXPECT_EQ(s["receptive_field"], 15);
  EXPECT_EQ(s["zero_past_receptive_field"], true);
  // The same spec run in the library (what the report's section runs): the same numbers, to the last digit.
  ConvSpec spec;
  spec.kernel_size = 3;
  spec.dilations = {1, 2, 4};
  spec.steps = 40;
  spec.seed = 7;
  const ConvResult expected = conv_distance_study(spec);
  const auto rows = csv_cells(dir / "conv_distance.csv");
  ASSERT_EQ(rows.size(), 41u);
  EXPECT_EQ(rows[0][2], "gradient_norm");
  for (size_t d = 0; d < 40; ++d) {
    EXPECT_EQ(std::stod(rows[d + 1][2]), expected.norm[d]) << d;
    // Nonzero inside the field, exactly zero from it on.
    if (d < 15) {
      EXPECT_GT(std::stod(rows[d + 1][2]), 0) << d;
    } else {
      EXPECT_EQ(rows[d + 1][2], "0") << d;
    }
  }
  fs::remove_all(dir);
}

TEST(CliConv, ReceptiveFieldOfOneTapAndOfASequenceShorterThanTheField) {
  const auto one = fresh_dir("receptive_field_one");
  const auto r = run("receptive-field --quiet --kernel-size 1 --dilations 5 --T 6 --out " + one.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = csv_cells(one / "conv_distance.csv");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_NE(rows[1][2], "0");
  for (size_t d = 1; d < 6; ++d) EXPECT_EQ(rows[d + 1][2], "0") << d;
  fs::remove_all(one);
  const auto shorter = fresh_dir("receptive_field_short");
  const auto s = run("receptive-field --quiet --kernel-size 2 --dilations 1,2,4,8 --T 5 --out " + shorter.string());
  ASSERT_EQ(s.code, 0) << s.out;
  EXPECT_NE(s.out.find("= 1 + 1 x (1 + 2 + 4 + 8) = 16"), std::string::npos) << s.out;
  // No distance lies past the field: the column says so rather than "yes".
  EXPECT_NE(s.out.find("        16               -"), std::string::npos) << s.out;
  for (const auto& row : csv_cells(shorter / "conv_distance.csv"))
    if (row[1] != "distance") {
      EXPECT_NE(row[2], "0") << row[1];
    }
  fs::remove_all(shorter);
  const std::pair<const char*, const char*> bad[] = {
      {"receptive-field --dilations 0", "dilations must be in 1..100000"},
      {"receptive-field --channels 0", "channels must be in 1..1024"},
      {"receptive-field --kernel-size 0", "kernel size must be in 1..1024"},
      {"receptive-field --T 0", "T must be in 1..100000"},
      {"receptive-field --nonlinearity softplus", "unknown nonlinearity 'softplus'"},
      {"receptive-field --channels 1024 --T 100000", "above the limit 2e10"},
  };
  for (const auto& [args, reason] : bad) {
    const auto b = run(std::string(args) + " --out " + (fs::temp_directory_path() / "rnnscope_rf_never").string());
    EXPECT_EQ(b.code, 2) << args << "\n" << b.out;
    EXPECT_NE(b.out.find(reason), std::string::npos) << args << "\n" << b.out;
    EXPECT_FALSE(fs::exists(fs::temp_directory_path() / "rnnscope_rf_never")) << args;
  }
}
