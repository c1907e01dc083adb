// rnnscope lookback: ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}|| against L, with the bound.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "sections.hpp"

namespace rnnscope::cli {

namespace {

void run(const StudyOptions& o) {
  const LookbackSpec spec = to_lookback_spec(o);
  OutputFolder out(o.out, o.force);
  Progress progress(o.quiet);
  const Section s = lookback_section(out, progress, {{cell_label(spec.model), spec}});
  write_index(out, "rnnscope lookback", "The look-back window of one cell", {{"seed", o.seed}}, {s});
  fmt::print("{}\n{}\n", s.screen, files_written(out));
}

}  // namespace

void register_lookback(CLI::App& app) {
  auto opts = std::make_shared<StudyOptions>();
  auto* cmd = app.add_subcommand("lookback",
                                 "gradient norm ratio ||dL/dh_{T-L}|| / ||dL/dh_T|| against the look-back L, "
                                 "mean and spread over seeds, with the bound (gamma ||W_hh||)^L");
  add_study_options(cmd, *opts, "rnnscope-lookback");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
