// rnnscope spectrum: eigenvalues, singular values and W^n of a cell's recurrent matrices.
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"

namespace rnnscope::cli {

void register_spectrum(CLI::App& app) {
  struct Options : NetworkOptions {
    int max_power = 50;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("spectrum",
                                 "eigenvalues (complex plane), spectral radius, singular values and ||W^n|| by "
                                 "repeated multiplication and by eigendecomposition, of a cell's W_hh (per gate "
                                 "block for LSTM and GRU), with the Pascanu conditions");
  add_network_options(cmd, *opts, "rnnscope-spectrum", false);
  cmd->add_option("--max-power", opts->max_power, "largest power n of W^n")->capture_default_str();
  cmd->callback([opts, cmd] {
    const Options& o = *opts;
    SpectrumSpec spec;
    static_cast<NetworkSpec&>(spec) = network_spec(o, cmd);
    spec.max_power = o.max_power;
    const std::string what = fmt::format("W_hh of the {} ({}, scale {}, H = {})", cell_label(spec.model), o.init,
                                         o.scale, o.hidden);
    run_one_study<SpectrumStudy>(o, spec, "spectra of the recurrent matrices", "rnnscope spectrum",
                                 "Spectra of " + what, {{"seed", spec.seed}},
                                 [&](OutputFolder& out, const SpectrumResult& r) {
                                   std::vector<LabelledSpectrum> blocks;
                                   for (const auto& b : r.blocks) blocks.push_back({b.name, b});
                                   return spectrum_section(out, blocks, "spectrum", what);
                                 });
  });
}

}  // namespace rnnscope::cli
