// rnnscope spectrum: eigenvalues, singular values and W^n of a cell's recurrent matrices.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/core/error.hpp"
#include "sections.hpp"

namespace rnnscope::cli {

namespace {

struct Options : StudyOptions {
  int max_power = 50;
};

void run(const Options& o) {
  require(o.max_power >= 1, fmt::format("--max-power must be >= 1, got {}", o.max_power));
  const LookbackSpec spec = to_lookback_spec(o);
  OutputFolder out(o.out, o.force);
  Progress progress(o.quiet);
  progress.begin("spectra of the recurrent matrices");
  std::vector<LabelledSpectrum> blocks;
  for (auto& b : spectrum_study(spec, o.max_power)) blocks.push_back({b.name, b});
  const std::string what = fmt::format("W_hh of the {} ({}, scale {}, H = {})", cell_label(spec.model),
                                       o.init, o.scale, o.hidden);
  const Section s = spectrum_section(out, blocks, "spectrum", what);
  progress.end();
  write_index(out, "rnnscope spectrum", "Spectra of " + what, {{"seed", o.seed}}, {s});
  fmt::print("{}\n{}\n", s.screen, files_written(out));
}

}  // namespace

void register_spectrum(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("spectrum",
                                 "eigenvalues (complex plane), spectral radius, singular values and ||W^n|| by "
                                 "repeated multiplication and by eigendecomposition, of a cell's W_hh (per gate "
                                 "block for LSTM and GRU), with the Pascanu conditions");
  add_study_options(cmd, *opts, "rnnscope-spectrum", false);
  cmd->add_option("--max-power", opts->max_power, "largest power n of W^n")->capture_default_str();
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
