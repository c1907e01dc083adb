#include "common.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "rnnscope/core/error.hpp"

namespace rnnscope::cli {

void add_run_options(CLI::App* cmd, RunOptions& o, const std::string& default_out, bool threads) {
  o.out = default_out;
  cmd->add_option("--out", o.out, "output folder (must be new or empty; see --force)")->capture_default_str();
  if (threads)
    cmd->add_option("--threads", o.threads,
                    "threads over batch slices and matrix products (0: OMP_NUM_THREADS, else every core)")
        ->capture_default_str();
  cmd->add_flag("--quiet", o.quiet, "no progress on stderr");
  cmd->add_flag("--force", o.force, "replace the files of an earlier rnnscope run in --out (and only those)");
  add_max_memory_option(cmd, o.max_memory);
}

void add_max_memory_option(CLI::App* cmd, std::string& max_memory) {
  cmd->add_option("--max-memory", max_memory,
                  "the most memory the work may hold at its peak, e.g. 4G or 500M (default: what the machine has "
                  "available when it starts); a request estimated above it is refused before it begins");
}


void add_seed_option(CLI::App* cmd, std::uint64_t& seed) {
  cmd->add_option("--seed", seed, "random seed (same seed, same numbers)")->capture_default_str();
}

Execution execution(const RunOptions& o, ProgressSink* progress) {
  Execution e{o.threads, progress};
  if (!o.max_memory.empty()) e.max_memory = parse_bytes(o.max_memory);
  e.validate();
  return e;
}

void add_cell_shape_options(CLI::App* cmd, CellShape& o, bool optimizer_eps) {
  cmd->add_option("--dt", o.dt, "Euler step of the ctrnn cell")->capture_default_str();
  cmd->add_option("--skip", o.skip, "K of the rnn_skip cell: h_t also reads h_{t-K} (1..1000)")->capture_default_str();
  cmd->add_option(optimizer_eps ? "--cell-eps" : "--eps,--cell-eps", o.eps,
                  "Euler step of the rnn_antisymmetric cell")
      ->capture_default_str();
  cmd->add_option("--gamma,--cell-gamma", o.gamma, "diffusion of the rnn_antisymmetric cell (W - W^T - gamma I)")
      ->capture_default_str();
}

void add_network_options(CLI::App* cmd, NetworkOptions& o, const std::string& default_out, bool sequences,
                         int max_steps) {
  cmd->add_option("--cell", o.cell, cell_choices())->capture_default_str();
  cmd->add_option("--hidden", o.hidden, "hidden units H (1..1024)")->capture_default_str();
  cmd->add_option("--init", o.init, "pytorch, xavier, orthogonal, identity, scaled or critical (the mean-field g_c)")
      ->capture_default_str();
  cmd->add_option("--scale", o.scale, "scale of the recurrent initialisation (orthogonal, identity, scaled)")
      ->capture_default_str();
  add_cell_shape_options(cmd, o.shape);
  if (sequences) {
    cmd->add_option("--forget-bias", o.forget_bias, "added to the LSTM forget-gate bias")->capture_default_str();
    cmd->add_option("--input-size", o.input_size, "input features I (1..65536)")->capture_default_str();
    cmd->add_option("--T", o.steps, fmt::format("sequence length (1..{})", max_steps))->capture_default_str();
    cmd->add_option("--seeds", o.seeds, "independent initialisations averaged over (1..1000)")->capture_default_str();
    cmd->add_option("--batch", o.batch, "input sequences per initialisation (1..1000)")->capture_default_str();
  }
  add_seed_option(cmd, o.seed);
  add_run_options(cmd, o, default_out);
}

ModelSpec model_spec(const std::string& cell, int input_size, int hidden, int layers, bool bias,
                     const CellShape& shape) {
  ModelSpec spec;
  spec.cell = parse_cell(cell);
  spec.input_size = input_size;
  spec.hidden_size = hidden;
  spec.num_layers = layers;
  spec.bias = bias;
  apply_cell_shape(shape, spec);
  return spec;
}

void apply_cell_shape(const CellShape& shape, ModelSpec& spec) {
  spec.dt = shape.dt;
  spec.skip = shape.skip;
  spec.eps = shape.eps;
  spec.gamma = shape.gamma;
}

bool given(const CLI::App* cmd, const std::string& name) {
  const CLI::Option* opt = cmd->get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0;
}

void refuse_with_resume(const CLI::App* cmd, const std::vector<std::string>& allowed, const std::string& what) {
  std::string list;
  for (std::size_t i = 0; i < allowed.size(); ++i)
    list += (i == 0 ? "" : i + 1 == allowed.size() ? " and " : ", ") + allowed[i];
  for (const auto* opt : cmd->get_options()) {
    const std::string name = opt->get_name();
    if (opt->count() == 0 || name == "--resume" || name == "--help" ||
        std::find(allowed.begin(), allowed.end(), name) != allowed.end())
      continue;
    throw InvalidInput(fmt::format(
        "{} cannot be changed by --resume, which continues the {} with its own options (only {} may be given)", name,
        what, list));
  }
}

void refuse_inert_options(const CLI::App* cmd, const std::vector<CellKind>& cells, const std::vector<Init>& inits,
                          bool bias) {
  const auto has_cell = [&](CellKind k) { return std::find(cells.begin(), cells.end(), k) != cells.end(); };
  const bool scaled = std::any_of(inits.begin(), inits.end(), [](Init i) {
    return i == Init::orthogonal || i == Init::identity || i == Init::scaled;
  });
  const bool one = cells.size() == 1;
  const std::string cell = one ? std::string(to_string(cells.front())) : std::string();
  require(!given(cmd, "--forget-bias") || has_cell(CellKind::lstm),
          fmt::format("--forget-bias is added to the LSTM's forget-gate bias; {}",
                      one ? cell + " has no forget gate" : "none of --cells has one"));
  require(!given(cmd, "--forget-bias") || bias,
          "--forget-bias is added to the forget-gate bias; --no-bias leaves none");
  // Each cell shape option (add_cell_shape_options) and the one cell it shapes; the message names the
  // option by the name the command gives it (--eps, or --cell-eps where --eps is the optimiser's).
  struct ShapeOption {
    const char* name;
    CellKind owner;
    const char* what;
  };
  for (const ShapeOption& s : {ShapeOption{"--dt", CellKind::ctrnn, "the Euler step"},
                               ShapeOption{"--skip", CellKind::rnn_skip, "the skip distance K"},
                               ShapeOption{"--cell-eps", CellKind::rnn_antisymmetric, "the Euler step"},
                               ShapeOption{"--cell-gamma", CellKind::rnn_antisymmetric, "the diffusion"}}) {
    if (!given(cmd, s.name) || has_cell(s.owner)) continue;
    const std::string owner(to_string(s.owner));
    throw InvalidInput(fmt::format("{} is {} of the {} cell; {}", cmd->get_option(s.name)->get_name(), s.what, owner,
                                   one ? cell + " has none" : "--cells has no " + owner));
  }
  require(!given(cmd, "--scale") || scaled,
          "--scale scales the orthogonal, identity and scaled initialisations; pytorch and xavier have no scale, and "
          "critical takes the mean-field g_c");
}

NetworkSpec network_spec(const NetworkOptions& o, const CLI::App* cmd) {
  NetworkSpec s;
  s.model = model_spec(o.cell, o.input_size, o.hidden, 1, true, o.shape);
  s.init = parse_init(o.init);
  s.scale = o.scale;
  s.forget_bias = o.forget_bias;
  s.steps = o.steps;
  s.batch = o.batch;
  s.seeds = o.seeds;
  s.seed = o.seed;
  s.validate();
  refuse_inert_options(cmd, {s.model.cell}, {s.init});
  return s;
}

void print_sections(const std::vector<Section>& sections, const OutputFolder& out) {
  for (const auto& s : sections) fmt::print("{}\n", s.screen);
  fmt::print("{}\n", files_written(out));
}

std::string stopped_before_writing(const std::string& out) {
  return fmt::format("stopped before the results were complete: {} holds nothing but its marker; run the command "
                     "again with --force to start over",
                     out);
}

std::string stopped_after_writing(const std::string& out) {
  return fmt::format("stopped while the results were written: every file in {} was finished", out);
}

}  // namespace rnnscope::cli
