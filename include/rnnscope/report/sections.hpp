// A study's result -> its tables, figures and a report section. Every front
// end that writes results (the CLI's activations, lookback, spectrum,
// lyapunov, contributions, report and analyze) goes through these functions,
// so a study looks the same on its own and inside the report. They render
// what a study returned (studies/) and compute nothing of their own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rnnscope/report/html.hpp"
#include "rnnscope/report/output_folder.hpp"
#include "rnnscope/studies/activations.hpp"
#include "rnnscope/studies/analysis.hpp"
#include "rnnscope/studies/contributions.hpp"
#include "rnnscope/studies/conv.hpp"
#include "rnnscope/studies/lookback.hpp"
#include "rnnscope/studies/lstm_paths.hpp"
#include "rnnscope/studies/lyapunov.hpp"
#include "rnnscope/studies/phase.hpp"
#include "rnnscope/studies/spectrum.hpp"

namespace rnnscope {

/// What a study produced: its report section (figures and tables already
/// written), its key numbers for summary.json, and a few lines for stdout.
// The implicit destructor reaches nlohmann::json's, whose non-recursive destroy() allocates a stack of the
// children: the bad_alloc clang-tidy sees there is the library's, and would end any program alike.
struct Section {  // NOLINT(bugprone-exception-escape)
  ReportSection html;
  nlohmann::json summary;
  std::string screen;
};

/// A study's spec and result with the name it has in legends and tables ("Elman tanh", "CT-RNN dt 1").
template <class Spec, class Result>
struct Labelled {
  std::string label;
  Spec spec;
  Result result;
};
using LabelledLookback = Labelled<LookbackSpec, LookbackResult>;
using LabelledLyapunov = Labelled<LyapunovSpec, LyapunovResult>;
using LabelledContributions = Labelled<ContributionSpec, ContributionResult>;
using LabelledLstmPaths = Labelled<LstmPathSpec, LstmPathResult>;
using LabelledConv = Labelled<ConvSpec, ConvResult>;

/// The end-to-end measure of a stack (studies/end_to_end.hpp) added to a section: STEM.csv (loss, quantity, L
/// and the statistics), the figure STEM beside the layers' own chains (name, log10 by L), summary["end_to_end"],
/// a table and the verdict lines on the screen, a sentence in the reading.
void add_end_to_end(OutputFolder& out, Section& sec, const std::string& stem, const std::string& label,
                    const EndToEndResult& r, const std::vector<std::pair<std::string, std::vector<double>>>& chains);
/// "verdict, loss on the last step: the input 499 steps back receives 10^-3.70 of the last step's gradient; it
/// falls below 1e-3 at L = 312 (the half-life: 312 steps)", or "... it does not fall below 1e-3 within T".
std::string end_to_end_verdict(const EndToEndResult& r, EndToEndLoss loss);

/// "Elman tanh", "LSTM", "CT-RNN dt 0.1", ...
std::string cell_label(const ModelSpec& m);

/// sigmoid' and tanh' with their order-n approximations; rho(eps)^T exact and approximate.
Section activations_section(OutputFolder& out, const ActivationResult& result);
/// ||dL/dh_{T-L}|| / ||dL/dh_T|| against L for each cell, with its bound.
Section lookback_section(OutputFolder& out, const std::vector<LabelledLookback>& runs);

struct LabelledSpectrum {
  std::string label;
  BlockSpectrum block;
};
/// Eigenvalues in the complex plane and ||W^n|| by powers and by eigendecomposition.
/// `stem` prefixes the files ("spectrum" gives spectrum_eigenvalues.png, ...).
Section spectrum_section(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                         const std::string& what);
/// The same for one matrix a user gave (rnnscope spectrum --matrix), files named spectrum_*, with each
/// eigenvalue's regime under W^n (spectrum_regimes.csv), W^n both ways at a few powers on screen, and the regime
/// of W^n from the spectral radius: vanishing, at the edge or exploding.
Section matrix_spectrum_section(OutputFolder& out, const LabelledSpectrum& matrix, const std::string& what);
/// The LSTM's cell path against its hidden path, for each run (LSTMs with different forget biases).
Section lstm_paths_section(OutputFolder& out, const std::vector<LabelledLstmPaths>& runs);
/// The Lyapunov spectrum of each run.
Section lyapunov_section(OutputFolder& out, const std::vector<LabelledLyapunov>& runs);
/// The mean-field theory's entry in a study's JSON: its numbers, or why there are none.
nlohmann::json theory_json(const MeanField& m);

/// The order-to-chaos phase diagram of one cell (studies/phase.hpp).
Section phase_section(OutputFolder& out, const PhaseSpec& spec, const PhaseResult& result, const std::string& label);
/// The gradient of W_hh by temporal distance for each run.
Section contributions_section(OutputFolder& out, const std::vector<LabelledContributions>& runs);
/// Conv1D stacks' input gradient against distance, beside an RNN's look-back curve (the report), or on their own
/// with their receptive field in closed form and the gradient around it (rnn nullptr: rnnscope receptive-field).
Section conv_section(OutputFolder& out, const std::vector<LabelledConv>& convs, const LabelledLookback* rnn);
/// Every diagnostic of one layer of a given model (rnnscope analyze).
Section layer_section(OutputFolder& out, const LayerAnalysis& layer, const std::string& cell_name);

/// The report of rnnscope analyze: a section per layer, the section of the
/// end-to-end measure through the whole stack (stack_end_to_end.csv), summary.json
/// and index.html, with the model's and the input's names among the run's facts.
std::vector<Section> write_analysis_report(OutputFolder& out, const AnalysisSpec& spec, const ModelSpec& model,
                                           const std::vector<LayerAnalysis>& layers, const EndToEndResult& end_to_end,
                                           const std::string& model_name, const std::string& input_name);

/// "wrote N files to DIR/ (open index.html)" and a line per figure gnuplot could not draw.
std::string files_written(const OutputFolder& out);

/// Writes summary.json ({"run": facts, "<section id>": summary, ...}) and index.html.
void write_index(OutputFolder& out, const std::string& title, const std::string& subtitle,
                 const nlohmann::json& run, const std::vector<Section>& sections);

}  // namespace rnnscope
