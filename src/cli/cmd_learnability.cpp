// rnnscope learnability: a grid of training runs (cells and initialisations x
// lengths x seeds) on a task, the share that learn, and the gradient flow at
// initialisation beside each run (studies/learnability.hpp). Each finished
// run's row is written at once (runs.csv, blocks.csv, atomically); SIGINT and
// SIGTERM stop after the runs in progress; --resume DIR runs only the missing
// runs and ends with the same tables as an uninterrupted study.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "commands.hpp"
#include "common.hpp"
#include "processes.hpp"
#include "stop_signals.hpp"
#include "training_options.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/io/learnability_files.hpp"
#include "rnnscope/report/learnability.hpp"

namespace rnnscope::cli {

namespace {

namespace fs = std::filesystem;

struct Options {
  RunOptions run;
  TrainingOptions train;
  std::string task = "adding", resume;
  std::vector<std::string> cells = {"lstm", "gru", "rnn_tanh", "rnn_relu", "rnn_residual", "rnn_skip"};
  std::vector<std::string> inits = {"lstm:pytorch",      "gru:pytorch",          "rnn_tanh:pytorch",
                                    "rnn_tanh:orthogonal", "rnn_relu:identity",  "rnn_residual:pytorch",
                                    "rnn_skip:pytorch"};
  std::vector<Index> lengths = {10, 30, 100, 300};
  Index lag = -1;
  int seeds = 3;

  Options() {
    // A run of the default grid: small enough that the grid takes minutes
    // (docs/learnability.md), large enough that the LSTM learns T = 100.
    train.hidden = 64;
    train.steps = 2000;
    train.eval_size = 200;
  }
};

LearnabilitySpec spec_of(const Options& o, const CLI::App* cmd) {
  LearnabilitySpec s;
  const bool chrono = std::any_of(o.inits.begin(), o.inits.end(), [](const std::string& i) {
    return i == "chrono" || (i.size() > 7 && i.ends_with(":chrono"));
  });
  s.train = training_spec(o.train, cmd, chrono);
  s.train.task.kind = parse_task(o.task);
  s.train.task.lag = o.lag;
  s.arms = parse_arms(o.cells, o.inits);
  s.lengths = o.lengths;
  s.seeds = o.seeds;
  s.f64 = o.train.dtype == "f64";
  std::vector<CellKind> cells;
  std::vector<Init> inits;
  for (const auto& a : s.arms) {
    cells.push_back(a.cell);
    inits.push_back(a.init);
  }
  refuse_inert_options(cmd, cells, inits, s.train.model.bias);
  s.validate();
  return s;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The command line that runs this study from scratch.
std::string command_line(const LearnabilitySpec& spec, const std::string& out) {
  std::string cells, inits, lengths;
  for (const auto& a : spec.arms) {
    const std::string cell(to_string(a.cell));
    if (cells.find(cell) == std::string::npos) cells += (cells.empty() ? "" : ",") + cell;
    inits += (inits.empty() ? "" : ",") + cell + ":" + a.init_name();
  }
  for (const Index T : spec.lengths) lengths += (lengths.empty() ? "" : ",") + std::to_string(T);
  const TrainSpec& t = spec.train;
  // The cell shapes of the cells in the grid.
  std::string shape;
  const auto has = [&](CellKind k) {
    return std::any_of(spec.arms.begin(), spec.arms.end(), [&](const LearnabilityArm& a) { return a.cell == k; });
  };
  if (has(CellKind::ctrnn)) shape += fmt::format(" --dt {:g}", t.model.dt);
  if (has(CellKind::rnn_skip)) shape += fmt::format(" --skip {}", t.model.skip);
  if (has(CellKind::rnn_antisymmetric))
    shape += fmt::format(" --cell-eps {:g} --cell-gamma {:g}", t.model.eps, t.model.gamma);
  return fmt::format(
      "rnnscope learnability --task {} --cells {} --inits {} --T {} --seeds {} --hidden {} --steps {} --lr {:g} "
      "--batch {} --eval-size {}{} --out {}",
      to_string(t.task.kind), cells, inits, lengths, spec.seeds, t.model.hidden_size, t.steps, t.optimizer.lr,
      t.batch, t.eval_size, shape, out);
}

/// A process other than 0 of a distributed study: runs what process 0 hands out.
void serve(const std::string& spec_json) {
  const LearnabilitySpec spec = learnability_spec_from_json(nlohmann::json::parse(spec_json));
  StopSignals signals;  // process 0 decides when to stop: a run in progress is finished
  serve_learnability(spec);
}

/// The runs at once: one a process under mpirun, else --threads (0: OMP_NUM_THREADS, else every core).
int workers_of(const Options& o) {
#ifdef _OPENMP
  const int processors = omp_get_max_threads();  // OMP_NUM_THREADS, else every core
#else
  const int processors = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#endif
  return Processes::distributed() ? Processes::size() : o.run.threads > 0 ? o.run.threads : processors;
}

/// Reads the study to resume, or validates the options and creates the
/// folder (process 0).
void prepare(const Options& o, const CLI::App* cmd, LearnabilitySpec& spec, std::vector<LearnabilityRow>& rows,
             std::optional<OutputFolder>& out) {
  execution(o.run).validate();  // --threads, before the folder is touched
  if (Processes::distributed())
    require(!given(cmd, "--threads"),
            fmt::format("--threads: over mpirun's {} processes each runs one run at a time on one thread; start more "
                        "processes (-np) to run more at once",
                        Processes::size()));
  if (!o.resume.empty()) {
    refuse_with_resume(cmd, {"--threads", "--quiet", "--max-memory"}, "study");
    const fs::path dir = o.resume;
    require(fs::exists(dir / "study.json"), fmt::format("--resume {}: no study.json there", o.resume));
    try {
      spec = learnability_spec_from_json(nlohmann::json::parse(read_text(dir / "study.json")));
    } catch (const nlohmann::json::exception& e) {
      throw InvalidInput(fmt::format("--resume {}: study.json is not JSON ({})", o.resume, e.what()));
    } catch (const InvalidInput& e) {
      throw InvalidInput(fmt::format("--resume {}: study.json: {}", o.resume, e.what()));
    }
    // A study killed after study.json and before its first rows has no runs.csv (blocks.csv is written
    // first and never after runs.csv's rows): nothing is done yet.
    try {
      if (fs::exists(dir / "runs.csv"))
        rows = read_learnability_rows(spec, read_text(dir / "runs.csv"), read_text(dir / "blocks.csv"));
    } catch (const InvalidInput& e) {
      throw InvalidInput(fmt::format("--resume {}: {}", o.resume, e.what()));
    }
    out.emplace(OutputFolder::reopen(dir));
  } else {
    spec = spec_of(o, cmd);
    // The runs at once against --max-memory, before the folder is touched (run_learnability tells the time).
    check_cost(learnability_cost(spec, LearnabilityStudy::tasks(spec), workers_of(o)), execution(o.run));
    out.emplace(o.run.out, o.run.force);
    out->file("study.json", to_json(spec).dump(2) + "\n");
  }
}

/// Runs the study's missing runs and writes its tables (process 0).
void study(const Options& o, const LearnabilitySpec& spec, std::vector<LearnabilityRow>& rows, OutputFolder& out) {
  const auto grid = LearnabilityStudy::tasks(spec);
  std::vector<bool> done(grid.size(), false);
  for (const auto& r : rows) done[r.task] = true;
  std::vector<LearnabilityRun> pending;
  for (const auto& g : grid)
    if (!done[g.task]) pending.push_back(g);

  const auto save = [&] {
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.task < b.task; });
    // blocks.csv first: a runs.csv row always finds its blocks (a resume drops
    // blocks of a run whose row was not written).
    out.table("blocks.csv", blocks_table(rows));
    out.table("runs.csv", runs_table(spec, rows));
  };
  save();

  Progress progress(o.run.quiet);
  const bool distributed = Processes::distributed();
  const int workers = workers_of(o);
  const int first_solved = static_cast<int>(std::count_if(rows.begin(), rows.end(), [](auto& r) { return r.solved; }));
  int solved = first_solved, finished = static_cast<int>(rows.size());
  if (!rows.empty())
    progress.note(fmt::format("resuming: {} of {} runs done, {} to run", rows.size(), grid.size(), pending.size()));
  if (distributed && static_cast<std::size_t>(workers) > pending.size())
    progress.note(fmt::format("{} processes for {} run{}: {} will have none", workers, pending.size(),
                              pending.size() == 1 ? "" : "s", static_cast<std::size_t>(workers) - pending.size()));
  progress.begin(fmt::format("runs on {} {}{}", workers, distributed ? "process" : "worker",
                             workers == 1 ? "" : distributed ? "es" : "s"),
                 static_cast<int>(std::max<std::size_t>(1, pending.size())));
  StopSignals signals;
  LearnabilityHooks hooks;
  hooks.stop_requested = [] { return StopSignals::requested(); };
  hooks.progress = &progress;
  hooks.on_row = [&](const LearnabilityRow& r) {
    rows.push_back(r);
    save();
    ++finished;
    solved += r.solved ? 1 : 0;
    progress.note(fmt::format("run {}/{} {}/{} T={} seed {}: {} ({:.1f} s); {} solved so far", finished, grid.size(),
                              r.cell, r.init, r.T, r.seed,
                              r.solved ? fmt::format("solved at step {}", *r.solved_at) : r.end, r.seconds, solved));
    progress.status(fmt::format("{} solved", solved));
    progress.advance(1);
  };
  if (distributed)
    lead_learnability(spec, pending, hooks);
  else
    run_learnability(spec, pending, workers, hooks, execution(o.run).max_memory);
  progress.end();

  if (rows.size() < grid.size())
    throw Interrupted(fmt::format("stopped with {} of {} runs done (their rows are in {}); continue with: rnnscope "
                                  "learnability --resume {}",
                                  rows.size(), grid.size(), (out.dir() / "runs.csv").string(),
                                  out.dir().string()));
  const LearnabilityResult result = LearnabilityStudy::reduce(spec, rows);
  Section s = learnability_section(out, spec, result, "", command_line(spec, out.dir().string()));
  s.html.tables.insert(s.html.tables.begin(), {"runs.csv", "blocks.csv", "study.json"});
  s.summary["study"] = to_json(spec);
  nlohmann::json facts = {{"command", "learnability"},
                          {"task", std::string(to_string(spec.train.task.kind))},
                          {"runs", grid.size()},
                          {"seeds", spec.seeds},
                          {"hidden", spec.train.model.hidden_size},
                          {"steps", spec.train.steps},
                          {"lr", spec.train.optimizer.lr},
                          {"optimizer", std::string(to_string(spec.train.optimizer.kind))},
                          {"batch", spec.train.batch},
                          {distributed ? "processes" : "workers", workers},
                          {"dtype", spec.f64 ? "f64" : "f32"},
                          {"seed", spec.train.seed}};
  write_index(out, "rnnscope learnability", s.html.title, facts, {s});
  print_sections({s}, out);
}

void run(const Options& o, const CLI::App* cmd) {
  if (Processes::rank() != 0) {
    Processes::agree({});
    serve(Processes::broadcast({}));
    return;
  }
  LearnabilitySpec spec;
  std::vector<LearnabilityRow> rows;
  std::optional<OutputFolder> out;
  Processes::agree([&] { prepare(o, cmd, spec, rows, out); });
  Processes::broadcast(to_json(spec).dump());
  study(o, spec, rows, *out);
}

}  // namespace

void register_learnability(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "learnability",
      "a grid of training runs (cells and initialisations x lengths x seeds) on a long-range task: the share that "
      "learn, the steps they took, and the gradient flow at initialisation beside each run; resumable");
  cmd->add_option("--task", o->task, "adding, copy or recall")->capture_default_str();
  cmd->add_option("--cells", o->cells, "cells, comma-separated")->delimiter(',')->capture_default_str();
  cmd->add_option("--inits", o->inits,
                  "initialisations, comma-separated: pytorch, xavier, orthogonal, identity, scaled, critical or chrono "
                  "for every cell, or cell:init for one")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--T", o->lengths, "sequence lengths, comma-separated (copy: the delays)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--lag", o->lag, "recall: the target is the input lag steps before the last (default T - 1)");
  cmd->add_option("--seeds", o->seeds, "runs of each cell, init and length, with seeds --seed, --seed + 1, ...")
      ->capture_default_str();
  add_training_options(cmd, o->train, "training steps of each run at most (a run stops once solved)");
  cmd->add_option("--resume", o->resume, "continue the study in this folder (runs only the missing runs)");
  add_run_options(cmd, o->run, "learnability_out");
  cmd->get_option("--threads")
      ->description("runs at once, one thread each (0: OMP_NUM_THREADS, else every core)");
  cmd->callback([o, cmd] { run(*o, cmd); });
}

}  // namespace rnnscope::cli
