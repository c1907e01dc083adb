// rnnscope contributions: the BPTT gradient of W_hh split by temporal distance.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "sections.hpp"

namespace rnnscope::cli {

namespace {

void run(const StudyOptions& o) {
  const LookbackSpec spec = to_lookback_spec(o);
  // The decomposition costs O(T^2) single-step backward passes.
  require(o.steps <= 5000, fmt::format("--T must be <= 5000 for the contributions (O(T^2) cost), got {}", o.steps));
  OutputFolder out(o.out, o.force);
  Progress progress(o.quiet);
  const Section s = contributions_section(out, progress, {{cell_label(spec.model), spec}});
  write_index(out, "rnnscope contributions", "BPTT contributions by temporal distance", {{"seed", o.seed}}, {s});
  fmt::print("{}\n{}\n", s.screen, files_written(out));
}

}  // namespace

void register_contributions(CLI::App& app) {
  auto opts = std::make_shared<StudyOptions>();
  auto* cmd = app.add_subcommand("contributions",
                                 "the BPTT gradient dL/dW_hh for a loss on every step, split by temporal distance "
                                 "t - k, relative to the whole gradient, mean and spread over seeds");
  add_study_options(cmd, *opts, "rnnscope-contributions");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
