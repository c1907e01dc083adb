// The processes of a build with MPI (processes.hpp, docs/distributed.md).
//
// MPI is joined only when a launcher started this process (mpirun sets
// OMPI_COMM_WORLD_SIZE; other launchers PMIX_RANK or PMI_RANK), so that
// `rnnscope` run by hand behaves as a build without MPI. Only the main
// thread calls MPI (MPI_THREAD_FUNNELED).
#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../cli/processes.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/io/learnability_files.hpp"

namespace rnnscope::cli {

namespace {

bool g_joined = false;
int g_rank = 0, g_size = 1;
bool g_started = false;

bool launched_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

/// MPI calls return MPI_SUCCESS or (with MPI_ERRORS_RETURN) a code; the
/// default handler, MPI_ERRORS_ARE_FATAL, ends the job with MPI's message.
void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(fmt::format("{} failed: {}", what, std::string(text, static_cast<size_t>(length))));
}

// The sums of Collective::sum as a non-commutative operation: MPI then
// combines the operands in rank order (MPI 4.0, section 6.9.1), and Open MPI
// picks its reduction's bracketing from the number of processes and the
// message's size alone, so the same inputs on the same number of processes
// give the same bits (docs/distributed.md).
template <class T>
void add_in_rank_order(void* in, void* inout, int* length, MPI_Datatype*) {
  const T* a = static_cast<const T*>(in);
  T* b = static_cast<T*>(inout);
  for (int i = 0; i < *length; ++i) b[i] = a[i] + b[i];
}

class MpiCollective final : public Collective {
 public:
  MpiCollective() {
    MPI_Op_create(&add_in_rank_order<double>, 0, &sum_double_);
    MPI_Op_create(&add_in_rank_order<float>, 0, &sum_float_);
  }
  ~MpiCollective() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    MPI_Op_free(&sum_double_);
    MPI_Op_free(&sum_float_);
  }
  int rank() const override { return g_rank; }
  int size() const override { return g_size; }
  void sum(double* values, std::size_t n) override { sum_in_chunks(values, n, MPI_DOUBLE, sum_double_); }
  void sum(float* values, std::size_t n) override { sum_in_chunks(values, n, MPI_FLOAT, sum_float_); }
  std::vector<std::uint64_t> gather(std::uint64_t value) override {
    std::vector<std::uint64_t> all(static_cast<size_t>(g_size));
    check(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
    return all;
  }

 private:
  template <class T>
  static void sum_in_chunks(T* values, std::size_t n, MPI_Datatype type, MPI_Op op) {
    for (std::size_t at = 0; at < n; at += INT_MAX) {
      const int count = static_cast<int>(std::min<std::size_t>(INT_MAX, n - at));
      check(MPI_Allreduce(MPI_IN_PLACE, values + at, count, type, op, MPI_COMM_WORLD), "MPI_Allreduce");
    }
  }
  MPI_Op sum_double_ = MPI_OP_NULL, sum_float_ = MPI_OP_NULL;
};

std::unique_ptr<MpiCollective> g_collective;

}  // namespace

Processes::Processes(int& argc, char**& argv) {
  if (!launched_by_mpirun()) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  g_joined = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  if (g_size > 1) g_collective = std::make_unique<MpiCollective>();
  // Each process's default threads: its share of this host's cores, so that
  // N processes on one machine do not run N times as many threads as cores.
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const int here = local != nullptr ? std::max(1, std::atoi(local)) : 1;
#ifdef _OPENMP
  if (std::getenv("OMP_NUM_THREADS") == nullptr)
    omp_set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / here));
#else
  (void)here;
#endif
}

Processes::~Processes() {
  if (!g_joined) return;
  g_collective.reset();
  MPI_Finalize();
}

int Processes::rank() { return g_rank; }
int Processes::size() { return g_size; }
Collective* Processes::collective() { return g_collective.get(); }
bool Processes::started() { return g_started; }

void Processes::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (g_joined) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

std::string Processes::mpi_version() {
#if defined(OPEN_MPI)
  return fmt::format("MPI: Open MPI {}.{}.{}", OMPI_MAJOR_VERSION, OMPI_MINOR_VERSION, OMPI_RELEASE_VERSION);
#else
  return fmt::format("MPI: {}.{}", MPI_VERSION, MPI_SUBVERSION);
#endif
}

void Processes::agree(const std::function<void()>& first) {
  if (!distributed()) {
    first();
    return;
  }
  int code = 0;
  std::exception_ptr error;
  if (g_rank == 0) {
    try {
      first();
    } catch (...) {
      error = std::current_exception();
      code = exit_code_of(error);
    }
  }
  check(MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
  if (error) std::rethrow_exception(error);
  if (code != 0) throw QuietExit{code};
  g_started = true;
}

std::string Processes::broadcast(const std::string& text) {
  if (!distributed()) return text;
  unsigned long long length = text.size();
  check(MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  std::string out = g_rank == 0 ? text : std::string(static_cast<size_t>(length), '\0');
  for (size_t at = 0; at < length; at += INT_MAX) {
    const int count = static_cast<int>(std::min<size_t>(INT_MAX, length - at));
    check(MPI_Bcast(out.data() + at, count, MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  return out;
}

// ---------------------------------------------------------------------------
// The learnability study over the processes.
//
// Messages: a process sends kReady when it starts, then kRow (the run's rows
// of runs.csv and blocks.csv, the files' own round-tripping text) after each
// run, or kFailed (a message) when a run threw; process 0 answers each kReady
// or kRow with kRun (the run's index in the grid) or kDone.

namespace {

enum Tag : int { kReady = 1, kRow = 2, kFailed = 3, kRun = 4, kDone = 5 };

std::string receive_text(int source, int tag, MPI_Status& status) {
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  std::string text(static_cast<size_t>(count), '\0');
  check(MPI_Recv(text.data(), count, MPI_CHAR, source, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  return text;
}

void send_text(const std::string& text, int dest, int tag) {
  check(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD), "MPI_Send");
}

std::string row_message(const LearnabilitySpec& spec, const LearnabilityRow& row) {
  return runs_table(spec, {row}).to_string() + '\f' + blocks_table({row}).to_string();
}

LearnabilityRow row_of_message(const LearnabilitySpec& spec, const std::string& text, int source) {
  const auto split = text.find('\f');
  require(split != std::string::npos, fmt::format("process {} sent a malformed row", source));
  auto rows = read_learnability_rows(spec, text.substr(0, split), text.substr(split + 1));
  require(rows.size() == 1, fmt::format("process {} sent {} rows for one run", source, rows.size()));
  return std::move(rows.front());
}

/// What process 0's own worker thread shares with its main thread.
struct Shared {
  std::mutex mutex;
  std::deque<LearnabilityRun> queue;  // longest first
  std::vector<LearnabilityRow> finished;
  std::exception_ptr error;
  std::atomic<bool> stop{false}, done{false};
};

}  // namespace

std::vector<LearnabilityRow> lead_learnability(const LearnabilitySpec& spec, const std::vector<LearnabilityRun>& runs,
                                               const LearnabilityHooks& hooks) {
  auto shared = std::make_shared<Shared>();
  std::vector<LearnabilityRun> sorted = runs;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const LearnabilityRun& a, const LearnabilityRun& b) { return a.T > b.T; });
  shared->queue.assign(sorted.begin(), sorted.end());
  const auto take = [shared]() -> std::optional<LearnabilityRun> {
    std::lock_guard lock(shared->mutex);
    if (shared->stop || shared->error || shared->queue.empty()) return std::nullopt;
    LearnabilityRun r = shared->queue.front();
    shared->queue.pop_front();
    return r;
  };
  // Process 0's own runs, on a thread of their own: its main thread stays
  // free to answer the others at once. The thread owns what it reads, as a
  // failure elsewhere leaves it running until the job is ended.
  auto own_spec = std::make_shared<const LearnabilitySpec>(spec);
  std::thread own([shared, own_spec, take] {
    const LearnabilitySpec& study = *own_spec;
    try {
      ThreadScope one(Execution{1, nullptr});
      while (const auto run = take()) {
        LearnabilityRow row = LearnabilityStudy::run(study, *run);
        std::lock_guard lock(shared->mutex);
        shared->finished.push_back(std::move(row));
      }
    } catch (...) {
      std::lock_guard lock(shared->mutex);
      shared->error = std::current_exception();
    }
    shared->done = true;
  });
  std::vector<LearnabilityRow> done;
  const auto deliver = [&](LearnabilityRow row) {
    if (hooks.on_row) hooks.on_row(row);
    done.push_back(std::move(row));
  };
  const auto drain_own = [&] {
    std::vector<LearnabilityRow> rows;
    {
      std::lock_guard lock(shared->mutex);
      rows.swap(shared->finished);
    }
    for (auto& r : rows) deliver(std::move(r));
    return !rows.empty();
  };
  try {
    int serving = g_size - 1;  // processes not yet told kDone
    while (serving > 0 || !shared->done) {
      if (hooks.stop_requested && hooks.stop_requested()) shared->stop = true;
      bool busy = drain_own();
      {
        std::lock_guard lock(shared->mutex);
        if (shared->error) std::rethrow_exception(shared->error);
      }
      int waiting = 0;
      MPI_Status status;
      check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &waiting, &status), "MPI_Iprobe");
      if (waiting) {
        busy = true;
        const int source = status.MPI_SOURCE, tag = status.MPI_TAG;
        const std::string text = receive_text(source, tag, status);
        if (tag == kFailed) {  // "<exit code>\n<reason>"
          const auto cut = text.find('\n');
          const int code = cut == std::string::npos ? 1 : std::atoi(text.substr(0, cut).c_str());
          throw ProcessFailed(code, fmt::format("process {} failed: {}", source, text.substr(cut + 1)));
        }
        if (tag == kRow) deliver(row_of_message(spec, text, source));
        if (const auto run = take()) {
          const long long task = static_cast<long long>(run->task);
          check(MPI_Send(&task, 1, MPI_LONG_LONG, source, kRun, MPI_COMM_WORLD), "MPI_Send");
        } else {
          check(MPI_Send(nullptr, 0, MPI_LONG_LONG, source, kDone, MPI_COMM_WORLD), "MPI_Send");
          --serving;
        }
      }
      if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    own.join();
    drain_own();
    if (shared->error) std::rethrow_exception(shared->error);
  } catch (...) {
    // The job ends (main.cpp aborts it); the thread may be inside a run.
    shared->stop = true;
    own.detach();
    throw;
  }
  return done;
}

void serve_learnability(const LearnabilitySpec& spec) {
  const auto grid = LearnabilityStudy::tasks(spec);
  ThreadScope one(Execution{1, nullptr});
  send_text("", 0, kReady);
  for (;;) {
    long long task = 0;
    MPI_Status status;
    check(MPI_Recv(&task, 1, MPI_LONG_LONG, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &status), "MPI_Recv");
    if (status.MPI_TAG == kDone) return;
    require(task >= 0 && static_cast<size_t>(task) < grid.size(), "process 0 handed out a run outside the grid");
    std::string reply;
    int tag = kRow;
    try {
      reply = row_message(spec, LearnabilityStudy::run(spec, grid[static_cast<size_t>(task)]));
    } catch (...) {
      const Failure f = describe_failure(std::current_exception());
      std::string reason = f.message;
      for (const std::string prefix : {"rnnscope: ", "error: "})
        if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
      reply = fmt::format("{}\nrun {}: {}", f.code, task, reason);
      tag = kFailed;
    }
    send_text(reply, 0, tag);
    if (tag == kFailed) {
      // Process 0 ends the job; wait for it.
      for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace rnnscope::cli
