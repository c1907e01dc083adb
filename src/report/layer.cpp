// The analyze section: every diagnostic of one layer of a given model (studies/analysis.hpp).

#include "plot.hpp"
#include "rnnscope/core/gemm.hpp"

namespace rnnscope {

using namespace detail;

namespace {

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (const double x : v) s += x;
  return v.empty() ? kNaN : s / static_cast<double>(v.size());
}

// An LSTM layer's forget gates and cell-to-cell Jacobians (ForgetGateTrace): layer<k>_forget.csv and its figure.
void forget_files(OutputFolder& out, Section& sec, const LayerAnalysis& a, const std::string& prefix,
                  const std::string& p) {
  const ForgetGateTrace& g = a.forget;
  CsvTable t{{"t", "mean_forget", "min_forget", "max_forget", "log10_norm_cell_jacobian", "log10_norm_diag_forget",
              "relative_difference"},
             {}};
  for (size_t i = 0; i < g.step.size(); ++i)
    t.add_row({std::to_string(g.step[i]), format_number(g.mean[i]), format_number(g.min[i]), format_number(g.max[i]),
               format_number(g.jacobian_log10[i]), format_number(g.direct_log10[i]),
               format_number(g.relative_difference[i])});
  out.table(p + "_forget.csv", t);
  const auto x = as_doubles(g.step);
  Figure f;
  f.name = p + "_forget";
  f.title = prefix + "forget gates and the cell-to-cell Jacobian ∂c(t)/∂c(t−1)";
  f.xlabel = "step t";
  f.ylabel = "gate value, spectral norm, relative difference (dimensionless)";
  Series m = line("mean forget gate fₜ over units and batch", x, g.mean);
  m.y_low = g.min;
  m.y_high = g.max;
  m.band_label = "range of fₜ (min to max)";
  f.series.push_back(std::move(m));
  f.series.push_back(line("‖∂cₜ/∂cₜ₋₁‖₂ exact (through hₜ₋₁ too)", x, unlog(g.jacobian_log10)));
  f.series.back().dash = 1;
  f.series.push_back(line("‖diag(fₜ)‖₂ = max fₜ (the direct path)", x, unlog(g.direct_log10), Series::Style::dashed));
  f.series.back().dash = 2;
  f.series.push_back(line("‖∂cₜ/∂cₜ₋₁ − diag(fₜ)‖₂ / ‖∂cₜ/∂cₜ₋₁‖₂", x, g.relative_difference,
                          Series::Style::dashed));
  f.series.back().dash = 3;
  f.caption = fmt::format(
      "Layer {}'s forget gate f_t along the trajectory (mean over units and batch elements, band: range), and the "
      "exact cell-to-cell Jacobian ∂c_t/∂c_(t−1), with h_(t−1) = o_(t−1) tanh(c_(t−1)) following c_(t−1) into the "
      "gates, against its direct path diag(f_t) (spectral norms and their relative difference, mean over the batch "
      "elements analysed).",
      a.layer);
  add_figure(out, sec, f);
  sec.html.tables.push_back(p + "_forget.csv");
}

nlohmann::json forget_json(const ForgetGateTrace& g) {
  return {{"mean_forget", json_array(g.mean)},
          {"min_forget", json_array(g.min)},
          {"max_forget", json_array(g.max)},
          {"log10_norm_cell_jacobian", json_array(g.jacobian_log10)},
          {"log10_norm_diag_forget", json_array(g.direct_log10)},
          {"relative_difference", json_array(g.relative_difference)},
          {"mean_forget_over_steps", json_number(mean_of(g.mean))},
          {"mean_relative_difference", json_number(mean_of(g.relative_difference))}};
}

std::string forget_screen(const ForgetGateTrace& g) {
  const auto worst = std::max_element(g.relative_difference.begin(), g.relative_difference.end());
  const size_t at = static_cast<size_t>(worst - g.relative_difference.begin());
  return fmt::format(
      "  forget gate: mean {:.4f} over the steps (min {:.4f}, max {:.4f}); dc_t/dc_(t-1) against diag(f_t): mean "
      "log10 norm {:.3f} against {:.3f}, relative difference {:.3f} on average, {:.3f} at most (t = {})\n",
      mean_of(g.mean), *std::min_element(g.min.begin(), g.min.end()), *std::max_element(g.max.begin(), g.max.end()),
      mean_of(g.jacobian_log10), mean_of(g.direct_log10), mean_of(g.relative_difference), *worst, g.step[at]);
}

}  // namespace

Section layer_section(OutputFolder& out, const LayerAnalysis& a, const std::string& cell_name) {
  const std::string p = fmt::format("layer{}", a.layer);
  Section sec;
  sec.html.id = p;
  sec.html.title = fmt::format("Layer {} ({})", a.layer, cell_name);
  sec.summary = nlohmann::json::object();

  CsvTable chains{
      {"L", "mean_log10_norm", "min_log10_norm", "max_log10_norm", "median_log10_norm", "zero_share", "theory_log10",
       "bound_log10"},
      {}};
  const auto L = as_doubles(a.distance);
  for (size_t i = 0; i < a.distance.size(); ++i)
    chains.add_row({std::to_string(a.distance[i]), format_number(a.chain_mean_log10[i]),
                    format_number(a.chain_min_log10[i]), format_number(a.chain_max_log10[i]),
                    format_number(a.chain_median_log10[i]), format_number(a.chain_zero_share[i]),
                    a.theory_log10.empty() ? "" : format_number(a.theory_log10[i]),
                    a.bound_log10.empty() ? "" : format_number(a.bound_log10[i])});
  out.table(p + "_chains.csv", chains);
  const std::string prefix = fmt::format("Layer {} ({}): ", a.layer, cell_name);
  Figure cf;
  cf.name = p + "_chains";
  cf.title = prefix + "Jacobian chain norms ‖∂s(T−1) / ∂s(T−1−L)‖₂";
  cf.xlabel = "distance L (steps)";
  cf.ylabel = "spectral norm of the chain (dimensionless)";
  cf.log10_y = true;
  Series m = line("mean over batch elements", L, a.chain_mean_log10);
  m.y_low = a.chain_min_log10;
  m.y_high = a.chain_max_log10;
  m.band_label = "range over batch elements";
  fit_log10_y(cf, {&m.y_low, &m.y_high, &m.y});
  cf.series.push_back(std::move(m));
  if (!a.theory_log10.empty()) {
    cf.series.push_back(line(fmt::format("mean-field prediction from the layer's own weights (λ = {:.3g})",
                                         a.theory.lambda),
                             L, a.theory_log10, Series::Style::dashed));
    cf.series.back().dash = 3;
    cf.series.back().colour = 2;
  }
  if (!a.bound_log10.empty()) {
    const auto& b = a.bound_log10;
    cf.series.push_back(line("bound cᴸ" + bound_note(L, b, cf.ymax), L, b, Series::Style::dashed));
    cf.series.back().dash = 2;
  }
  cf.caption = fmt::format(
      "The spectral norm of the exact Jacobian chain of layer {} over L steps on the given input, mean (line) and "
      "range (band) over the batch elements analysed{}{}.",
      a.layer, a.bound_log10.empty() ? std::string(" (the gated cell has no closed-form bound)")
                                     : std::string(", with the bound cᴸ (dashed)"),
      a.theory_log10.empty()
          ? ""
          : "; dotted: the mean-field prediction computed from the layer's own blocks (H mean(W_hh²), mean(W_ih²), the "
            "biases) and the mean square of its input, as if they were a random initialisation's (docs/theory.md)");
  add_figure(out, sec, cf);
  sec.html.tables.push_back(p + "_chains.csv");

  std::vector<LabelledSpectrum> blocks;
  for (const auto& b : a.spectra) blocks.push_back({b.name, b});
  Section spec;
  spec.summary = nlohmann::json::object();
  spectrum_files(out, blocks, p + "_spectrum", "the recurrent matrices", spec, prefix);
  sec.html.figures.insert(sec.html.figures.end(), spec.html.figures.begin(), spec.html.figures.end());
  sec.html.captions.insert(spec.html.captions.begin(), spec.html.captions.end());
  sec.html.tables.insert(sec.html.tables.end(), spec.html.tables.begin(), spec.html.tables.end());

  CsvTable ly{{"index", "exponent"}, {}};
  std::vector<double> idx;
  for (size_t i = 0; i < a.lyapunov.size(); ++i) {
    idx.push_back(static_cast<double>(i + 1));
    ly.add_row({std::to_string(i + 1), format_number(a.lyapunov[i])});
  }
  out.table(p + "_lyapunov.csv", ly);
  Figure lf = lyapunov_figure(p + "_lyapunov", prefix + "Lyapunov spectrum on the input");
  std::string lyapunov_key = "mean over batch elements";
  if (cell_name == cell_label(ModelSpec{.cell = CellKind::lstm})) {
    // The LSTM's state is (h, c): 2H exponents, H the size of a gate block.
    const size_t wide = 2 * a.spectra.front().spectrum.eigenvalues.size();
    lyapunov_key += a.lyapunov.size() == wide
                        ? fmt::format("; LSTM state (h, c): 2H = {} exponents", wide)
                        : fmt::format("; LSTM state (h, c): top {} of 2H = {} exponents", a.lyapunov.size(), wide);
  }
  lf.series.push_back(line(lyapunov_key, idx, a.lyapunov, Series::Style::linespoints));
  clip_lyapunov(lf);
  lf.caption = fmt::format(
      "The Lyapunov spectrum of layer {} along its trajectory on the given input, largest exponent first (mean over "
      "the batch elements analysed).",
      a.layer);
  add_figure(out, sec, lf);
  sec.html.tables.push_back(p + "_lyapunov.csv");

  CsvTable ct{{"distance", "log10_relative"}, {}};
  for (size_t i = 0; i < a.contributions.distance.size(); ++i)
    ct.add_row({std::to_string(a.contributions.distance[i]), format_number(a.contributions.mean_log10[i])});
  out.table(p + "_contributions.csv", ct);
  Figure kf;
  kf.name = p + "_contributions";
  kf.title = prefix + "contribution of each temporal distance to ∂L/∂Wₕₕ";
  kf.xlabel = "temporal distance t − k (steps)";
  kf.ylabel = "‖contribution‖ / ‖∂L/∂Wₕₕ‖ (dimensionless)";
  kf.log10_y = true;
  kf.series.push_back(line("random-projection loss on every step", as_doubles(a.contributions.distance),
                           a.contributions.mean_log10, Series::Style::linespoints));
  kf.caption = fmt::format(
      "How much of layer {}'s gradient ∂L/∂W_hh comes from terms linking steps t − k apart, relative to the whole "
      "gradient, for a random-projection loss on the layer's outputs.",
      a.layer);
  add_figure(out, sec, kf);
  sec.html.tables.push_back(p + "_contributions.csv");

  if (!a.forget.step.empty()) forget_files(out, sec, a, prefix, p);

  const double at_t = a.chain_mean_log10.back();
  sec.summary = {{"chain_mean_log10", json_array(a.chain_mean_log10)},
                 {"chain_mean_log10_at_T", json_number(at_t)},
                 {"bound_log10_at_T", a.bound_log10.empty() ? nlohmann::json(nullptr) : json_number(a.bound_log10.back())},
                 {"theory", theory_json(a.theory)},
                 {"theory_log10_at_T",
                  a.theory_log10.empty() ? nlohmann::json(nullptr) : json_number(a.theory_log10.back())},
                 {"spectra", spec.summary},
                 {"lyapunov", json_array(a.lyapunov)},
                 {"contributions_log10_relative", json_array(a.contributions.mean_log10)},
                 {"contributions_sum_error", a.contributions.max_sum_error}};
  if (!a.forget.step.empty()) sec.summary["forget"] = forget_json(a.forget);
  sec.screen = fmt::format("layer {}: log10 ||chain|| at L = {}: {}, bound {}, lambda_1 = {:.4f}, contributions add "
                           "up to {:.1e}\n",
                           a.layer, a.distance.back(), fixed(at_t),
                           a.bound_log10.empty() ? std::string("-") : fixed(a.bound_log10.back()), a.lyapunov.front(),
                           a.contributions.max_sum_error);
  sec.screen += a.theory.available && std::isfinite(a.theory.lambda)
                    ? fmt::format("  mean-field from the layer's own blocks (empirical): g = {:.4g}, chi = {:.4g} "
                                  "({}), lambda {:.4f} per step, log10 chain at L = {}: {}\n",
                                  a.theory.g, a.theory.chi, to_string(a.theory.phase), a.theory.lambda,
                                  a.distance.back(), fixed(a.theory_log10.back()))
                    : fmt::format("  mean-field: no prediction: {}\n",
                                  a.theory.reason.empty() ? a.theory.regime : a.theory.reason);
  if (!a.forget.step.empty()) sec.screen += forget_screen(a.forget);
  sec.screen += spectrum_screen_header(a.spectra.front().powers.n.back()) + spec.screen;
  sec.html.reading = fmt::format(
      "The exact Jacobian chains of this layer on the given input fall to 1e{:.1f} over {} steps{}; the largest "
      "Lyapunov exponent is {:.3f} per step. The recurrent matrices' spectra, W^n, and the gradient of W_hh by "
      "temporal distance follow.",
      at_t, a.distance.back(),
      a.bound_log10.empty() ? std::string("")
                            : fmt::format(" (bound 1e{:.1f})", a.bound_log10.back()),
      a.lyapunov.front());
  return sec;
}

std::vector<Section> write_analysis_report(OutputFolder& out, const AnalysisSpec& spec, const ModelSpec& model,
                                           const std::vector<LayerAnalysis>& layers, const EndToEndResult& end_to_end,
                                           const std::string& model_name, const std::string& input_name) {
  const Index B = spec.batch, T = spec.x.cols() / B;
  std::vector<Section> sections;
  sections.reserve(layers.size() + 1);
  const std::string name = cell_label(model);
  for (const auto& layer : layers) sections.push_back(layer_section(out, layer, name));
  Section stack;
  stack.html.id = "end_to_end";
  stack.html.title = "End to end through the stack";
  stack.summary = nlohmann::json::object();
  std::vector<std::pair<std::string, std::vector<double>>> chains;
  chains.reserve(layers.size());
  for (const auto& layer : layers)
    chains.emplace_back(fmt::format("layer {}'s own chain", layer.layer), layer.chain_mean_log10);
  add_end_to_end(out, stack, "stack_end_to_end", name, end_to_end, chains);
  stack.summary = nlohmann::json(stack.summary["end_to_end"]);  // summary.json's "end_to_end"
  stack.screen.erase(0, stack.screen.find_first_not_of('\n'));
  stack.screen.pop_back();
  sections.push_back(std::move(stack));
  const nlohmann::json facts = {{"model", model_name},
                                {"input", input_name},
                                {"cell", std::string(to_string(model.cell))},
                                {"layers", model.num_layers},
                                {"hidden", model.hidden_size},
                                {"input_size", model.input_size},
                                {"T", T},
                                {"batch", B},
                                {"batch_elements_analysed", std::min<Index>(B, spec.options.max_batch)},
                                {"seed", spec.options.seed},
                                {"matrix_kernel", gemm_kernel_description()}};
  write_index(out, "rnnscope analyze: " + model_name,
              fmt::format("{}, {} layer(s), H = {}, on an input of T = {} steps x B = {}", name, model.num_layers,
                          model.hidden_size, T, B),
              facts, sections);
  return sections;
}

}  // namespace rnnscope
