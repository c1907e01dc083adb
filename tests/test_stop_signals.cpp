// SIGINT and SIGTERM during a study command or the report: the command stops
// after the task in progress, exits 130 or 143 with a line saying what its
// folder holds, and the folder is one that --force takes (docs/reliability.md).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "cli_testing.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using cli_testing::fresh_dir;

struct Stopped {
  int code = -1;
  std::string out;
};

/// Starts `rnnscope ARGS`, sends it `sig` once `folder` exists (the work has begun) and `delay` has passed,
/// and returns its exit code and output.
/// The names in a folder.
std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

Stopped stop(const std::string& args, const fs::path& folder, int sig, std::chrono::milliseconds delay) {
  const fs::path log = folder.string() + ".log";
  const std::string command = std::string("exec ") + RNNSCOPE_CLI_PATH + " " + args + " > " + log.string() + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(folder / ".rnnscope-output.json") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(delay);
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), text.str()};
}

TEST(StopSignals, AStudyStopsAfterItsTaskWithItsFolderReadyForForce) {
  const fs::path dir = fresh_dir("stop_study");
  fs::create_directories(dir);
  const fs::path out = dir / "lookback";
  // 200 seeds of a second or so each: the signal comes mid-study.
  const std::string args = "lookback --T 20000 --hidden 48 --seeds 200 --batch 4 --threads 1 --quiet --out ";
  for (const int sig : {SIGTERM, SIGINT}) {
    fs::remove_all(out);
    const Stopped s = stop(args + out.string(), out, sig, std::chrono::milliseconds(500));
    EXPECT_EQ(s.code, 128 + sig) << s.out;
    EXPECT_NE(s.out.find("rnnscope: stopped before the results were complete: " + out.string() +
                         " holds nothing but its marker; run the command again with --force to start over"),
              std::string::npos)
        << s.out;
    EXPECT_EQ(names_in(out), std::set<std::string>{".rnnscope-output.json"}) << "a stopped study wrote files";
  }
  const auto again = cli_testing::run("lookback --T 20 --seeds 2 --quiet --force --out " + out.string());
  EXPECT_EQ(again.code, 0) << again.out;
  fs::remove_all(dir);
}

TEST(StopSignals, TheReportStopsBetweenItsStudiesWithExit130) {
  const fs::path dir = fresh_dir("stop_report");
  fs::create_directories(dir);
  const fs::path out = dir / "report";
  const Stopped s = stop("report --T 400 --hidden 48 --seeds 20 --batch 4 --threads 1 --quiet --out " + out.string(),
                         out, SIGINT, std::chrono::milliseconds(500));
  EXPECT_EQ(s.code, 130) << s.out;
  EXPECT_NE(s.out.find("holds nothing but its marker; run the command again with --force"), std::string::npos)
      << s.out;
  EXPECT_EQ(names_in(out), std::set<std::string>{".rnnscope-output.json"});
  fs::remove_all(dir);
}

}  // namespace
