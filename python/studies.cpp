// The diagnostics and studies as functions returning dicts: each table the
// command writes (a CSV file) is an entry named by the file's stem holding its
// columns as arrays, and "summary" holds the numbers of the study's
// summary.json entry under the same keys. With out= the command's folder
// (figures, tables, index.html, summary.json) is written as well, by the same
// report functions. The studies are the library's (studies/); nothing is
// computed here.
#include <fmt/format.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cmath>
#include <optional>

#include "bindings.hpp"
#include "rnnscope/core/error.hpp"
#include "rnnscope/io/model_file.hpp"
#include "rnnscope/report/sections.hpp"
#include "rnnscope/report/standard.hpp"

namespace rnnscope::python {

namespace {

using namespace pybind11::literals;
using OptArray = std::optional<py::array>;
using OptPath = std::optional<std::filesystem::path>;

py::array numbers(const std::vector<double>& v) {
  return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
}

template <class Int>
py::array integers(const std::vector<Int>& v) {
  std::vector<std::int64_t> w(v.begin(), v.end());
  return py::array_t<std::int64_t>(static_cast<py::ssize_t>(w.size()), w.data());
}

py::array strings(const std::vector<std::string>& v) { return py::module_::import("numpy").attr("array")(v); }

// A summary.json number: null (None) where the report writes null (json_number).
py::object number(double v) { return std::isfinite(v) ? py::object(py::float_(v)) : py::none(); }
py::object last(const std::vector<double>& v) { return v.empty() ? py::none() : number(v.back()); }

// The options every study over random networks takes, as the command's --cell, --hidden, ...
NetworkSpec network_spec(const std::string& cell, Index hidden, Index input_size, Index T, int seeds, Index batch,
                         const std::string& init, double scale, double dt, Index skip, double eps, double gamma,
                         double forget_bias, std::uint64_t seed) {
  NetworkSpec s;
  s.model.cell = parse_cell(cell);
  s.model.input_size = input_size;
  s.model.hidden_size = hidden;
  s.model.dt = dt;
  s.model.skip = skip;
  s.model.eps = eps;
  s.model.gamma = gamma;
  s.init = parse_init(init);
  s.scale = scale;
  s.forget_bias = forget_bias;
  s.steps = T;
  s.batch = batch;
  s.seeds = seeds;
  s.seed = seed;
  s.validate();
  return s;
}

// Runs a study with the GIL released; the spec was validated by tasks().
template <StudyType Study>
typename Study::Result run(const typename Study::Spec& spec, int threads) {
  const Execution e = execution(threads);
  const auto tasks = Study::tasks(spec);
  Computing computing;
  return run_tasks<Study>(spec, tasks, e);
}

// With out=, the command's folder: render(out_folder) gives the section, then index.html and summary.json.
template <class Render>
void write_folder(const OptPath& out, bool force, const std::string& title, const std::string& subtitle,
                  const nlohmann::json& facts, Render&& render) {
  if (!out) return;
  OutputFolder folder(*out, force);
  const Section s = render(folder);
  write_index(folder, title, subtitle, facts, {s});
}

// The tables <stem>_eigenvalues and <stem>_powers of labelled spectra, and their summaries by label.
void put_spectra(py::dict& out, py::dict& summary, const std::vector<LabelledSpectrum>& blocks,
                 const std::string& stem) {
  std::vector<std::string> e_matrix, p_matrix;
  std::vector<Index> index;
  std::vector<int> n;
  std::vector<double> re, im, modulus, power, eigen, difference;
  bool withheld = false;
  for (const auto& [label, b] : blocks) {
    for (size_t i = 0; i < b.spectrum.eigenvalues.size(); ++i) {
      e_matrix.push_back(label);
      index.push_back(static_cast<Index>(i));
      re.push_back(b.spectrum.eigenvalues[i].real());
      im.push_back(b.spectrum.eigenvalues[i].imag());
      modulus.push_back(std::abs(b.spectrum.eigenvalues[i]));
    }
    const auto& p = b.powers;
    withheld = withheld || p.log10_norm_eigen.empty();
    for (size_t i = 0; i < p.n.size(); ++i) {
      p_matrix.push_back(label);
      n.push_back(p.n[i]);
      power.push_back(p.log10_norm_power[i]);
      // The table leaves a withheld eigendecomposition's cells empty: NaN here.
      eigen.push_back(p.log10_norm_eigen.empty() ? NAN : p.log10_norm_eigen[i]);
      difference.push_back(p.relative_difference.empty() ? NAN : p.relative_difference[i]);
    }
    double worst = 0;
    for (const double d : p.relative_difference) worst = std::max(worst, d);
    py::dict j;
    j["spectral_radius"] = b.spectrum.spectral_radius;
    j["norm_2"] = b.spectrum.singular_values.front();
    j["eigenvector_condition"] = number(b.spectrum.eigenvector_condition);
    j["diagonalisable"] = b.spectrum.diagonalisable;
    j["note"] = b.spectrum.note + (p.note.empty() ? "" : " " + p.note);
    j["max_n"] = p.n.back();
    j["log10_norm_power_at_max_n"] = number(p.log10_norm_power.back());
    j["max_relative_difference_power_vs_eigen"] = p.relative_difference.empty() ? py::none() : number(worst);
    if (b.has_conditions) {
      py::dict c;
      c["gamma"] = b.conditions.gamma;
      c["threshold_1_over_gamma"] = b.conditions.threshold;
      c["relative_tolerance"] = b.conditions.tolerance;
      c["vanishing_guaranteed"] = b.conditions.vanishing_guaranteed;
      c["exploding_possible"] = b.conditions.exploding_possible;
      j["pascanu"] = c;
    }
    summary[py::str(label)] = j;
  }
  py::dict e, pw;
  e["matrix"] = strings(e_matrix);
  e["index"] = integers(index);
  e["real"] = numbers(re);
  e["imag"] = numbers(im);
  e["modulus"] = numbers(modulus);
  pw["matrix"] = strings(p_matrix);
  pw["n"] = integers(n);
  pw["log10_norm_power"] = numbers(power);
  pw["log10_norm_eigen"] = numbers(eigen);
  pw["relative_difference"] = numbers(difference);
  out[py::str(stem + "_eigenvalues")] = e;
  out[py::str(stem + "_powers")] = pw;
}

py::dict analyze(const PyModel& pm, const py::array& input, const OptArray& h0, const OptArray& c0, int max_batch,
                 int max_power, int top, std::uint64_t seed, int threads, const OptPath& out, bool force) {
  // The model file and input file `rnnscope analyze` would read, and the library's analysis_spec on them.
  TensorFile in;
  const char* dtype = pm.dtype() == DType::f32 ? "float32" : "float64";
  const std::initializer_list<std::pair<std::string, OptArray>> arrays = {{"input", input}, {"h0", h0}, {"c0", c0}};
  for (const auto& [name, a] : arrays) {
    if (!a) continue;
    require(array_dtype(name, *a) == pm.dtype(), fmt::format("{} is {} but the model is {}: use one dtype throughout",
                                                             name, std::string(py::str(a->dtype())), dtype));
    in.tensors.push_back(to_named_tensor(name, *a));
  }
  const AnalysisSpec spec = analysis_spec(pm.file(), in, {max_batch, max_power, top, seed});
  const auto layers = run<AnalysisStudy>(spec, threads);
  const EndToEndResult end_to_end = analyse_end_to_end(spec);
  if (out) {
    OutputFolder folder(*out, force);
    write_analysis_report(folder, spec, pm.spec, layers, end_to_end, "(Python)", "(Python)");
  }
  py::dict result, summary;
  for (const LayerAnalysis& a : layers) {
    const std::string p = fmt::format("layer{}", a.layer);
    py::dict chains, lyapunov, contributions, s, spectra;
    chains["L"] = integers(a.distance);
    chains["mean_log10_norm"] = numbers(a.chain_mean_log10);
    chains["min_log10_norm"] = numbers(a.chain_min_log10);
    chains["max_log10_norm"] = numbers(a.chain_max_log10);
    chains["median_log10_norm"] = numbers(a.chain_median_log10);
    chains["zero_share"] = numbers(a.chain_zero_share);
    chains["theory_log10"] = numbers(a.theory_log10);
    chains["bound_log10"] = numbers(a.bound_log10);
    result[py::str(p + "_chains")] = chains;
    std::vector<LabelledSpectrum> blocks;
    for (const auto& b : a.spectra) blocks.push_back({b.name, b});
    put_spectra(result, spectra, blocks, p + "_spectrum");
    std::vector<Index> index;
    for (size_t i = 0; i < a.lyapunov.size(); ++i) index.push_back(static_cast<Index>(i + 1));
    lyapunov["index"] = integers(index);
    lyapunov["exponent"] = numbers(a.lyapunov);
    result[py::str(p + "_lyapunov")] = lyapunov;
    contributions["distance"] = integers(a.contributions.distance);
    contributions["log10_relative"] = numbers(a.contributions.mean_log10);
    result[py::str(p + "_contributions")] = contributions;
    s["chain_mean_log10"] = numbers(a.chain_mean_log10);
    s["chain_mean_log10_at_T"] = number(a.chain_mean_log10.back());
    s["bound_log10_at_T"] = last(a.bound_log10);
    s["theory"] = py::module_::import("json").attr("loads")(theory_json(a.theory).dump());
    s["theory_log10_at_T"] = last(a.theory_log10);
    s["spectra"] = spectra;
    s["lyapunov"] = numbers(a.lyapunov);
    s["contributions_log10_relative"] = numbers(a.contributions.mean_log10);
    s["contributions_sum_error"] = a.contributions.max_sum_error;
    if (!a.forget.step.empty()) {
      // An LSTM layer's forget gates (layer<l>_forget.csv and summary.json's "forget", report/layer.cpp).
      const ForgetGateTrace& g = a.forget;
      py::dict forget;
      forget["t"] = integers(g.step);
      forget["mean_forget"] = numbers(g.mean);
      forget["min_forget"] = numbers(g.min);
      forget["max_forget"] = numbers(g.max);
      forget["log10_norm_cell_jacobian"] = numbers(g.jacobian_log10);
      forget["log10_norm_diag_forget"] = numbers(g.direct_log10);
      forget["relative_difference"] = numbers(g.relative_difference);
      result[py::str(p + "_forget")] = forget;
      double mean = 0, diff = 0;
      for (size_t i = 0; i < g.step.size(); ++i) {
        mean += g.mean[i];
        diff += g.relative_difference[i];
      }
      const double n = static_cast<double>(g.step.size());
      s["forget"] = py::dict("mean_forget"_a = numbers(g.mean), "min_forget"_a = numbers(g.min),
                             "max_forget"_a = numbers(g.max), "log10_norm_cell_jacobian"_a = numbers(g.jacobian_log10),
                             "log10_norm_diag_forget"_a = numbers(g.direct_log10),
                             "relative_difference"_a = numbers(g.relative_difference),
                             "mean_forget_over_steps"_a = number(mean / n),
                             "mean_relative_difference"_a = number(diff / n));
    }
    summary[py::str(p)] = s;
  }
  // The end-to-end measure through the stack: the columns of stack_end_to_end.csv, and in the summary each
  // curve's verdict under its loss and quantity, as summary.json's end_to_end.
  py::dict e2e, verdicts;
  std::vector<std::string> loss, quantity;
  std::vector<Index> distance;
  std::vector<double> mean, sd, lo, hi, median, zero_share;
  verdicts["layers"] = end_to_end.layers;
  for (const EndToEndCurve& c : end_to_end.curves) {
    const std::string q = c.layer < 0 ? std::string("input") : fmt::format("h{}", c.layer);
    for (size_t i = 0; i < end_to_end.distance.size(); ++i) {
      loss.emplace_back(to_string(c.loss));
      quantity.push_back(q);
      distance.push_back(end_to_end.distance[i]);
      mean.push_back(c.mean_log10[i]);
      sd.push_back(c.std_log10[i]);
      lo.push_back(c.min_log10[i]);
      hi.push_back(c.max_log10[i]);
      median.push_back(c.median_log10[i]);
      zero_share.push_back(c.zero_share[i]);
    }
    py::dict v;
    v["log10_ratio_at_longest_L"] = number(c.final_log10);
    v["half_life"] = c.half_life >= 0 ? py::object(py::int_(c.half_life)) : py::object(py::none());
    v["mean_log10_ratio"] = numbers(c.mean_log10);
    const py::str l(std::string(to_string(c.loss)));
    if (!verdicts.contains(l)) verdicts[l] = py::dict();
    verdicts[l].cast<py::dict>()[py::str(q)] = v;
  }
  e2e["loss"] = strings(loss);
  e2e["quantity"] = strings(quantity);
  e2e["L"] = integers(distance);
  e2e["mean_log10_ratio"] = numbers(mean);
  e2e["std_log10_ratio"] = numbers(sd);
  e2e["min_log10_ratio"] = numbers(lo);
  e2e["max_log10_ratio"] = numbers(hi);
  e2e["median_log10_ratio"] = numbers(median);
  e2e["zero_share"] = numbers(zero_share);
  result["stack_end_to_end"] = e2e;
  summary["end_to_end"] = verdicts;
  result["summary"] = summary;
  return result;
}

// The studies over random networks share seventeen parameters: one list of them for the functions below
// and one of their names and defaults for pybind11 (register_studies), which help() shows as each signature.
#define RNNSCOPE_NETWORK_ARGS                                                                                        \
  const std::string &cell, Index hidden, Index input_size, Index T, int seeds, Index batch, const std::string &init, \
      double scale, double dt, Index skip, double eps, double gamma, double forget_bias, std::uint64_t seed,     \
      int threads, const OptPath &out, bool force
#define RNNSCOPE_NETWORK_SPEC \
  network_spec(cell, hidden, input_size, T, seeds, batch, init, scale, dt, skip, eps, gamma, forget_bias, seed)

py::dict lookback(RNNSCOPE_NETWORK_ARGS) {
  const LookbackSpec spec = RNNSCOPE_NETWORK_SPEC;
  const LookbackResult r = run<LookbackStudy>(spec, threads);
  const std::string label = cell_label(spec.model);
  write_folder(out, force, "rnnscope lookback", "The look-back window of one cell", {{"seed", spec.seed}},
               [&](OutputFolder& f) {
                 return lookback_section(f, {{label, spec, r}});
               });
  py::dict table, s;
  table["model"] = strings(std::vector<std::string>(r.distance.size(), label));
  table["L"] = integers(r.distance);
  table["mean_log10_ratio"] = numbers(r.mean_log10);
  table["std_log10_ratio"] = numbers(r.std_log10);
  table["min_log10_ratio"] = numbers(r.min_log10);
  table["max_log10_ratio"] = numbers(r.max_log10);
  table["median_log10_ratio"] = numbers(r.median_log10);
  table["zero_share"] = numbers(r.zero_share);
  table["theory_log10"] = numbers(r.theory_log10);
  table["bound_log10"] = numbers(r.bound_log10);
  s["mean_log10_ratio_at_T"] = number(r.mean_log10.back());
  s["std_log10_ratio_at_T"] = number(r.std_log10.back());
  s["median_log10_ratio_at_T"] = number(r.median_log10.back());
  s["theory"] = py::module_::import("json").attr("loads")(theory_json(r.theory).dump());
  s["zero_share_at_T"] = number(r.zero_share.back());
  s["bound_log10_at_T"] = last(r.bound_log10);
  s["mean_log10_ratio"] = numbers(r.mean_log10);
  s["bound_log10"] = numbers(r.bound_log10);
  s["lyapunov_top_mean"] = number(r.lyapunov_top_mean);
  return py::dict("lookback"_a = table, "summary"_a = s);
}

py::dict spectrum(RNNSCOPE_NETWORK_ARGS, int max_power) {
  SpectrumSpec spec;
  static_cast<NetworkSpec&>(spec) = RNNSCOPE_NETWORK_SPEC;
  spec.max_power = max_power;
  const SpectrumResult r = run<SpectrumStudy>(spec, threads);
  std::vector<LabelledSpectrum> blocks;
  for (const auto& b : r.blocks) blocks.push_back({b.name, b});
  const std::string what = fmt::format("W_hh of the {} ({}, scale {}, H = {})", cell_label(spec.model), init,
                                       spec.scale, spec.model.hidden_size);
  write_folder(out, force, "rnnscope spectrum", "Spectra of " + what, {{"seed", spec.seed}},
               [&](OutputFolder& f) { return spectrum_section(f, blocks, "spectrum", what); });
  py::dict result, s;
  put_spectra(result, s, blocks, "spectrum");
  result["summary"] = s;
  return result;
}

py::dict lyapunov(RNNSCOPE_NETWORK_ARGS, Index top) {
  LyapunovSpec spec;
  static_cast<NetworkSpec&>(spec) = RNNSCOPE_NETWORK_SPEC;
  spec.top = top;
  const LyapunovResult r = run<LyapunovStudy>(spec, threads);
  const std::string label = cell_label(spec.model);
  write_folder(out, force, "rnnscope lyapunov", "The Lyapunov spectrum of one cell", {{"seed", spec.seed}},
               [&](OutputFolder& f) {
                 return lyapunov_section(f, {{label, spec, r}});
               });
  std::vector<Index> index;
  for (size_t i = 0; i < r.mean.size(); ++i) index.push_back(static_cast<Index>(i + 1));
  py::dict table, s;
  table["model"] = strings(std::vector<std::string>(r.mean.size(), label));
  table["index"] = integers(index);
  table["mean"] = numbers(r.mean);
  table["std"] = numbers(r.std);
  std::vector<double> theory(r.mean.size(), std::numeric_limits<double>::quiet_NaN());
  if (r.theory.available) theory.front() = r.theory.lambda;
  table["theory"] = numbers(theory);
  s["theory"] = py::module_::import("json").attr("loads")(theory_json(r.theory).dump());
  s["largest"] = number(r.mean.front());
  s["smallest"] = number(r.mean.back());
  s["mean"] = numbers(r.mean);
  s["std"] = numbers(r.std);
  return py::dict("lyapunov"_a = table, "summary"_a = s);
}

py::dict contributions(RNNSCOPE_NETWORK_ARGS) {
  ContributionSpec spec;
  static_cast<NetworkSpec&>(spec) = RNNSCOPE_NETWORK_SPEC;
  const ContributionResult r = run<ContributionStudy>(spec, threads);
  const std::string label = cell_label(spec.model);
  write_folder(out, force, "rnnscope contributions", "BPTT contributions by temporal distance", {{"seed", spec.seed}},
               [&](OutputFolder& f) {
                 return contributions_section(f, {{label, spec, r}});
               });
  py::dict table, s;
  table["model"] = strings(std::vector<std::string>(r.distance.size(), label));
  table["distance"] = integers(r.distance);
  table["mean_log10_relative"] = numbers(r.mean_log10);
  table["std_log10_relative"] = numbers(r.std_log10);
  table["zero_share"] = numbers(r.zero_share);
  table["theory_log10"] = numbers(r.theory_log10);
  s["max_sum_error"] = r.max_sum_error;
  s["mean_log10_relative"] = numbers(r.mean_log10);
  s["theory"] = py::module_::import("json").attr("loads")(theory_json(r.theory).dump());
  return py::dict("contributions"_a = table, "summary"_a = s);
}

py::dict activations(double eps, int T, int order, const OptPath& out, bool force) {
  const ActivationSpec spec{eps, T, order};
  const ActivationResult r = run<ActivationsStudy>(spec, 0);
  write_folder(out, force, "rnnscope activations", "sigmoid' against tanh'", {{"eps", spec.eps}, {"order", spec.order}},
               [&](OutputFolder& f) { return activations_section(f, r); });
  const ActivationStudy& a = r.study;
  py::dict rho, curves, s;
  rho["T"] = integers(a.steps);
  rho["rho_exact_pow_T"] = numbers(a.rho_pow);
  rho["rho_approx_pow_T"] = numbers(a.rho_approx_pow);
  rho["rho_first_order_pow_T"] = numbers(a.rho_first_pow);  // as doubles: 0 (inf) where they underflow (overflow)
  rho["rho_exact_log10_pow_T"] = numbers(a.rho_log10_pow);
  rho["rho_approx_log10_pow_T"] = numbers(a.rho_approx_log10_pow);
  rho["rho_first_order_log10_pow_T"] = numbers(a.rho_first_log10_pow);
  rho["ratio_log10_T"] = numbers(a.ratio_log10);
  rho["ratio_T"] = numbers(a.ratio);
  curves["x"] = numbers(r.x);
  curves["sigmoid_prime"] = numbers(r.sigmoid_prime);
  curves["tanh_prime"] = numbers(r.tanh_prime);
  curves["sigmoid_prime_approx"] = numbers(r.sigmoid_prime_approx);
  curves["tanh_prime_approx"] = numbers(r.tanh_prime_approx);
  s["eps"] = a.eps;
  s["order"] = a.order;
  s["sigmoid_prime"] = a.sigmoid_prime;
  s["tanh_prime"] = a.tanh_prime;
  s["sigmoid_prime_approx"] = number(a.sigmoid_prime_approx);
  s["tanh_prime_approx"] = number(a.tanh_prime_approx);
  s["rho"] = a.rho;
  s["rho_approx"] = number(a.rho_approx);
  s["sigmoid_prime_first_order"] = a.sigmoid_prime_first;
  s["tanh_prime_first_order"] = a.tanh_prime_first;
  s["rho_first_order"] = a.rho_first;
  s["rho_pow_T"] = last(a.rho_pow);
  s["rho_approx_pow_T"] = last(a.rho_approx_pow);
  s["rho_log10_pow_T"] = last(a.rho_log10_pow);
  s["rho_approx_log10_pow_T"] = last(a.rho_approx_log10_pow);
  s["ratio_log10_T"] = last(a.ratio_log10);
  s["interval_approx"] = py::make_tuple(number(a.interval_approx.lo), number(a.interval_approx.hi));
  s["interval_exact"] = py::make_tuple(a.interval_exact.lo, a.interval_exact.hi);
  s["sigmoid"] = a.sigmoid_value;
  s["tanh"] = a.tanh_value;
  s["two_sigmoid_2eps_minus_1"] = a.tanh_from_sigmoid;
  s["identity_max_error"] = a.identity_max_error;
  s["sigmoid_prime_series_exact"] = a.sigmoid_prime_series;
  s["tanh_prime_series_exact"] = a.tanh_prime_series;
  // The tables activation_values and activation_series, as the command writes them.
  py::dict values, series;
  std::vector<std::string> quantity;
  std::vector<double> value;
  for (const auto& [name, v] : named_values(a)) {
    quantity.push_back(name);
    value.push_back(v);
  }
  values["quantity"] = strings(quantity);
  values["value"] = numbers(value);
  const std::vector<double>& sc = a.sigmoid_prime_coefficients;
  const std::vector<double>& tc = a.tanh_prime_coefficients;
  std::vector<Index> k(sc.size());
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<Index>(i);
  const bool exact = !a.sigmoid_prime_series.empty();
  series["k"] = integers(k);
  series["sigmoid_prime_coefficient"] = numbers(sc);
  series["tanh_prime_coefficient"] = numbers(tc);
  series["sigmoid_prime_exact"] = strings(exact ? a.sigmoid_prime_series : std::vector<std::string>(sc.size()));
  series["tanh_prime_exact"] = strings(exact ? a.tanh_prime_series : std::vector<std::string>(tc.size()));
  return py::dict("activations"_a = rho, "activation_values"_a = values, "activation_series"_a = series,
                  "activation_curves"_a = curves, "summary"_a = s);
}

py::dict lstm_paths(RNNSCOPE_NETWORK_ARGS) {
  LstmPathSpec spec;
  static_cast<NetworkSpec&>(spec) = RNNSCOPE_NETWORK_SPEC;
  const LstmPathResult r = run<LstmPathStudy>(spec, threads);
  const std::string label = fmt::format("forget bias {}", spec.forget_bias);
  write_folder(out, force, "rnnscope lstm paths", "The LSTM's cell path against its hidden path", {{"seed", spec.seed}},
               [&](OutputFolder& f) {
                 return lstm_paths_section(f, {{label, spec, r}});
               });
  py::dict table, s;
  table["model"] = strings(std::vector<std::string>(r.distance.size(), label));
  table["L"] = integers(r.distance);
  table["cell_path_log10"] = numbers(r.cell_log10);
  table["hidden_path_log10"] = numbers(r.hidden_log10);
  table["total_log10"] = numbers(r.total_log10);
  s["cell_path_log10_at_T"] = last(r.cell_log10);
  s["hidden_path_log10_at_T"] = last(r.hidden_log10);
  s["total_log10_at_T"] = last(r.total_log10);
  s["cell_path_log10"] = numbers(r.cell_log10);
  s["hidden_path_log10"] = numbers(r.hidden_log10);
  s["total_log10"] = numbers(r.total_log10);
  return py::dict("lstm_paths"_a = table, "summary"_a = s);
}

#undef RNNSCOPE_NETWORK_ARGS
#undef RNNSCOPE_NETWORK_SPEC

// rnnscope report: every study, written to out; returns its summary.json.
py::object report(const std::filesystem::path& out, Index T, Index hidden, int seeds, Index batch, std::uint64_t seed,
                  bool learnability, bool force, int threads) {
  StandardReportSpec spec;
  spec.steps = T;
  spec.hidden = hidden;
  spec.seeds = seeds;
  spec.batch = batch;
  spec.seed = seed;
  spec.learnability = learnability;
  spec.validate();
  const Execution e = execution(threads);
  OutputFolder folder(out, force);
  {
    Computing computing;
    const StandardResults results = run_standard_studies(spec, e);
    write_standard_report(folder, spec, results);
  }
  return py::module_::import("json").attr("loads")(
      py::module_::import("pathlib").attr("Path")(out / "summary.json").attr("read_text")());
}

}  // namespace

void register_studies(py::module_& m) {
  using namespace pybind11::literals;
#define RNNSCOPE_NETWORK_PY_ARGS                                                                            \
  py::kw_only(), "cell"_a = "rnn_tanh", "hidden"_a = 32, "input_size"_a = 4, "T"_a = 100, "seeds"_a = 5,    \
                 "batch"_a = 4, "init"_a = "pytorch", "scale"_a = 1.0, "dt"_a = 0.1, "skip"_a = 10,         \
                 "eps"_a = 0.1, "gamma"_a = 0.01, "forget_bias"_a = 0.0, "seed"_a = 1, "threads"_a = 0,      \
                 "out"_a = py::none(), "force"_a = false
  const std::string network_doc =
      " Over `seeds` random networks (cell, hidden, input_size, init, scale, dt, skip, eps, gamma, forget_bias, "
      "seed) on `batch` "
      "random sequences of T steps each, as the command's options of the same names. threads: as --threads. With "
      "out=, the command's folder (figures, tables, index.html, summary.json) is written too (force: as --force). "
      "Returns the tables as dicts of columns under their CSV files' names, and 'summary' with summary.json's keys.";
  m.def("analyze", &analyze, "model"_a, "input"_a, "h0"_a = py::none(), "c0"_a = py::none(), py::kw_only(),
        "max_batch"_a = 8, "max_power"_a = 50, "top"_a = 0, "seed"_a = 1, "threads"_a = 0, "out"_a = py::none(),
        "force"_a = false,
        "Every diagnostic of `rnnscope analyze` on a model and an input (T, B, I), layer by layer: Jacobian-chain "
        "norms with the bound (layer<l>_chains), spectra and W^n of the recurrent matrices (layer<l>_spectrum_"
        "eigenvalues, layer<l>_spectrum_powers), the Lyapunov spectrum (layer<l>_lyapunov) and the contributions "
        "by distance (layer<l>_contributions), for an LSTM layer its forget gates (layer<l>_forget), each a dict of "
        "its CSV columns, and 'summary' with summary.json's "
        "entries (layer<l>). The model is analysed in float64 as the command does. With out=, the command's "
        "folder is written too.");
  m.def(
      "lookback", &lookback, RNNSCOPE_NETWORK_PY_ARGS,
      ("The look-back window ||dL/dh_(T-L)|| / ||dL/dh_T|| against L (log10), with the bound." + network_doc).c_str());
  m.def("spectrum", &spectrum, RNNSCOPE_NETWORK_PY_ARGS, "max_power"_a = 50,
        ("Eigenvalues and ||W^n|| of the recurrent matrices, with Pascanu's conditions." + network_doc).c_str());
  m.def("lyapunov", &lyapunov, RNNSCOPE_NETWORK_PY_ARGS, "top"_a = 0,
        ("The Lyapunov spectrum (top exponents, 0: all)." + network_doc).c_str());
  m.def("contributions", &contributions, RNNSCOPE_NETWORK_PY_ARGS,
        ("The gradient of W_hh by temporal distance, relative to the whole gradient (log10)." + network_doc).c_str());
  m.def("lstm_paths", &lstm_paths, RNNSCOPE_NETWORK_PY_ARGS,
        ("The LSTM's gradient through its cell path against its hidden path (cell='lstm')." + network_doc).c_str());
  m.def("activations", &activations, py::kw_only(), "eps"_a = 0.05, "T"_a = 20, "order"_a = 1, "out"_a = py::none(),
        "force"_a = false,
        "sigmoid' against tanh' at eps and their order-n Maclaurin approximations, and rho(eps)^T for T = 1..T "
        "(`rnnscope activations`): the tables activations, activation_values, activation_series and "
        "activation_curves, and 'summary'.");
  m.def("report", &report, py::kw_only(), "out"_a, "T"_a = 200, "hidden"_a = 32, "seeds"_a = 5, "batch"_a = 4,
        "seed"_a = 1, "learnability"_a = true, "force"_a = false, "threads"_a = 0,
        "The standard gradient-flow report (`rnnscope report`): every study on every cell, written to the folder "
        "out (index.html, summary.json, a CSV per table, every figure). learnability=False leaves out the "
        "learnability grid's training runs, as --quick does. Returns summary.json as a dict.");
#undef RNNSCOPE_NETWORK_PY_ARGS
}

}  // namespace rnnscope::python
