// rnnscope learnability as its users run it: the folder it writes, a study
// killed mid-run (SIGKILL) or stopped (SIGINT) and resumed ends with the same
// tables as an uninterrupted one, a corrupt or foreign row refused, and bad
// options refused with exit code 2 before anything is written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "cli_testing.hpp"

namespace rnnscope {
namespace {

using namespace cli_testing;

// 2 arms x 2 lengths x 3 seeds of runs that take a fraction of a second each
// (long enough that a signal arrives while runs are in progress).
const std::string kGrid =
    "--cells rnn_tanh,rnn_relu --inits rnn_tanh:pytorch,rnn_relu:identity --T 20,30 --seeds 3 --hidden 32 --batch 32 "
    "--steps 1500 --eval-every 100 --eval-size 32 --threads 2 --quiet";

/// A CSV file without the given column (the seconds, which differ between runs).
std::string without_column(const std::string& text, std::size_t column) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    std::size_t start = 0, k = 0;
    std::string kept;
    for (;;) {
      const std::size_t comma = line.find(',', start);
      const std::string field = line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (k++ != column) kept += (kept.empty() ? "" : ",") + field;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    out += kept + "\n";
  }
  return out;
}

constexpr std::size_t kSecondsColumn = 12;

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// Runs the study in the background and signals it once runs.csv holds at
/// least `rows` rows (waiting up to 5 minutes, for slow sanitizer builds);
/// returns the shell's output with "exit=<code>".
std::string run_and_signal(const std::string& args, const fs::path& dir, int rows, const char* signal) {
  const std::string runs = (dir / "runs.csv").string();
  const std::string script = std::string(RNNSCOPE_CLI_PATH) + " learnability " + args + " --out " + dir.string() +
                             " & pid=$!; i=0; while [ $i -lt 6000 ]; do n=$(wc -l < " + runs +
                             " 2>/dev/null || echo 0); [ \"$n\" -gt " + std::to_string(rows) +
                             " ] && break; sleep 0.05; i=$((i+1)); done; kill -" + signal +
                             " $pid; wait $pid; echo \"exit=$?\"";
  FILE* p = popen(("sh -c '" + script + "' 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

void expect_same_tables(const fs::path& a, const fs::path& b) {
  EXPECT_EQ(without_column(read(a / "runs.csv"), kSecondsColumn), without_column(read(b / "runs.csv"), kSecondsColumn));
  EXPECT_EQ(read(a / "blocks.csv"), read(b / "blocks.csv"));
  EXPECT_EQ(read(a / "rates.csv"), read(b / "rates.csv"));
  EXPECT_EQ(read(a / "success.dat"), read(b / "success.dat"));
  EXPECT_EQ(read(a / "initial_lookback.dat"), read(b / "initial_lookback.dat"));
}

class LearnabilityCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    whole_ = new fs::path(fresh_dir("learn_whole"));
    const cli_testing::Run r = run("learnability " + kGrid + " --out " + whole_->string());
    ASSERT_EQ(r.code, 0) << r.out;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*whole_);
    delete whole_;
  }
  static fs::path* whole_;
};
fs::path* LearnabilityCli::whole_ = nullptr;

TEST_F(LearnabilityCli, WritesRunsRatesFiguresAndReport) {
  const auto names = check_folder(*whole_);
  for (const char* f : {"study.json", "runs.csv", "blocks.csv", "rates.csv", "summary.json", "index.html",
                        "success.dat", "steps.dat", "initial_lookback.dat"})
    EXPECT_TRUE(names.count(f)) << f;
  EXPECT_EQ(lines(read(*whole_ / "runs.csv")), 1u + 12u);
  EXPECT_EQ(lines(read(*whole_ / "rates.csv")), 1u + 4u);
  EXPECT_EQ(lines(read(*whole_ / "blocks.csv")), 1u + 12u);  // one recurrent block per Elman run
  const auto summary = nlohmann::json::parse(read(*whole_ / "summary.json"));
  const auto& l = summary.at("learnability");
  EXPECT_EQ(l.at("runs"), 12);
  EXPECT_EQ(l.at("rates").size(), 4u);
  EXPECT_EQ(l.at("study").at("seeds"), 3);
  EXPECT_NE(read(*whole_ / "index.html").find("rnnscope learnability --task adding"), std::string::npos);
}

TEST_F(LearnabilityCli, KilledMidStudyAndResumedGivesTheSameTables) {
  const fs::path dir = fresh_dir("learn_killed");
  const std::string out = run_and_signal(kGrid, dir, 2, "KILL");
  ASSERT_NE(out.find("exit=137"), std::string::npos) << out;
  const std::size_t done = lines(read(dir / "runs.csv")) - 1;
  ASSERT_GE(done, 2u);
  ASSERT_LT(done, 12u) << "the study finished before it was killed";
  const cli_testing::Run r = run("learnability --resume " + dir.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  expect_same_tables(*whole_, dir);
  fs::remove_all(dir);
}

TEST_F(LearnabilityCli, SigintStopsAfterTheCurrentRunsAndTheResumeFinishes) {
  const fs::path dir = fresh_dir("learn_sigint");
  const std::string out = run_and_signal(kGrid, dir, 1, "INT");
  ASSERT_NE(out.find("exit=130"), std::string::npos) << out;
  EXPECT_NE(out.find("runs done"), std::string::npos) << out;
  EXPECT_NE(out.find("--resume " + dir.string()), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "rates.csv"));
  const cli_testing::Run r = run("learnability --resume " + dir.string() + " --quiet --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  expect_same_tables(*whole_, dir);
  // A finished study resumed again runs nothing and writes the same tables.
  const cli_testing::Run again = run("learnability --resume " + dir.string() + " --quiet");
  ASSERT_EQ(again.code, 0) << again.out;
  expect_same_tables(*whole_, dir);
  fs::remove_all(dir);
}

TEST_F(LearnabilityCli, SigtermStopsWithItsOwnExitCodeAndTheResumeFinishes) {
  const fs::path dir = fresh_dir("learn_sigterm");
  const std::string out = run_and_signal(kGrid, dir, 1, "TERM");
  ASSERT_NE(out.find("exit=143"), std::string::npos) << out;
  EXPECT_NE(out.find("--resume " + dir.string()), std::string::npos) << out;
  const cli_testing::Run r = run("learnability --resume " + dir.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  expect_same_tables(*whole_, dir);
  fs::remove_all(dir);
}

TEST_F(LearnabilityCli, KilledBeforeItsFirstRowsResumesFromTheStart) {
  // What SIGKILL leaves between study.json and the first runs.csv: the marker and study.json.
  const fs::path dir = fresh_dir("learn_norows");
  fs::create_directories(dir);
  for (const char* f : {"study.json", ".rnnscope-output.json"}) fs::copy_file(*whole_ / f, dir / f);
  const cli_testing::Run r = run("learnability --resume " + dir.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.out;
  expect_same_tables(*whole_, dir);
  fs::remove_all(dir);
}

TEST_F(LearnabilityCli, ACorruptOrForeignRowIsRefusedOnResume) {
  const auto edited = [&](const std::string& name, const std::string& from, const std::string& to) {
    const fs::path dir = fresh_dir("learn_corrupt");
    fs::copy(*whole_, dir, fs::copy_options::recursive);
    std::string text = read(dir / name);
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(dir / name, std::ios::binary) << text;
    const cli_testing::Run r = run("learnability --resume " + dir.string() + " --quiet");
    fs::remove_all(dir);
    return r;
  };
  // Run 1's seed changed: a row of another study.
  cli_testing::Run r = edited("runs.csv", "\n1,adding,rnn_tanh,pytorch,20,2,", "\n1,adding,rnn_tanh,pytorch,20,7,");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("runs.csv, line 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("another study"), std::string::npos) << r.out;
  r = edited("runs.csv", "\n2,adding,", "\n2,adding,,");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("runs.csv, line 4: 19 fields, expected 18"), std::string::npos) << r.out;
  r = edited("study.json", "\"seeds\": 3", "\"seeds\": \"three\"");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("study.json"), std::string::npos) << r.out;
}

// A learning rate that makes the IRNN overflow: its row says diverged on the screen ("0/1" alone read as a run
// that ran out of steps) and in runs.csv, where the last evaluation before the divergence is kept, finite.
TEST(LearnabilityCliOptions, ADivergedRunIsNamedOnTheScreenAndInItsRow) {
  const fs::path dir = fresh_dir("learn_diverged");
  const cli_testing::Run r = run("learnability --cells rnn_relu --inits rnn_relu:identity --T 10 --seeds 1 "
                                 "--hidden 8 --steps 20 --lr 1e6 --threads 1 --quiet --out " +
                                 dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("0/1, 1 diverged"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
  const auto rows = csv_cells(dir / "runs.csv");
  ASSERT_EQ(rows.size(), 2u);
  const auto column = [&](const std::string& name) {
    const auto it = std::find(rows[0].begin(), rows[0].end(), name);
    EXPECT_NE(it, rows[0].end()) << name;
    return rows[1][static_cast<std::size_t>(it - rows[0].begin())];
  };
  EXPECT_EQ(column("end"), "diverged");
  EXPECT_TRUE(std::isfinite(std::stod(column("eval_loss")))) << column("eval_loss");
  fs::remove_all(dir);
}

TEST(LearnabilityCliOptions, BadOptionsExitTwoBeforeWritingAnything) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--cells rnn_tanh,transformer", "unknown cell"},
      {"--cells lstm --inits gru:pytorch", "not among --cells"},
      {"--cells lstm,gru --inits lstm:pytorch", "no initialisation for gru"},
      {"--cells gru --inits chrono", "no initialisation for gru"},
      {"--cells gru --inits gru:chrono", "chrono"},
      {"--T 10,10", "twice"},
      {"--T 1", "--T"},
      {"--seeds 0", "--seeds"},
      {"--task sorting", "unknown task"},
      {"--lr -1", "--lr"},
      {"--steps 0", "--steps"},
      {"--dtype f16", "--dtype"},
      {"--chrono-tmax 5", "--chrono-tmax"},
      {"--lag 3", "--lag"},
      {"--threads -1", "threads"},
      {"--resume /nonexistent", "study.json"},
  };
  for (const auto& [args, names] : cases) {
    const fs::path dir = fresh_dir("learn_bad");
    const bool resume = args.rfind("--resume", 0) == 0;
    const cli_testing::Run r = run("learnability " + args + " --quiet" + (resume ? "" : " --out " + dir.string()));
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(names), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
    EXPECT_FALSE(fs::exists(dir)) << args;
  }
  const fs::path dir = fresh_dir("learn_bad_resume");
  ASSERT_EQ(run("learnability --cells rnn_tanh --inits pytorch --T 4 --seeds 1 --hidden 3 --steps 2 --quiet --out " +
                dir.string())
                .code,
            0);
  const cli_testing::Run r = run("learnability --resume " + dir.string() + " --lr 0.1 --quiet");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--lr cannot be changed"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rnnscope
