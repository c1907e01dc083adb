// rnnscope spectrum: eigenvalues, singular values and W^n of a cell's recurrent matrices, or of a user's matrix.
#include <fmt/format.h>

#include <filesystem>

#include "commands.hpp"
#include "common.hpp"
#include "rnnscope/activations/activation.hpp"
#include "rnnscope/io/matrix_file.hpp"

namespace rnnscope::cli {

void register_spectrum(CLI::App& app) {
  struct Options : NetworkOptions {
    int max_power = 50;
    std::string matrix, tensor, activation = "tanh";
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("spectrum",
                                 "eigenvalues (complex plane), spectral radius, singular values and ||W^n|| by "
                                 "repeated multiplication and by eigendecomposition, of a cell's W_hh (per gate "
                                 "block for LSTM and GRU) or of a matrix from a file, with the Pascanu conditions");
  add_network_options(cmd, *opts, "rnnscope-spectrum", false);
  cmd->add_option("--max-power", opts->max_power, "largest power n of W^n")->capture_default_str();
  cmd->add_option("--matrix", opts->matrix,
                  fmt::format("analyse this square matrix instead of a cell's: a CSV file (one row per line, "
                              "commas) or a .safetensors file (at most {0} x {0})",
                              kMaxSpectrumMatrix));
  cmd->add_option("--tensor", opts->tensor, "with a .safetensors --matrix holding several tensors: the one to read");
  cmd->add_option("--activation", opts->activation,
                  "with --matrix: the activation f whose bound gamma = sup|f'| enters the Pascanu conditions "
                  "(tanh or relu: 1, sigmoid: 1/4)")
      ->capture_default_str();
  cmd->callback([opts, cmd] {
    const Options& o = *opts;
    SpectrumSpec spec;
    spec.max_power = o.max_power;
    if (o.matrix.empty()) {
      for (const char* name : {"--tensor", "--activation"})
        require(!given(cmd, name), fmt::format("{} applies to a --matrix file only", name));
      static_cast<NetworkSpec&>(spec) = network_spec(o, cmd);
      const std::string what =
          fmt::format("W_hh of the {} ({}, scale {}, H = {})", cell_label(spec.model), o.init, o.scale, o.hidden);
      run_one_study<SpectrumStudy>(o, spec, "spectra of the recurrent matrices", "rnnscope spectrum",
                                   "Spectra of " + what, {{"seed", spec.seed}},
                                   [&](OutputFolder& out, const SpectrumResult& r) {
                                     std::vector<LabelledSpectrum> blocks;
                                     for (const auto& b : r.blocks) blocks.push_back({b.name, b});
                                     return spectrum_section(out, blocks, "spectrum", what);
                                   });
      return;
    }
    // The network options build the random networks --matrix replaces: given with it they would change nothing.
    for (const char* name : {"--cell", "--hidden", "--init", "--scale", "--seed", "--dt", "--skip", "--eps", "--gamma"})
      require(!given(cmd, name), fmt::format("{} shapes a random network's W_hh; --matrix gives W itself", name));
    const Activation f = parse_activation(o.activation);
    require(f != Activation::identity, "--activation must be tanh, relu or sigmoid (gamma = sup|f'|)");
    spec.matrix = read_matrix_file(o.matrix, o.tensor, kMaxSpectrumMatrix);
    spec.gamma = derivative_bound(f);
    const std::string file = std::filesystem::path(o.matrix).filename().string();
    const std::string what = fmt::format("the {0} x {0} matrix W of {1}{2}", spec.matrix.rows(), file,
                                         o.tensor.empty() ? std::string() : fmt::format(" (tensor {})", o.tensor));
    run_one_study<SpectrumStudy>(
        o, spec, "spectrum of the matrix", "rnnscope spectrum", "Spectrum of " + what,
        {{"matrix_file", o.matrix}, {"tensor", o.tensor}, {"activation", o.activation}, {"gamma", spec.gamma}},
        [&](OutputFolder& out, const SpectrumResult& r) {
          return matrix_spectrum_section(out, {"W", r.blocks.front()}, what);
        });
  });
}

}  // namespace rnnscope::cli
