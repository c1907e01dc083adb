#include "rnnscope/core/cost.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "rnnscope/core/execution.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace rnnscope {

namespace {

/// "--T 100000, --batch 1000 and --hidden 1024" / "lower --T, --batch or --hidden".
std::string joined(const std::vector<std::string>& parts, const std::string& last_word) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) s += i + 1 == parts.size() ? " " + last_word + " " : ", ";
    s += parts[i];
  }
  return s;
}

std::string number_text(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:g}", v);
}

}  // namespace

Cost then(Cost first, const Cost& second) {
  if (second.bytes > first.bytes) {
    first.bytes = second.bytes;
    first.sizes = second.sizes;
  }
  first.flops += second.flops;
  first.products += second.products;
  return first;
}

Cost times(Cost c, double count) {
  c.bytes *= count;
  c.flops *= count;
  c.products *= count;
  return c;
}

namespace {

/// The first number in a file, or -1 (missing, "max", unreadable).
double number_in(const std::string& path) {
  std::ifstream in(path);
  double v = -1;
  if (!(in >> v)) return -1;
  return v;
}

/// The memory the process's cgroup may still take (v2 memory.max - memory.current, or v1's limit - usage); -1 if
/// there is no limit.
double cgroup_room() {
  const double v2 = number_in("/sys/fs/cgroup/memory.max");
  if (v2 > 0) return std::max(0.0, v2 - std::max(0.0, number_in("/sys/fs/cgroup/memory.current")));
  const double v1 = number_in("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  if (v1 > 0 && v1 < 1e18)
    return std::max(0.0, v1 - std::max(0.0, number_in("/sys/fs/cgroup/memory/memory.usage_in_bytes")));
  return -1;
}

}  // namespace

double available_memory() {
  double available = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream in(line);
    std::string key;
    double kib = 0;
    if (in >> key >> kib && key == "MemAvailable:") available = kib * 1024;
  }
  if (available <= 0) {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    available = pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0;
  }
  // A container's limit, and the address space the process may still map (ulimit -v).
  const double room = cgroup_room();
  if (room >= 0 && (available <= 0 || room < available)) available = room;
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const double mapped = number_in("/proc/self/statm") * static_cast<double>(sysconf(_SC_PAGESIZE));
    const double left = std::max(0.0, static_cast<double>(limit.rlim_cur) - std::max(0.0, mapped));
    if (available <= 0 || left < available) available = left;
  }
  return available;
}

double estimated_seconds(const Cost& cost, int threads) {
  int n = threads;
#ifdef _OPENMP
  if (n <= 0) n = omp_get_max_threads();
#endif
  if (n <= 0) n = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  return (cost.flops / kFlopsPerSecondPerThread + cost.products / kProductsPerSecondPerThread) / n;
}

std::string bytes_text(double bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  double v = bytes;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f} bytes", v);
  return v < 10 ? fmt::format("{:.1f} {}", v, units[u]) : fmt::format("{:.0f} {}", v, units[u]);
}

std::string seconds_text(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f} s", std::max(seconds, 1.0));
  if (seconds < 3600) return fmt::format("about {:.0f} min", seconds / 60);
  if (seconds < 48 * 3600) return fmt::format("about {:.1f} h", seconds / 3600);
  return fmt::format("about {:.0f} days", seconds / 86400);
}

MemoryLimitExceeded::MemoryLimitExceeded(Cost cost, double limit, bool limit_given)
    : InvalidInput(compose(cost, limit, limit_given, "", "max_memory")),
      cost_(std::move(cost)),
      limit_(limit),
      limit_given_(limit_given) {}

std::string MemoryLimitExceeded::message(const std::string& prefix, const std::string& limit_option) const {
  return compose(cost_, limit_, limit_given_, prefix, limit_option);
}

std::string MemoryLimitExceeded::compose(const Cost& cost, double limit, bool limit_given, const std::string& prefix,
                                         const std::string& limit_option) {
  std::vector<std::string> given, names;
  for (const auto& [name, value] : cost.sizes) {
    given.push_back(fmt::format("{}{} {}", prefix, name, number_text(value)));
    names.push_back(prefix + name);
  }
  const std::string what = given.empty() ? std::string("this request") : joined(given, "and");
  const std::string limit_text = limit_given ? fmt::format("the limit is {} ({})", bytes_text(limit), limit_option)
                                             : fmt::format("{} {} available", bytes_text(limit), "are");
  std::string advice = names.empty() ? std::string("use smaller sizes") : "lower " + joined(names, "or");
  if (limit_given) advice += fmt::format(", or raise {}", limit_option);
  return fmt::format("{} needs about {} of memory at its peak, {}; {}", what, bytes_text(cost.bytes), limit_text,
                     advice);
}

double parse_bytes(const std::string& text, const std::string& option) {
  const auto bad = [&] {
    return InvalidInput(
        fmt::format("{} must be a size such as 4G, 500M or 2GiB (k, M, G, T: powers of 1000; Ki, "
                    "Mi, Gi, Ti: of 1024), got '{}'",
                    option, text));
  };
  std::size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  double factor = 0;
  if (unit.empty()) factor = 1;
  for (const auto& [name, f] : std::vector<std::pair<std::string, double>>{{"k", 1e3},
                                                                           {"K", 1e3},
                                                                           {"M", 1e6},
                                                                           {"G", 1e9},
                                                                           {"T", 1e12},
                                                                           {"Ki", 1024.0},
                                                                           {"Mi", 1048576.0},
                                                                           {"Gi", 1073741824.0},
                                                                           {"Ti", 1099511627776.0}})
    if (unit == name) factor = f;
  if (factor == 0 || !std::isfinite(number) || number <= 0) throw bad();
  return number * factor;
}

void check_cost(const Cost& cost, const Execution& execution) {
  execution.validate();
  const bool given = execution.max_memory > 0;
  const double limit = given ? execution.max_memory : available_memory();
  if (limit > 0 && cost.bytes > limit) throw MemoryLimitExceeded(cost, limit, given);
  const double seconds = estimated_seconds(cost, execution.threads);
  if (seconds > kAnnounceSeconds && execution.progress)
    execution.progress->note(fmt::format("estimated: {} and {} of memory at the peak", seconds_text(seconds),
                                         bytes_text(cost.bytes)));
}

}  // namespace rnnscope
