// The command line as a user meets it: exit codes, files written, messages.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "cli_testing.hpp"

namespace fs = std::filesystem;

namespace {

struct Run {
  int code;
  std::string out;  // stdout and stderr together
};

Run run(const std::string& args) {
  const std::string cmd = std::string(RNNSCOPE_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rnnscope_cli_" + name + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(Cli, ActivationsWritesTablesAndSummary) {
  const auto dir = fresh_dir("act");
  const auto r = run("activations --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0.250469"), std::string::npos) << r.out;
  const auto csv = read(dir / "activations.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "T,rho_exact_pow_T,rho_approx_pow_T,rho_first_order_pow_T,rho_exact_log10_pow_T,"
            "rho_approx_log10_pow_T,rho_first_order_log10_pow_T,ratio_log10_T,ratio_T");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 21);
  const auto j = nlohmann::json::parse(read(dir / "activations.json"));
  EXPECT_NEAR(j["rho"].get<double>(), 0.250469, 1e-6);
  EXPECT_TRUE(j["interval_approx"][1].is_null());  // order 1: every eps
  EXPECT_NEAR(j["interval_exact"][1].get<double>(), 1.6628858910, 1e-9);
  // No temporary files are left behind.
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos);
  fs::remove_all(dir);
}

// rho(eps)^T below a double's range (T = 600 at eps = 0.05): the table shows the exact powers from their
// log10s and a finite ratio, the JSON a null power beside its log10, and the figure is drawn.
TEST(Cli, ActivationsPastADoublesRange) {
  const auto dir = fresh_dir("act600");
  const auto r = run("activations --T 600 --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  600   1.787855e-361   5.807714e-362       3.07841"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read(dir / "activations.json"));
  EXPECT_TRUE(j["rho_pow_T"].is_null());
  EXPECT_NEAR(j["rho_log10_pow_T"].get<double>(), -360.7477, 1e-4);
  EXPECT_NEAR(j["ratio_log10_T"].get<double>(), std::log10(3.07841), 1e-5);
  EXPECT_TRUE(fs::exists(dir / "activation_rho_power.svg"));
  fs::remove_all(dir);
}

// At T = 1000000 the powers take 16 characters and T 7: every screen row still has its four columns apart
// (they ran together: "2105272.881176e-1265791.306790e-126750").
TEST(Cli, ActivationsAtAMillionStepsKeepsItsColumnsApart) {
  const auto dir = fresh_dir("act1e6");
  const auto r = run("activations --T 1000000 --quiet --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  std::istringstream in(r.out);
  std::string line;
  int rows = 0;
  const std::regex row(R"(^ *(\d+) +(\S+) +(\S+) +(\S+)$)");
  bool table = false;
  while (std::getline(in, line)) {
    if (line.find("rho^T exact") != std::string::npos) {
      table = true;
      continue;
    }
    if (!table || line.empty()) continue;
    if (line.rfind("wrote ", 0) == 0) break;
    EXPECT_TRUE(std::regex_match(line, row)) << line;
    ++rows;
  }
  EXPECT_GE(rows, 10);
  EXPECT_NE(r.out.find("1000000 7.709151e-601247 1.020169e-602060       1e813.9"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

/// The first value of `key` anywhere in j.
const nlohmann::json* find_key(const nlohmann::json& j, const std::string& key) {
  if (j.is_object()) {
    if (j.contains(key)) return &j.at(key);
    for (const auto& item : j.items())
      if (const auto* f = find_key(item.value(), key)) return f;
  }
  return nullptr;
}

// Weights near 1e200 (and 1e-200): the studies run, the mean field says why it has no prediction, the spectrum's
// powers keep their log10 (they were "zero") and its radius prints in 4 digits (it printed 200); a model file
// that F32 cannot hold is refused rather than written with inf weights.
TEST(Cli, WeightsBeyondADoublesSquareAreStudiedOrRefusedByName) {
  for (const std::string cmd : {"lookback", "lyapunov", "contributions"}) {
    const auto dir = fresh_dir("huge_" + cmd);
    const auto r = run(cmd + " --init scaled --scale 1e200 --T 20 --seeds 1 --batch 1 --hidden 8 --quiet --out " +
                       dir.string());
    ASSERT_EQ(r.code, 0) << cmd << ": " << r.out;
    // The reason is in summary.json's theory (and on the screen where the table has a line for it).
    const std::string summary = read(dir / "summary.json");
    EXPECT_NE(summary.find("the variances overflow a double (g^2 = inf"), std::string::npos) << cmd << ": " << summary;
    EXPECT_EQ(r.out.find("nan"), std::string::npos) << cmd << ": " << r.out;
    fs::remove_all(dir);
  }
  for (const std::string scale : {"1e200", "1e-200"}) {
    const auto dir = fresh_dir("huge_spectrum");
    const auto r = run("spectrum --init scaled --scale " + scale + " --hidden 8 --quiet --out " + dir.string());
    ASSERT_EQ(r.code, 0) << r.out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      EXPECT_LT(line.size(), 140u) << line;
      // Radius and norm with three-digit exponents stay apart (they ran together: 1.137e+2001.832e+200).
      EXPECT_FALSE(std::regex_search(line, std::regex("e[+-][0-9]{3}[0-9.]"))) << line;
    }
    EXPECT_NE(r.out.find(std::string(scale[2] == '-' ? "e-200 " : "e+200 ")), std::string::npos) << r.out;
    const auto summary = nlohmann::json::parse(read(dir / "summary.json"));
    const auto* power = find_key(summary, "log10_norm_power_at_max_n");
    ASSERT_NE(power, nullptr);
    ASSERT_TRUE(power->is_number()) << *power;
    // ||W^50|| is about (scale rho)^50 with rho of order 1 at H = 8: 50 log10(scale) give or take 50.
    EXPECT_NEAR(power->get<double>(), 50 * std::log10(std::stod(scale)), 50.0) << scale;
    fs::remove_all(dir);
  }
  // A relu cell at scale 100 overflows within a few hundred steps: refused by name (it printed lambda_1 = -inf).
  for (const std::string cmd : {"lookback", "lyapunov", "contributions"}) {
    const auto dir = fresh_dir("relu_overflow");
    const auto r = run(cmd + " --cell rnn_relu --init scaled --scale 100 --T 2000 --seeds 1 --batch 1 --hidden 8 "
                       "--quiet --out " + dir.string());
    EXPECT_EQ(r.code, 2) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("the forward pass overflows: layer 0's output is inf at step "), std::string::npos)
        << cmd << ": " << r.out;
    fs::remove_all(dir);
  }
  const auto file = fresh_dir("huge_init");
  const auto r = run("init --init scaled --scale 1e300 --out " + file.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--scale 1e+300 gives weight_hh_l0 entries beyond the range of F32"), std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(file));
}

TEST(Cli, ContributionsBelowTheSmallestDoubleKeepTheirLog10) {
  // About two decades a step: the contributions pass 1e-308 near d = 80 (they were exact zeros there, -inf with an
  // empty spread). Every distance but the last keeps a finite log10 that goes on falling; the last, d = T - 1, is
  // the term of the first step, whose d+s/dW_hh holds the zero initial state: an exact zero.
  const int T = 300;
  const auto dir = fresh_dir("tiny_contributions");
  const auto r = run("contributions --init scaled --scale 0.01 --T " + std::to_string(T) +
                     " --seeds 1 --batch 1 --hidden 8 --quiet --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = cli_testing::csv_cells(dir / "contributions.csv");
  ASSERT_EQ(rows.size(), static_cast<size_t>(T + 1));
  ASSERT_EQ(rows[0][2], "mean_log10_relative");
  ASSERT_EQ(rows[0][3], "std_log10_relative");
  std::vector<double> mean;
  for (size_t i = 1; i < rows.size(); ++i) mean.push_back(std::stod(rows[i][2]));
  for (int d = 0; d + 1 < T; ++d) EXPECT_TRUE(std::isfinite(mean[static_cast<size_t>(d)])) << d;
  EXPECT_EQ(mean.back(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(rows.back()[3], "") << "the spread of no nonzero sample does not exist: an empty cell";
  EXPECT_LT(mean[250], -400.0);
  // The decay a step past the underflow is that before it, within 10 %.
  const double early = (mean[60] - mean[10]) / 50, late = (mean[290] - mean[190]) / 100;
  EXPECT_NEAR(late / early, 1.0, 0.1);
  EXPECT_EQ(read(dir / "contributions.csv").find("nan"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Cli, ActivationsOrderTwoInterval) {
  const auto dir = fresh_dir("act2");
  const auto r = run("activations --order 2 --T 5 --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(read(dir / "activations.json"));
  EXPECT_NEAR(j["interval_approx"][1].get<double>(), 2 / std::sqrt(5.0), 1e-9);
  fs::remove_all(dir);
}

TEST(Cli, BadUsageExitsWithTwoAndAReason) {
  const auto dir = fresh_dir("bad");
  // Each case with the words its one-line reason must contain.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"activations --order -1 --out " + dir.string(), "--order"},
      {"activations --T 0 --out " + dir.string(), "--T"},
      {"activations --eps abc --out " + dir.string(), "--eps"},
      {"activations --eps 1000 --out " + dir.string(), "overflows"},
      {"activations --T 100000000 --out " + dir.string(), "--T must be in 1..1000000"},
      {"activations --bogus 1", "--bogus"},
      {"nosuchcommand", "nosuchcommand"},
      {"", "subcommand"},
      {"check --cell lstmx", "unknown cell 'lstmx'"},
      {"check --hidden 0", "must be positive"},
      {"check --tolerance nan", "--tolerance"},
      {"check --tolerance -1", "--tolerance"},
      {"check --cell ctrnn --dt 0", "dt"},
      {"check --hidden 100000", "<= 64"},
      // Options that would change nothing for the network asked for.
      {"lookback --cell rnn_tanh --forget-bias 1 --out " + dir.string(), "rnn_tanh has no forget gate"},
      {"lookback --cell lstm --dt 0.5 --out " + dir.string(), "--dt is the Euler step of the ctrnn cell"},
      {"lookback --init pytorch --scale 2 --out " + dir.string(), "pytorch and xavier have no scale"},
      {"lyapunov --init xavier --scale 0.5 --out " + dir.string(), "--scale"},
      {"contributions --cell gru --forget-bias 1 --out " + dir.string(), "gru has no forget gate"},
      {"contributions --terms --T 11 --out " + dir.string(), "T must be <= 10 with it, got 11"},
      {"contributions --terms --T 3 --hidden 33 --out " + dir.string(), "hidden must be <= 32 with it, got 33"},
      {"spectrum --init pytorch --scale 3 --out " + dir.string(), "--scale"},
      {"init --cell gru --forget-bias 1 --out " + (dir / "m.safetensors").string(), "no forget gate"},
      {"train --cell gru --forget-bias 1 --out " + dir.string(), "no forget gate"},
      {"train --cell lstm --init chrono --scale 2 --out " + dir.string(), "--scale"},
      {"learnability --cells rnn_tanh,gru --inits pytorch --forget-bias 1 --out " + dir.string(),
       "none of --cells has one"},
      {"learnability --cells rnn_tanh,lstm --inits pytorch --dt 0.5 --out " + dir.string(), "--cells has no ctrnn"},
      {"init --cell lstm --no-bias --forget-bias 1 --out " + (dir / "m.safetensors").string(), "--no-bias"},
      // The remedy cells' shapes: only for their cell, and in range.
      {"lookback --cell rnn_tanh --skip 3 --out " + dir.string(), "--skip is the skip distance K of the rnn_skip cell"},
      {"lyapunov --cell rnn_skip --eps 0.5 --out " + dir.string(), "--eps is the Euler step of the rnn_antisymmetric"},
      {"check --cell gru --gamma 0.5", "--gamma is the diffusion of the rnn_antisymmetric cell; gru has none"},
      {"train --cell rnn_tanh --cell-eps 0.5 --out " + dir.string(), "rnn_tanh has none"},
      {"learnability --cells rnn_tanh,lstm --inits pytorch --skip 2 --out " + dir.string(), "--cells has no rnn_skip"},
      {"lookback --cell rnn_skip --skip 0 --out " + dir.string(), "skip must be in 1..1000, got 0"},
      {"lookback --cell rnn_skip --skip 100 --hidden 64 --out " + dir.string(), "lower --skip or --hidden"},
      {"init --cell rnn_antisymmetric --eps -1 --out " + (dir / "m.safetensors").string(), "eps must be a positive"},
      {"check --cell rnn_antisymmetric --gamma nan", "gamma must be a non-negative number"}};
  for (const auto& [args, words] : cases) {
    const auto r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("rnnscope: error:"), std::string::npos) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(words), std::string::npos) << args << "\n" << r.out;
  }
  // Nothing was written for the refused activations runs.
  EXPECT_FALSE(fs::exists(dir / "activations.csv"));
  const auto r = run("activations --out /proc/rnnscope-cannot-write");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/proc/rnnscope-cannot-write"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(Cli, ContributionsTermsListEveryTermAndTheirSum) {
  const auto dir = fresh_dir("contributions_terms");
  const auto r = run("contributions --terms --T 4 --hidden 3 --input-size 2 --seeds 2 --batch 2 --quiet --out " +
                     dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"terms.csv", "term_entries.csv", "terms_check.csv"}) EXPECT_TRUE(fs::exists(dir / f)) << f;
  // 4 (4 + 1) / 2 = 10 terms; 9 entries each of W_hh (3 x 3); the check lists the 9 entries.
  auto lines = [&](const char* f) {
    const std::string body = read(dir / f);
    return std::count(body.begin(), body.end(), '\n');
  };
  EXPECT_EQ(lines("terms.csv"), 11);
  EXPECT_EQ(lines("term_entries.csv"), 91);
  EXPECT_EQ(lines("terms_check.csv"), 10);
  EXPECT_NE(r.out.find("check: the 10 terms add up to the BPTT dL/dW_hh (3 x 3"), std::string::npos) << r.out;
  const auto s = nlohmann::json::parse(read(dir / "summary.json"));
  const auto& terms = s["contributions"]["Elman tanh"]["terms"];
  EXPECT_LT(terms["max_abs_error"].get<double>(), 1e-12);
  ASSERT_EQ(terms["terms"].size(), 10u);
  EXPECT_EQ(terms["terms"][9]["t"].get<int>(), 3);
  EXPECT_EQ(terms["terms"][9]["k"].get<int>(), 3);
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub : {"activations", "check", "lookback", "grad", "spectrum", "lyapunov", "contributions",
                          "report", "analyze"}) {
    const auto r = run(std::string(sub) + " --help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub << "\n" << r.out;
  }
}

TEST(Cli, CheckCoversEveryCellAndStacks) {
  for (const char* cell : {"rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru", "ctrnn", "rnn_residual", "rnn_skip",
                           "rnn_antisymmetric"}) {
    const auto r = run(std::string("check --layers 2 --cell ") + cell);
    EXPECT_EQ(r.code, 0) << cell << "\n" << r.out;
    EXPECT_NE(r.out.find("weight_hh_l1"), std::string::npos) << cell << "\n" << r.out;
    EXPECT_NE(r.out.find("PASS"), std::string::npos) << cell << "\n" << r.out;
  }
  const auto r = run("check --cell gru --no-bias --hidden 1 --batch 1 --steps 1");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("bias_ih"), std::string::npos) << r.out;
  // The skip cell's K longer than the sequence, and the antisymmetric cell's shape, by name.
  for (const char* args :
       {"check --cell rnn_skip --skip 9 --steps 4", "check --cell rnn_antisymmetric --eps 1 --gamma 0.3"}) {
    const auto s = run(args);
    EXPECT_EQ(s.code, 0) << args << "\n" << s.out;
    EXPECT_NE(s.out.find("PASS"), std::string::npos) << args << "\n" << s.out;
  }
  EXPECT_NE(run("check --cell rnn_skip --skip 2").out.find("weight_skip_l0"), std::string::npos);
}

TEST(Cli, HelpAndCheck) {
  EXPECT_EQ(run("--help").code, 0);
  EXPECT_EQ(run("activations --help").code, 0);
  const auto r = run("check --cell rnn_sigmoid --hidden 3 --T 4");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("T=4"), std::string::npos) << r.out;
  // --T as everywhere else; --steps, its earlier name, is the same option.
  EXPECT_EQ(run("check --cell rnn_sigmoid --hidden 3 --steps 4").out, r.out);
  const auto both = run("check --T 4 --steps 5");
  EXPECT_EQ(both.code, 2) << both.out;
  const auto big = run("check --T 201");
  EXPECT_EQ(big.code, 2);
  EXPECT_NE(big.out.find("--T <= 200"), std::string::npos) << big.out;
}
