// The cost model (core/cost.hpp): the shapes it counts against the caches the
// cells really build, the refusal above a memory limit (before any work), the
// announcement of a long run, the estimates against the peak resident memory
// of real runs, and the commands' --max-memory and size bounds.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "cli_testing.hpp"
#include "rnnscope/core/cost.hpp"
#include "rnnscope/studies/lookback.hpp"
#include "rnnscope/studies/spectrum.hpp"
#include "rnnscope/training/trainer.hpp"

extern char** environ;

namespace rnnscope {
namespace {

using cli_testing::fresh_dir;
using cli_testing::run;

/// Sums the sizes of every matrix a cell's cache holds.
template <class Cache>
double cache_values(const Cache& c) {
  double v = static_cast<double>(c.input.size() + c.states.size());
  if constexpr (requires { c.gates; }) v += static_cast<double>(c.gates.size());
  if constexpr (requires { c.tanh_cell; }) v += static_cast<double>(c.tanh_cell.size());
  if constexpr (requires { c.hidden_n; }) v += static_cast<double>(c.hidden_n.size());
  if constexpr (requires { c.drive; }) v += static_cast<double>(c.drive.size() + c.recurrent.size());
  return v;
}

TEST(Cost, ForwardCacheValuesAreTheSizesOfTheCachesTheCellsBuild) {
  for (const CellKind kind :
       {CellKind::rnn_tanh, CellKind::rnn_relu, CellKind::rnn_sigmoid, CellKind::lstm, CellKind::gru, CellKind::ctrnn,
        CellKind::rnn_residual, CellKind::rnn_skip, CellKind::rnn_antisymmetric})
    for (const Index layers : {1, 3}) {
      ModelSpec spec;
      spec.cell = kind;
      spec.input_size = 5;
      spec.hidden_size = 4;
      spec.num_layers = layers;
      spec.skip = 3;
      const Index T = 7, B = 3;
      const Model<double> model = make_model<double>(spec);
      Rng rng(1);
      const Mat<double> x = rng.normal_matrix<double>(5, T * B);
      double cached = 0, params = 0;
      std::visit(
          [&](const auto& stack) {
            const auto cache = stack.forward(x, B);
            for (const auto& layer : cache.layers) cached += cache_values(layer);
            for (Index l = 0; l < stack.num_layers(); ++l)
              stack.layer(l).params.for_each(
                  [&](const char*, const auto& t) { params += static_cast<double>(t.size()); });
          },
          model);
      EXPECT_EQ(forward_cache_values(spec, T, B), cached) << to_string(kind) << " x " << layers;
      EXPECT_EQ(parameter_values(spec), params) << to_string(kind) << " x " << layers;
    }
}

/// Counts what a study tells its progress.
struct Recorder : ProgressSink {
  std::vector<std::string> notes;
  int advanced = 0;
  void note(const std::string& line) override { notes.push_back(line); }
  void advance(int n) override { advanced += n; }
};

LookbackSpec small_lookback() {
  LookbackSpec spec;
  spec.model.hidden_size = 16;
  spec.steps = 200;
  spec.batch = 3;
  spec.seeds = 2;
  return spec;
}

TEST(Cost, AStudyJustUnderItsLimitRunsAndJustOverIsRefusedBeforeAnyTask) {
  const LookbackSpec spec = small_lookback();
  const Cost cost = LookbackStudy::cost(spec);
  ASSERT_GT(cost.bytes, 0);
  Recorder under;
  Execution e;
  e.progress = &under;
  e.max_memory = cost.bytes * 1.001;
  EXPECT_NO_THROW(run_study<LookbackStudy>(spec, e));
  EXPECT_EQ(under.advanced, spec.seeds);

  Recorder over;
  e.progress = &over;
  e.max_memory = cost.bytes * 0.999;
  try {
    run_study<LookbackStudy>(spec, e);
    ADD_FAILURE() << "not refused";
  } catch (const MemoryLimitExceeded& refused) {
    EXPECT_EQ(refused.cost().bytes, cost.bytes);
    EXPECT_TRUE(refused.limit_given());
    const std::string m = refused.what();
    EXPECT_NE(m.find("T 200, batch 3 and hidden 16 needs about " + bytes_text(cost.bytes)), std::string::npos) << m;
    EXPECT_NE(m.find("the limit is " + bytes_text(e.max_memory) + " (max_memory)"), std::string::npos) << m;
    EXPECT_NE(m.find("lower T, batch or hidden, or raise max_memory"), std::string::npos) << m;
    EXPECT_EQ(refused.message("--", "--max-memory").find("--T 200, --batch 3 and --hidden 16 needs"), 0U);
  }
  EXPECT_EQ(over.advanced, 0) << "a task ran before the refusal";
  // MemoryLimitExceeded is bad input for every front end.
  e.max_memory = 1;
  EXPECT_THROW(run_study<LookbackStudy>(spec, e), InvalidInput);
}

TEST(Cost, TheLimitDefaultsToTheAvailableMemory) {
  const double available = available_memory();
  ASSERT_GT(available, 0);
  LookbackSpec spec;  // 100000 steps of 1000 sequences of 1024 units: most of a terabyte
  spec.model.hidden_size = 1024;
  spec.steps = 100000;
  spec.batch = 1000;
  spec.seeds = 2;
  try {
    run_study<LookbackStudy>(spec);
    ADD_FAILURE() << "not refused";
  } catch (const MemoryLimitExceeded& refused) {
    EXPECT_FALSE(refused.limit_given());
    EXPECT_GT(refused.cost().bytes, 1e11);
    EXPECT_NE(std::string(refused.what()).find("are available; lower T, batch or hidden"), std::string::npos);
  }
}

TEST(Cost, ARunEstimatedAboveAMinuteIsAnnouncedAndAShortOneIsNot) {
  Recorder long_run, short_run;
  Execution e;
  e.threads = 1;
  e.progress = &long_run;
  SpectrumSpec spectrum;  // W^n up to n = 100000 of a 1024 x 1024 matrix: hours
  spectrum.model.hidden_size = 1024;
  spectrum.max_power = 100000;
  spectrum.seeds = 1;
  const Cost slow = SpectrumStudy::cost(spectrum);
  EXPECT_GT(estimated_seconds(slow, 1), 3600);
  check_cost(slow, e);
  ASSERT_EQ(long_run.notes.size(), 1U);
  EXPECT_EQ(long_run.notes[0], "estimated: " + seconds_text(estimated_seconds(slow, 1)) + " and " +
                                   bytes_text(slow.bytes) + " of memory at the peak");
  e.progress = &short_run;
  check_cost(LookbackStudy::cost(small_lookback()), e);
  EXPECT_TRUE(short_run.notes.empty());
  // More threads, less time.
  EXPECT_NEAR(estimated_seconds(slow, 4), estimated_seconds(slow, 1) / 4, 1e-9 * estimated_seconds(slow, 1));
}

TEST(Cost, TrainingCountsItsCurveAndEvaluationSetAndRemainingSteps) {
  TrainSpec spec;
  spec.task.kind = TaskKind::adding;
  spec.task.T = 50;
  spec.model.cell = CellKind::lstm;
  spec.model.hidden_size = 32;
  spec.steps = 1000;
  const Cost fresh = train_cost<float>(spec);
  TrainState<float> state = initial_state<float>(spec);
  state.step = 900;
  const Cost resumed = train_cost<float>(spec, &state);
  EXPECT_EQ(resumed.bytes, fresh.bytes);
  EXPECT_LT(resumed.flops, fresh.flops / 5);
  // A billion steps' learning curve alone is tens of gigabytes: named first.
  spec.steps = 1'000'000'000;
  const Cost huge = train_cost<float>(spec);
  EXPECT_GT(huge.bytes, 1e9 * sizeof(CurveRow));
  ASSERT_FALSE(huge.sizes.empty());
  EXPECT_EQ(huge.sizes.front().first, "steps");
  // The evaluation set of a million sequences of 1000 steps: named first.
  spec.steps = 1000;
  spec.eval_size = 1'000'000;
  spec.task.T = 1000;
  EXPECT_EQ(train_cost<float>(spec).sizes.front().first, "eval-size");
  Execution e;
  e.max_memory = 1e6;
  spec.eval_size = 500;
  spec.task.T = 50;
  EXPECT_THROW(train<float>(spec, state, e), MemoryLimitExceeded);
  EXPECT_EQ(state.step, 900) << "a refused run took a step";
}

TEST(Cost, TextsOfSizesAndTimes) {
  EXPECT_EQ(bytes_text(512), "512 bytes");
  EXPECT_EQ(bytes_text(2.14e9), "2.1 GB");
  EXPECT_EQ(bytes_text(19.2e9), "19 GB");
  EXPECT_EQ(bytes_text(350e6), "350 MB");
  EXPECT_EQ(seconds_text(40), "40 s");
  EXPECT_EQ(seconds_text(180), "about 3 min");
  EXPECT_EQ(seconds_text(9000), "about 2.5 h");
  EXPECT_EQ(seconds_text(86400 * 5), "about 5 days");
}

// ---- The command line -----------------------------------------------------------------------------------

/// The estimate a command refuses with under --max-memory 1, in bytes (from its message's "needs about X").
double refused_estimate(const std::string& args) {
  const auto r = run(args + " --max-memory 1");
  EXPECT_EQ(r.code, 2) << r.out;
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex(R"(needs about ([0-9.]+) (bytes|kB|MB|GB|TB))"))) {
    ADD_FAILURE() << "no estimate in: " << r.out;
    return 0;
  }
  const std::string unit = m[2];
  const double scale = unit == "bytes" ? 1 : unit == "kB" ? 1e3 : unit == "MB" ? 1e6 : unit == "GB" ? 1e9 : 1e12;
  return std::stod(m[1]) * scale;
}

/// Runs the command (split at spaces) and returns its peak resident memory in bytes (wait4's ru_maxrss).
double peak_resident_bytes(const std::string& args) {
  std::vector<std::string> words{RNNSCOPE_CLI_PATH};
  std::istringstream in(args);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  int status = 0;
  rusage usage{};
  EXPECT_EQ(wait4(pid, &status, 0, &usage), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << args;
  return static_cast<double>(usage.ru_maxrss) * 1024;
}

TEST(CostCli, EstimatesAreWithinAFactorOfTheMeasuredPeak) {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's allocator (red zones, the quarantine of freed blocks) and its shadow memory change the peak
  // several times over, and its runs take minutes: the estimates are measured against the Release build.
  GTEST_SKIP() << "the peak resident memory under AddressSanitizer is not the program's";
#endif
  const auto dir = fresh_dir("cost_peak");
  // The program's own memory (code, libraries, buffers) is measured on a tiny run and taken off.
  const double base = peak_resident_bytes("lookback --T 10 --hidden 4 --batch 1 --seeds 1 --threads 1 --quiet --out " +
                                          (dir / "base").string());
  const std::vector<std::string> cases = {
      "lookback --cell lstm --T 20000 --hidden 64 --batch 4 --seeds 1",
      "lookback --cell rnn_tanh --T 40000 --hidden 128 --batch 8 --seeds 1",
      "lyapunov --cell gru --T 20000 --hidden 48 --batch 8 --seeds 1 --top 4",
      "contributions --cell rnn_tanh --T 800 --hidden 128 --batch 2 --seeds 1",
      "train --task adding --T 200 --cell lstm --hidden 64 --batch 500 --steps 2 --eval-size 4000",
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string args = c + " --threads 1 --quiet --out " + (dir / std::to_string(i++)).string();
    const double estimate = refused_estimate(args);
    const double measured = peak_resident_bytes(args) - base;
    ASSERT_GT(measured, 50e6) << c << ": too small a run to compare";
    std::printf("%s: estimated %.0f MB, measured %.0f MB (%.2f)\n", c.c_str(), estimate / 1e6, measured / 1e6,
                estimate / measured);
    EXPECT_GT(estimate / measured, 0.85) << c << ": estimate " << estimate << ", measured " << measured;
    EXPECT_LT(estimate / measured, 1.5) << c << ": estimate " << estimate << ", measured " << measured;
  }
  std::filesystem::remove_all(dir);
}

TEST(CostCli, MaxMemoryJustAboveTheEstimateRunsAndJustBelowIsRefusedWithTheEstimate) {
  const auto dir = fresh_dir("cost_limit");
  const std::string args = "lookback --T 3000 --hidden 32 --batch 4 --seeds 1 --quiet --out " + (dir / "a").string();
  const double estimate = refused_estimate(args);
  ASSERT_GT(estimate, 1e6);
  // bytes_text keeps two or three digits: 5 % either side is outside its rounding.
  const auto over = run(args + " --max-memory " + std::to_string(static_cast<long long>(estimate * 0.95)));
  EXPECT_EQ(over.code, 2) << over.out;
  EXPECT_NE(over.out.find("rnnscope: error: --T 3000, --batch 4 and --hidden 32 needs about"), std::string::npos)
      << over.out;
  EXPECT_NE(over.out.find("(--max-memory); lower --T, --batch or --hidden, or raise --max-memory"), std::string::npos)
      << over.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "a")) << "the folder was made before the refusal";
  const auto under = run(args + " --max-memory " + std::to_string(static_cast<long long>(estimate * 1.05)));
  EXPECT_EQ(under.code, 0) << under.out;
  std::filesystem::remove_all(dir);
}

TEST(CostCli, EveryKindOfWorkIsRefusedAboveItsLimit) {
  const auto dir = fresh_dir("cost_kinds");
  const std::string out = " --out " + (dir / "x").string() + " --max-memory 100k";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"activations --T 1000000", "--T 1000000 needs about"},
      {"lookback --T 1000", "--T 1000, --batch 4 and --hidden 32 needs about"},
      {"spectrum --hidden 512", "--hidden 512 needs about"},
      {"lyapunov --T 1000", "needs about"},
      {"contributions --T 300", "--T 300 and --hidden 32 needs about"},
      {"phase --T 1000", "needs about"},
      {"report --quick", "needs about"},
      {"train --task adding --T 100 --steps 10", "needs about"},
      {"learnability --cells lstm --inits pytorch --T 50 --seeds 1 --hidden 64 --steps 1 --eval-size 10 "
       "--batch 3000 --threads 1",
       "needs about"},
  };
  for (const auto& [args, expected] : cases) {
    const auto r = run(args + out);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << args << ": " << r.out;
    EXPECT_NE(r.out.find("the limit is 100 kB (--max-memory)"), std::string::npos) << args << ": " << r.out;
    EXPECT_FALSE(std::filesystem::exists(dir / "x")) << args;
  }
  // Commands without an output folder.
  const std::string model = (dir / "m.safetensors").string();
  auto r = run("init --cell lstm --hidden 16384 --layers 64 --out " + model);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--hidden 16384 and --layers 64 needs about"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("are available"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(model));
  std::filesystem::remove_all(dir);
}

TEST(CostCli, TheIssuesRequestsAreRefusedWithTheirEstimate) {
  const auto dir = fresh_dir("cost_issue");
  auto r = run("lookback --T 100000 --hidden 1024 --seeds 2 --batch 1000 --out " + (dir / "a").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(R"(--T 100000, --batch 1000 and --hidden 1024 needs about [0-9.]+ [GT]B of memory at its peak, )"
                 R"([0-9.]+ [kMGT]?B are available; lower --T, --batch or --hidden\n)")))
      << r.out;
  r = run("activations --T 100000000 --out " + (dir / "b").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("1..1000000"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

TEST(CostCli, BadMaxMemoryValuesAreNamed) {
  for (const std::string v : {"abc", "-1G", "0", "5X", "1e400", "G"}) {
    const auto r = run("lookback --T 5 --max-memory " + v + " --out /tmp/rnnscope_never_made");
    EXPECT_EQ(r.code, 2) << v << ": " << r.out;
    EXPECT_NE(r.out.find("--max-memory must be a size such as 4G"), std::string::npos) << v << ": " << r.out;
  }
  EXPECT_EQ(parse_bytes("4G"), 4e9);
  EXPECT_EQ(parse_bytes("500MB"), 500e6);
  EXPECT_EQ(parse_bytes("2GiB"), 2.0 * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_bytes("1.5k"), 1500);
  EXPECT_EQ(parse_bytes("123456"), 123456);
}

TEST(CostCli, EachSizeBoundStartsAtItsLimitAndIsRefusedJustPast) {
  const auto dir = fresh_dir("cost_bounds");
  struct Bound {
    std::string at, past, message;
  };
  const std::vector<Bound> bounds = {
      {"--hidden 1024 --T 2 --batch 1 --seeds 1", "--hidden 1025 --T 2 --batch 1 --seeds 1",
       "hidden must be in 1..1024"},
      {"--T 100000 --hidden 1 --batch 1 --seeds 1", "--T 100001 --hidden 1 --batch 1 --seeds 1",
       "T must be in 1..100000"},
      {"--batch 1000 --T 2 --hidden 2 --seeds 1", "--batch 1001 --T 2 --hidden 2 --seeds 1",
       "batch must be in 1..1000"},
      {"--seeds 1000 --T 2 --hidden 2 --batch 1", "--seeds 1001 --T 2 --hidden 2 --batch 1",
       "seeds must be in 1..1000"},
      {"--input-size 65536 --T 2 --hidden 2 --batch 1 --seeds 1",
       "--input-size 65537 --T 2 --hidden 2 --batch 1 --seeds 1", "input-size must be in 1..65536"},
  };
  int i = 0;
  for (const auto& b : bounds) {
    const auto at = run("lookback " + b.at + " --quiet --out " + (dir / std::to_string(i++)).string());
    EXPECT_EQ(at.code, 0) << b.at << ": " << at.out;
    const auto past = run("lookback " + b.past + " --quiet --out " + (dir / std::to_string(i++)).string());
    EXPECT_EQ(past.code, 2) << b.past << ": " << past.out;
    EXPECT_NE(past.out.find(b.message), std::string::npos) << b.past << ": " << past.out;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace rnnscope
