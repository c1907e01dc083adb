// rnnscope report and the study subcommands end to end: every file there and
// well formed, the key numbers right, the same seed giving the same numbers,
// bad options and existing folders refused.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include "cli_testing.hpp"

using namespace cli_testing;
using nlohmann::json;

namespace {

json summary_of(const fs::path& dir) { return json::parse(read(dir / "summary.json")); }

}  // namespace

TEST(Report, QuickReportWritesEveryFileWellFormed) {
  const auto dir = fresh_dir("report");
  const auto r = run("report --quick --quiet --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto names = check_folder(dir);
  for (const std::string stem :
       {"activation_derivatives", "activation_rho_power", "lookback", "lookback_elman_sigmoid",
        "lookback_elman_tanh", "lookback_elman_relu", "lookback_lstm", "lookback_gru", "lookback_ct-rnn_dt_0.1",
        "lookback_ct-rnn_dt_1", "spectrum_eigenvalues", "spectrum_powers", "lstm_paths", "lyapunov",
        "contributions", "conv_distance", "lookback_end_to_end_lstm_2_layers"})
    for (const std::string ext : {".png", ".svg", ".dat", ".gp"})
      EXPECT_TRUE(names.count(stem + ext)) << stem + ext;
  for (const std::string table :
       {"activations.csv", "activation_curves.csv", "lookback.csv", "spectrum_eigenvalues.csv", "spectrum_powers.csv",
        "lstm_paths.csv", "lyapunov.csv", "contributions.csv", "conv_distance.csv", "summary.json", "index.html"})
    EXPECT_TRUE(names.count(table)) << table;

  const json s = summary_of(dir);
  // The sigmoid chain decays faster than the tanh chain (sigmoid' <= 1/4).
  const double sig = s["lookback"]["Elman sigmoid"]["mean_log10_ratio_at_T"].get<double>();
  const double tanh = s["lookback"]["Elman tanh"]["mean_log10_ratio_at_T"].get<double>();
  EXPECT_LT(sig, tanh - 3);
  // The two-layer LSTM stack: its end-to-end measure, the input's ratio at L = 0 exactly 1.
  const auto& stack = s["lookback"]["LSTM 2 layers"]["end_to_end"];
  EXPECT_EQ(stack["layers"].get<int>(), 2);
  EXPECT_DOUBLE_EQ(stack["last"]["input"]["mean_log10_ratio"][0].get<double>(), 0.0);
  EXPECT_TRUE(stack["every"]["h1"]["log10_ratio_at_longest_L"].is_number());
  // The bound holds where the cell has one.
  for (const char* cell : {"Elman sigmoid", "Elman tanh", "CT-RNN dt 0.1"}) {
    const auto& c = s["lookback"][cell];
    EXPECT_LE(c["mean_log10_ratio_at_T"].get<double>(), c["bound_log10_at_T"].get<double>() + 1e-9) << cell;
  }
  // Conv1D: exactly zero past the receptive field, nonzero inside it.
  for (const auto& [label, conv] : s["conv1d"].items()) {
    if (!conv.contains("receptive_field")) continue;
    EXPECT_TRUE(conv["zero_past_receptive_field"].get<bool>()) << label;
    EXPECT_EQ(conv["largest_norm_past_receptive_field"].get<double>(), 0.0) << label;
    const auto field = conv["receptive_field"].get<size_t>();
    const auto& g = conv["gradient_norm"];
    ASSERT_GT(g.size(), field) << label;
    EXPECT_GT(g[field - 1].get<double>(), 0.0) << label;
    EXPECT_EQ(g[field].get<double>(), 0.0) << label;
  }
  // A larger forget bias keeps more of the LSTM cell path.
  EXPECT_GT(s["lstm"]["forget bias 1"]["cell_path_log10_at_T"].get<double>(),
            s["lstm"]["forget bias 0"]["cell_path_log10_at_T"].get<double>());
  // Contributions add up to the BPTT gradient.
  for (const auto& [label, c] : s["contributions"].items()) EXPECT_LT(c["max_sum_error"].get<double>(), 1e-10) << label;
  // Orthogonal W_hh: every |lambda| = 1, ||W^n|| = 1.
  EXPECT_NEAR(s["spectrum"]["orthogonal"]["spectral_radius"].get<double>(), 1.0, 1e-10);
  EXPECT_NEAR(s["spectrum"]["orthogonal"]["log10_norm_power_at_max_n"].get<double>(), 0.0, 1e-10);
  fs::remove_all(dir);
}

TEST(Report, SameSeedSameNumbersOtherSeedOtherNumbers) {
  const auto a = fresh_dir("seed_a"), b = fresh_dir("seed_b"), c = fresh_dir("seed_c");
  ASSERT_EQ(run("report --quick --quiet --T 12 --seed 5 --out " + a.string()).code, 0);
  ASSERT_EQ(run("report --quick --quiet --T 12 --seed 5 --out " + b.string()).code, 0);
  ASSERT_EQ(run("report --quick --quiet --T 12 --seed 6 --out " + c.string()).code, 0);
  EXPECT_EQ(read(a / "summary.json"), read(b / "summary.json"));
  EXPECT_EQ(read(a / "lookback.csv"), read(b / "lookback.csv"));
  EXPECT_NE(read(a / "summary.json"), read(c / "summary.json"));
  for (const auto& d : {a, b, c}) fs::remove_all(d);
}

TEST(Report, ExistingFolderIsRefusedAndForceReplacesOnlyItsOwnFiles) {
  const auto dir = fresh_dir("existing");
  ASSERT_EQ(run("report --quick --quiet --T 8 --out " + dir.string()).code, 0);
  const auto again = run("report --quick --quiet --T 8 --out " + dir.string());
  EXPECT_EQ(again.code, 2) << again.out;
  EXPECT_NE(again.out.find("not empty"), std::string::npos) << again.out;
  EXPECT_EQ(std::count(again.out.begin(), again.out.end(), '\n'), 1) << again.out;
  // --force replaces the earlier run and leaves a user's own file alone.
  { std::ofstream(dir / "notes.txt") << "mine\n"; }
  std::ofstream(dir / "lookback.csv", std::ios::app) << "stale\n";
  const auto forced = run("report --quick --quiet --T 8 --force --out " + dir.string());
  ASSERT_EQ(forced.code, 0) << forced.out;
  EXPECT_EQ(read(dir / "notes.txt"), "mine\n");
  EXPECT_EQ(read(dir / "lookback.csv").find("stale"), std::string::npos);
  // A non-empty folder that holds no earlier run is refused even with --force.
  const auto other = fresh_dir("foreign");
  fs::create_directories(other);
  { std::ofstream(other / "thesis.tex") << "x\n"; }
  const auto foreign = run("report --quick --quiet --force --out " + other.string());
  EXPECT_EQ(foreign.code, 2) << foreign.out;
  EXPECT_TRUE(fs::exists(other / "thesis.tex"));
  EXPECT_EQ(std::distance(fs::directory_iterator(other), fs::directory_iterator()), 1);
  fs::remove_all(dir);
  fs::remove_all(other);
}

TEST(Report, BadOptionsExitTwoWithOneLine) {
  const auto dir = fresh_dir("badopt");
  for (const std::string args :
       {"report --T -5", "report --T 0", "report --hidden 0", "report --seeds -1", "report --threads -2",
        "report --T abc", "report --bogus", "spectrum --cell lstmx", "spectrum --max-power 0",
        "lyapunov --T -1", "lyapunov --top -1", "lyapunov --hidden 4 --top 5", "contributions --cell nope",
        "contributions --init weird", "lookback --dt 0", "activations --T 0", "report --T 20000",
        "report --hidden 5000", "lookback --hidden 100000", "contributions --T 6000", "lyapunov --T 1000000"}) {
    const auto r = run(args + " --quiet --out " + dir.string());
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("error"), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << "\n" << r.out;
    EXPECT_FALSE(fs::exists(dir)) << args << ": a bad option must not create the folder";
  }
  const auto r = run("report --quick --quiet --out /proc/rnnscope-cannot-write");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/proc/rnnscope-cannot-write"), std::string::npos) << r.out;
}

TEST(Report, StudySubcommandsWriteTablesFiguresAndIndex) {
  struct Case {
    std::string args;
    std::vector<std::string> files;
  };
  const std::vector<Case> cases = {
      {"spectrum --cell lstm --hidden 6 --max-power 10",
       {"spectrum_eigenvalues.png", "spectrum_powers.svg", "spectrum_powers.csv", "spectrum.json"}},
      {"lyapunov --cell gru --hidden 5 --T 20 --seeds 2 --top 3", {"lyapunov.png", "lyapunov.csv", "lyapunov.json"}},
      {"contributions --cell rnn_sigmoid --hidden 5 --T 20 --seeds 2",
       {"contributions.png", "contributions.csv", "contributions.json"}},
      {"lookback --cell ctrnn --dt 0.5 --hidden 5 --T 20 --seeds 2",
       {"lookback.png", "lookback_ct-rnn_dt_0.5.png", "lookback.csv", "lookback.json"}},
      {"activations --T 5", {"activation_derivatives.png", "activation_rho_power.svg", "activations.csv"}},
  };
  for (const auto& c : cases) {
    const auto dir = fresh_dir("study");
    const auto r = run(c.args + " --quiet --out " + dir.string());
    ASSERT_EQ(r.code, 0) << c.args << "\n" << r.out;
    const auto names = check_folder(dir);
    for (const auto& f : c.files) EXPECT_TRUE(names.count(f)) << c.args << ": " << f;
    EXPECT_TRUE(names.count("index.html")) << c.args;
    fs::remove_all(dir);
  }
  // lyapunov --top 3 gives three exponents, largest first.
  const auto dir = fresh_dir("lyap");
  ASSERT_EQ(run("lyapunov --cell rnn_tanh --hidden 6 --T 30 --seeds 2 --top 3 --quiet --out " + dir.string()).code, 0);
  const json j = json::parse(read(dir / "lyapunov.json"));
  const auto mean = j.begin().value()["mean"];
  ASSERT_EQ(mean.size(), 3u);
  EXPECT_GE(mean[0].get<double>(), mean[1].get<double>());
  fs::remove_all(dir);
}

TEST(Report, ProgressGoesToStderrOneLinePerStageWhenNotATerminal) {
  const auto dir = fresh_dir("progress");
  // stderr only: "2>&1 >/dev/null" sends stderr to the pipe and stdout away.
  auto stderr_of = [](const std::string& args) {
    const std::string cmd = std::string(RNNSCOPE_CLI_PATH) + " " + args + " 2>&1 >/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    std::string err;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) err.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << err;
    return err;
  };
  const std::string err = stderr_of("report --quick --out " + dir.string());
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 8) << err;
  EXPECT_NE(err.find("[8/8]"), std::string::npos) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos) << err;
  fs::remove_all(dir);
  EXPECT_EQ(stderr_of("report --quick --quiet --out " + dir.string()), "");
  fs::remove_all(dir);
}

TEST(Report, SubcommandsTakeOnlyOptionsThatAct) {
  // activations has no randomness and no parallel work; a recurrent matrix's
  // spectrum depends on neither the Euler step nor the forget-gate bias.
  for (const std::string args : {"activations --seed 3", "activations --threads 2", "spectrum --dt 0.5",
                                 "spectrum --forget-bias 1"}) {
    const auto r = run(args + " --quiet --out " + fresh_dir("inert").string());
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(args.substr(args.find("--"), args.find(' ', args.find("--")) - args.find("--"))),
              std::string::npos)
        << r.out;
  }
}

TEST(Report, WroteCountsOnlyFilesThatExist) {
  // Without gnuplot on PATH the figures' data is written and their images are not: the count says so.
  const auto dir = fresh_dir("nognuplot");
  const std::string cmd = "env PATH=/nonexistent " + std::string(RNNSCOPE_CLI_PATH) +
                          " lookback --hidden 4 --T 10 --seeds 1 --quiet --out " + dir.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != ".rnnscope-output.json") ++files;
  EXPECT_FALSE(fs::exists(dir / "lookback.png"));
  EXPECT_NE(out.find(fmt::format("wrote {} files", files)), std::string::npos) << out;
  EXPECT_NE(out.find("figure not drawn"), std::string::npos) << out;
  fs::remove_all(dir);
}
