// Options shared by the subcommands, and their translation to the library's
// specs and execution. The library validates the specs; the CLI only parses.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "progress.hpp"
#include "rnnscope/report/sections.hpp"
#include "rnnscope/core/execution.hpp"
#include "rnnscope/studies/network.hpp"

namespace rnnscope::cli {

/// What every subcommand that writes a folder takes.
struct RunOptions {
  std::string out;
  int threads = 0;  // 0: OMP_NUM_THREADS, else every core
  bool quiet = false;
  bool force = false;
  std::string max_memory;  // --max-memory as given; empty: the available memory
};

/// Adds --max-memory to a command that has no output folder (its RunOptions carry it otherwise).
void add_max_memory_option(CLI::App* cmd, std::string& max_memory);

/// Adds --out --quiet --force --max-memory, and --threads where the command has parallel work.
void add_run_options(CLI::App* cmd, RunOptions& o, const std::string& default_out, bool threads = true);
/// Adds --seed.
void add_seed_option(CLI::App* cmd, std::uint64_t& seed);

/// The library's execution for --threads and --max-memory, telling `progress` (validated: InvalidInput on a
/// bad count or size).
Execution execution(const RunOptions& o, ProgressSink* progress = nullptr);

/// The options that shape one kind of cell: --dt (ctrnn), --skip (rnn_skip),
/// --eps and --gamma (rnn_antisymmetric; --cell-eps and --cell-gamma are their
/// other names, and the only ones in train and learnability, where --eps is
/// the optimiser's epsilon as in torch.optim).
struct CellShape {
  double dt = 0.1;
  Index skip = 10;
  double eps = 0.1;
  double gamma = 0.01;
};

/// Adds the options of CellShape; `optimizer_eps`: --eps is taken by the optimiser.
void add_cell_shape_options(CLI::App* cmd, CellShape& o, bool optimizer_eps = false);

/// The options of a study over random networks.
struct NetworkOptions : RunOptions {
  std::uint64_t seed = 1;
  std::string cell = "rnn_tanh";
  int hidden = 32;
  int input_size = 4;
  int steps = 100;
  std::string init = "pytorch";
  double scale = 1.0;
  CellShape shape;
  double forget_bias = 0.0;
  int seeds = 5;
  int batch = 4;
};

/// Adds --cell --hidden --init --scale, the cell shape (--dt --skip --eps
/// --gamma), --seed and the run options; with `sequences` (studies that run
/// the network) also --forget-bias --input-size --T --seeds --batch, which
/// change only what the network does on sequences, not its recurrent matrices
/// (--T up to `max_steps`, the command's own limit, said in its help).
void add_network_options(CLI::App* cmd, NetworkOptions& o, const std::string& default_out, bool sequences = true,
                         int max_steps = 100000);

/// The model spec of a subcommand's --cell, --input-size, --hidden, --layers,
/// --no-bias and cell shape (InvalidInput naming an unknown cell).
ModelSpec model_spec(const std::string& cell, int input_size, int hidden, int layers = 1, bool bias = true,
                     const CellShape& shape = {});
/// Writes the cell shape into a model spec.
void apply_cell_shape(const CellShape& shape, ModelSpec& spec);

/// Whether the option was given on the command line (false for an option the command does not have).
bool given(const CLI::App* cmd, const std::string& name);

/// With --resume: refuses (InvalidInput) every option given but --resume,
/// --help and `allowed`, as the resumed work (`what`: "run", "study") keeps
/// its own options.
void refuse_with_resume(const CLI::App* cmd, const std::vector<std::string>& allowed, const std::string& what);

/// Refuses (InvalidInput) an option that would change nothing for the
/// networks the command builds, as its user expects it to act:
/// --forget-bias unless a cell is the LSTM, --dt unless a cell is the CT-RNN,
/// --skip unless one is rnn_skip, --eps (--cell-eps) and --gamma unless one is rnn_antisymmetric,
/// --scale unless an initialisation is orthogonal, identity or scaled, and
/// --forget-bias without biases (`bias` false: --no-bias).
void refuse_inert_options(const CLI::App* cmd, const std::vector<CellKind>& cells, const std::vector<Init>& inits,
                          bool bias = true);

/// The network spec of the options, validated (and refuse_inert_options).
NetworkSpec network_spec(const NetworkOptions& o, const CLI::App* cmd);

/// Prints each section's screen text and the files written.
void print_sections(const std::vector<Section>& sections, const OutputFolder& out);

/// The line of a command stopped by SIGINT or SIGTERM before its results were complete: the folder holds its
/// marker alone, and --force starts again.
std::string stopped_before_writing(const std::string& out);
/// ... and of one stopped while it wrote them: every file was finished.
std::string stopped_after_writing(const std::string& out);

/// What a one-study subcommand does: validates the spec and checks its cost
/// (before the output folder is touched), prepares the folder, runs the study
/// with progress on stderr (and the estimate of a run above a minute),
/// stopping after the task in progress on SIGINT or SIGTERM (exit 130 or 143),
/// renders its result with render(out, result), writes index.html and
/// summary.json, and prints the section.
template <StudyType Study, class Render>
void run_one_study(const RunOptions& o, const typename Study::Spec& spec, const std::string& stage,
                   const std::string& title, const std::string& subtitle, const nlohmann::json& facts,
                   Render&& render) {
  const auto tasks = Study::tasks(spec);
  StoppableProgress progress(o.quiet, stopped_before_writing(o.out));
  const Execution e = execution(o, &progress);
  Execution memory_only = e;
  memory_only.progress = nullptr;  // run_tasks tells the estimate
  check_cost(Study::cost(spec), memory_only);
  OutputFolder out(o.out, o.force);
  progress.begin(stage, static_cast<int>(tasks.size()));
  const auto result = run_tasks<Study>(spec, tasks, e);
  progress.end();
  const Section s = render(out, result);
  write_index(out, title, subtitle, facts, {s});
  print_sections({s}, out);
  progress.stop_if_requested(stopped_after_writing(o.out));
}

}  // namespace rnnscope::cli
