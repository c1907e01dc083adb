#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "commands.hpp"

namespace rnnscope::cli {

Progress::Progress(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1), run_start_(Clock::now()) {}

Progress::~Progress() { end(); }

void Progress::begin(const std::string& what, int units) {
  end();
  active_ = true;
  ++stage_;
  what_ = what;
  status_.clear();
  units_ = units > 0 ? units : 1;
  done_ = 0;
  stage_start_ = Clock::now();
  last_draw_ = Clock::time_point{};
  draw();
}

void Progress::advance(int n) {
  if (!active_) return;
  done_ = std::min(units_, done_ + n);
  // A terminal is redrawn at most ten times a second.
  if (tty_ && Clock::now() - last_draw_ > std::chrono::milliseconds(100)) draw();
}

void Progress::draw() {
  if (quiet_ || !tty_) return;
  last_draw_ = Clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - stage_start_).count();
  std::string left;
  if (done_ > 0 && done_ < units_)
    left = fmt::format(", about {:.0f} s left", elapsed / done_ * (units_ - done_));
  const std::string index = stages_ > 0 ? fmt::format("[{}/{}] ", stage_, stages_) : "";
  const std::string status = status_.empty() ? "" : ", " + status_;
  fmt::print(stderr, "\r\033[K{}{}: {}/{}{}{}", index, what_, done_, units_, status, left);
  std::fflush(stderr);
}

void Progress::status(const std::string& text) { status_ = text; }

void Progress::note(const std::string& line) {
  if (quiet_) return;
  if (tty_) {
    fmt::print(stderr, "\r\033[K{}\n", line);
    if (active_) draw();
  } else {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
}

void Progress::end() {
  if (!active_) return;
  active_ = false;
  if (quiet_) return;
  const double elapsed = std::chrono::duration<double>(Clock::now() - stage_start_).count();
  const double total = std::chrono::duration<double>(Clock::now() - run_start_).count();
  const std::string index = stages_ > 0 ? fmt::format("[{}/{}] ", stage_, stages_) : "";
  const std::string line = fmt::format("{}{}: done in {:.1f} s ({:.1f} s so far)", index, what_, elapsed, total);
  if (tty_)
    fmt::print(stderr, "\r\033[K{}\n", line);
  else
    fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
}

StoppableProgress::StoppableProgress(bool quiet, std::string stopped)
    : Progress(quiet), stopped_(std::move(stopped)) {}

void StoppableProgress::advance(int n) {
  Progress::advance(n);
  if (StopSignals::requested()) throw Interrupted(stopped_);
}

void StoppableProgress::stop_if_requested(const std::string& message) const {
  if (StopSignals::requested()) throw Interrupted(message);
}

}  // namespace rnnscope::cli
