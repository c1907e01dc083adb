// One study -> its tables, figures and a report section. Every subcommand that
// writes results (activations, lookback, spectrum, lyapunov, contributions,
// report, analyze) goes through these functions, so a study looks the same on
// its own and inside the report. They call the library's studies
// (diagnostics/studies.hpp) and only arrange what those return.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "output.hpp"
#include "progress.hpp"
#include "rnnscope/diagnostics/studies.hpp"

namespace rnnscope::cli {

/// What a study produced: its report section (figures and tables already
/// written), its key numbers for summary.json, and a few lines for stdout.
struct Section {
  ReportSection html;
  nlohmann::json summary;
  std::string screen;
};

/// A spec with the name it has in legends and tables ("Elman tanh", "CT-RNN dt 1").
struct Labelled {
  std::string label;
  LookbackSpec spec;
};
/// "Elman tanh", "LSTM", "CT-RNN dt 0.1", ...
std::string cell_label(const ModelSpec& m);

/// sigmoid' and tanh' with their order-n approximations; rho(eps)^T exact and approximate.
Section activations_section(OutputFolder& out, Progress& progress, double eps, int steps, int order);
/// ||dL/dh_{T-L}|| / ||dL/dh_T|| against L for each spec, with its bound.
Section lookback_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs);

struct LabelledSpectrum {
  std::string label;
  BlockSpectrum block;
};
/// Eigenvalues in the complex plane and ||W^n|| by powers and by eigendecomposition.
/// `stem` prefixes the files ("spectrum" gives spectrum_eigenvalues.png, ...).
Section spectrum_section(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                         const std::string& what);
/// The LSTM's cell path against its hidden path, for each spec (LSTMs with different forget biases).
Section lstm_paths_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs);
/// The Lyapunov spectrum (top k, 0: all) of each spec.
Section lyapunov_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs, Index k);
/// The gradient of W_hh by temporal distance for each spec.
Section contributions_section(OutputFolder& out, Progress& progress, const std::vector<Labelled>& specs);

struct LabelledConv {
  std::string label;
  ConvSpec spec;
};
/// Conv1D stacks' input gradient against distance, beside an RNN's look-back curve.
Section conv_section(OutputFolder& out, Progress& progress, const std::vector<LabelledConv>& convs,
                     const Labelled& rnn);
/// Every diagnostic of one layer of a given model (rnnscope analyze).
Section layer_section(OutputFolder& out, const LayerAnalysis& layer, const std::string& cell_name);

/// "wrote N files to DIR: index.html, ..." and a line per figure gnuplot could not draw.
std::string files_written(const OutputFolder& out);

/// Writes summary.json ({"run": facts, "<section id>": summary, ...}) and index.html.
void write_index(OutputFolder& out, const std::string& title, const std::string& subtitle,
                 const nlohmann::json& run, const std::vector<Section>& sections);

}  // namespace rnnscope::cli
