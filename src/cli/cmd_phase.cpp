// rnnscope phase: the order-to-chaos phase diagram of a cell, theory and measurement.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/studies/phase.hpp"

namespace rnnscope::cli {

void register_phase(CLI::App& app) {
  struct Options : RunOptions {
    std::string cell = "rnn_tanh";
    double dt = 0.1;
    int hidden = 256;
    int input_size = 1;
    PhaseSpec spec;
    std::uint64_t seed = 1;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "phase",
      "the order-to-chaos phase diagram of a cell: the mean-field exponent over the recurrent scale g and the "
      "input scale, the edge of chaos chi = 1, and the largest Lyapunov exponent measured on a coarser grid");
  cmd->add_option("--cell", o->cell, "rnn_tanh, rnn_relu, rnn_sigmoid or ctrnn")->capture_default_str();
  cmd->add_option("--dt", o->dt, "Euler step of the ctrnn cell")->capture_default_str();
  cmd->add_option("--hidden", o->hidden, "width H of the measured networks (1..1024)")->capture_default_str();
  cmd->add_option("--input-size", o->input_size, "input features I (1..65536)")->capture_default_str();
  cmd->add_option("--g-min", o->spec.g_min, "smallest recurrent scale g (> 0)")->capture_default_str();
  cmd->add_option("--g-max", o->spec.g_max, "largest recurrent scale g (<= 100)")->capture_default_str();
  cmd->add_option("--g-points", o->spec.g_points, "theory grid points along g (2..400)")->capture_default_str();
  cmd->add_option("--s-min", o->spec.s_min, "smallest input scale (>= 0)")->capture_default_str();
  cmd->add_option("--s-max", o->spec.s_max, "largest input scale (<= 100)")->capture_default_str();
  cmd->add_option("--s-points", o->spec.s_points, "theory grid points along the input scale (2..400)")
      ->capture_default_str();
  cmd->add_option("--measured-g", o->spec.measured_g, "measured grid points along g (1..50)")->capture_default_str();
  cmd->add_option("--measured-s", o->spec.measured_s, "measured grid points along the input scale (1..50)")
      ->capture_default_str();
  cmd->add_option("--T", o->spec.steps, "steps of each measured trajectory (10..100000)")->capture_default_str();
  cmd->add_option("--seeds", o->spec.seeds, "networks per measured point (1..100)")->capture_default_str();
  add_seed_option(cmd, o->seed);
  add_run_options(cmd, *o, "rnnscope-phase");
  cmd->callback([o, cmd] {
    PhaseSpec spec = o->spec;
    spec.model = model_spec(o->cell, o->input_size, o->hidden);
    require(!given(cmd, "--dt") || spec.model.cell == CellKind::ctrnn,
            fmt::format("--dt is the Euler step of the ctrnn cell; {} has none", o->cell));
    spec.model.dt = o->dt;
    spec.seed = o->seed;
    const std::string label =
        spec.model.cell == CellKind::ctrnn ? fmt::format("CT-RNN dt {:g}", spec.model.dt) : cell_label(spec.model);
    run_one_study<PhaseStudy>(
        *o, spec, "phase diagram", "rnnscope phase", "The order-to-chaos phase diagram of one cell",
        {{"seed", spec.seed}},
        [&](OutputFolder& out, const PhaseResult& r) { return phase_section(out, spec, r, label); });
  });
}

}  // namespace rnnscope::cli
