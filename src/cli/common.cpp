#include "common.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <fmt/format.h>

#include <Eigen/Core>

#include "rnnscope/core/error.hpp"

namespace rnnscope::cli {

void add_run_options(CLI::App* cmd, RunOptions& o, const std::string& default_out) {
  o.out = default_out;
  cmd->add_option("--seed", o.seed, "random seed (same seed, same numbers)")->capture_default_str();
  cmd->add_option("--out", o.out, "output folder (must be new or empty; see --force)")->capture_default_str();
  cmd->add_option("--threads", o.threads, "threads over batch slices and matrix products (0: OMP_NUM_THREADS, else every core)")
      ->capture_default_str();
  cmd->add_flag("--quiet", o.quiet, "no progress on stderr");
  cmd->add_flag("--force", o.force, "replace the files of an earlier rnnscope run in --out (and only those)");
}

void apply_run_options(const RunOptions& o) {
  require(o.threads >= 0, fmt::format("--threads must be >= 0, got {}", o.threads));
  require(o.threads <= 1024, fmt::format("--threads must be <= 1024, got {}", o.threads));
  if (o.threads == 0) return;
  Eigen::setNbThreads(o.threads);
#ifdef _OPENMP
  omp_set_num_threads(o.threads);  // the threads of cells/cell.hpp's for_slices
#endif
}

void add_study_options(CLI::App* cmd, StudyOptions& o, const std::string& default_out, bool sequences) {
  cmd->add_option("--cell", o.cell, "rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru or ctrnn")->capture_default_str();
  cmd->add_option("--hidden", o.hidden, "hidden units H (1..1024)")->capture_default_str();
  cmd->add_option("--init", o.init, "pytorch, xavier, orthogonal, identity or scaled")->capture_default_str();
  cmd->add_option("--scale", o.scale, "scale of the recurrent initialisation (orthogonal, identity, scaled)")
      ->capture_default_str();
  cmd->add_option("--dt", o.dt, "Euler step of the ctrnn cell")->capture_default_str();
  cmd->add_option("--forget-bias", o.forget_bias, "added to the LSTM forget-gate bias")->capture_default_str();
  if (sequences) {
    cmd->add_option("--input-size", o.input_size, "input features I (1..65536)")->capture_default_str();
    cmd->add_option("--T", o.steps, "sequence length (1..100000; contributions 1..5000)")->capture_default_str();
    cmd->add_option("--seeds", o.seeds, "independent initialisations averaged over (1..1000)")->capture_default_str();
    cmd->add_option("--batch", o.batch, "input sequences per initialisation (1..1000)")->capture_default_str();
  }
  add_run_options(cmd, o, default_out);
}

ModelSpec model_spec(const std::string& cell, int input_size, int hidden, int layers, bool bias, double dt) {
  ModelSpec spec;
  spec.cell = parse_cell(cell);
  spec.input_size = input_size;
  spec.hidden_size = hidden;
  spec.num_layers = layers;
  spec.bias = bias;
  spec.dt = dt;
  return spec;
}

LookbackSpec to_lookback_spec(const StudyOptions& o) {
  // Upper limits keep a study within minutes and memory (see cmd_report.cpp).
  require(o.hidden >= 1 && o.hidden <= 1024, fmt::format("--hidden must be in 1..1024, got {}", o.hidden));
  require(o.input_size >= 1 && o.input_size <= 65536,
          fmt::format("--input-size must be in 1..65536, got {}", o.input_size));
  require(o.steps >= 1 && o.steps <= 100000, fmt::format("--T must be in 1..100000, got {}", o.steps));
  require(o.seeds >= 1 && o.seeds <= 1000, fmt::format("--seeds must be in 1..1000, got {}", o.seeds));
  require(o.batch >= 1 && o.batch <= 1000, fmt::format("--batch must be in 1..1000, got {}", o.batch));
  require(std::isfinite(o.scale), "--scale must be finite");
  require(std::isfinite(o.dt) && o.dt > 0, fmt::format("--dt must be a positive number, got {}", o.dt));
  require(std::isfinite(o.forget_bias), "--forget-bias must be finite");
  apply_run_options(o);
  LookbackSpec s;
  s.model = model_spec(o.cell, o.input_size, o.hidden, 1, true, o.dt);
  s.init = parse_init(o.init);
  s.scale = o.scale;
  s.forget_bias = o.forget_bias;
  s.steps = o.steps;
  s.batch = o.batch;
  s.seeds = o.seeds;
  s.seed = o.seed;
  return s;
}

}  // namespace rnnscope::cli
