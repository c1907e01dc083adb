// rnnscope lyapunov: the Lyapunov spectrum of a cell's trajectories.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "sections.hpp"

namespace rnnscope::cli {

namespace {

struct Options : StudyOptions {
  int top = 0;
};

void run(const Options& o) {
  require(o.top >= 0, fmt::format("--top must be >= 0, got {}", o.top));
  const LookbackSpec spec = to_lookback_spec(o);
  const Index state = spec.model.cell == CellKind::lstm ? 2 * spec.model.hidden_size : spec.model.hidden_size;
  require(o.top <= state, fmt::format("--top must be at most the state size {}, got {}", state, o.top));
  OutputFolder out(o.out, o.force);
  Progress progress(o.quiet);
  const Section s = lyapunov_section(out, progress, {{cell_label(spec.model), spec}}, o.top);
  write_index(out, "rnnscope lyapunov", "The Lyapunov spectrum of one cell", {{"seed", o.seed}}, {s});
  fmt::print("{}\n{}\n", s.screen, files_written(out));
}

}  // namespace

void register_lyapunov(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("lyapunov",
                                 "Lyapunov spectrum of a cell's trajectories by QR re-orthonormalisation, mean and "
                                 "spread over seeds and sequences");
  add_study_options(cmd, *opts, "rnnscope-lyapunov");
  cmd->add_option("--top", opts->top, "number of exponents, largest first (0: all)")->capture_default_str();
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
