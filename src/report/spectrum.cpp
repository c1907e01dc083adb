// The spectrum section: eigenvalues and W^n of recurrent matrices (studies/spectrum.hpp).

#include "plot.hpp"
#include "rnnscope/io/number_text.hpp"

namespace rnnscope {

using namespace detail;

namespace {
/// A radius or a norm for the screen's 10 columns, at most 9 characters so that a space always parts two columns:
/// 4 decimals, or 4 significant digits where the decimals would not fit (weights near 1e200 printed 200 digits) or
/// would show a nonzero value as 0.0000; 3 past a three-digit exponent (1.14e+200).
std::string screen_value(double v) {
  const bool decimals = v == 0 || (std::isfinite(v) && std::abs(v) >= 1e-3 && std::abs(v) < 1e5);
  if (decimals) return fmt::format("{:.4f}", v);
  if (v != 0 && std::abs(v) < std::numeric_limits<double>::min()) return "<1e-308";
  return number_text(v, std::isfinite(v) && (std::abs(v) >= 1e100 || std::abs(v) < 1e-99) ? 3 : 4);
}
}  // namespace

namespace detail {
/// Eigenvalue and power figures and tables of labelled matrices, files named stem_*.
void spectrum_files(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                    const std::string& what, Section& sec, const std::string& title_prefix) {
  CsvTable eig{{"matrix", "index", "real", "imag", "modulus"}, {}};
  CsvTable pow{{"matrix", "n", "log10_norm_power", "log10_norm_eigen", "relative_difference"}, {}};
  Figure plane;
  plane.name = stem + "_eigenvalues";
  plane.title = title_prefix + "Eigenvalues of " + plain(what) + " in the complex plane";
  plane.xlabel = "Re λ (dimensionless)";
  plane.ylabel = "Im λ (dimensionless)";
  plane.equal_aspect = true;
  plane.unit_circle = true;
  plane.caption = "The eigenvalues λ of " + what +
                  " with the unit circle: those outside are directions Wⁿ stretches, those inside directions it "
                  "shrinks; ρ is the spectral radius.";
  Figure powers;
  powers.name = stem + "_powers";
  powers.title = title_prefix + "‖Wⁿ‖₂ by repeated multiplication and by eigendecomposition";
  powers.xlabel = "power n";
  powers.ylabel = "‖Wⁿ‖₂ (dimensionless)";
  powers.logy = true;
  powers.caption = "The spectral norm of Wⁿ for " + what +
                   ", computed by repeated multiplication (lines) and as ‖Q Λⁿ Q⁻¹‖₂ from the eigendecomposition "
                   "(open circles, same colour); the two agree where Q is well conditioned.";
  // One colour per matrix: its power path a solid line, its eigendecomposition path sparse open circles.
  std::vector<Series> eigen_points;
  for (const auto& [label, b] : blocks) {
    std::vector<double> re, im;
    for (size_t i = 0; i < b.spectrum.eigenvalues.size(); ++i) {
      const auto e = b.spectrum.eigenvalues[i];
      re.push_back(e.real());
      im.push_back(e.imag());
      eig.add_row({label, std::to_string(i), format_number(e.real()), format_number(e.imag()),
                   format_number(std::abs(e))});
    }
    plane.series.push_back(line(fmt::format("{} (ρ = {:.3f})", label, b.spectrum.spectral_radius), re, im,
                                Series::Style::points));
    const auto& p = b.powers;
    const auto n = as_doubles(p.n);
    for (size_t i = 0; i < p.n.size(); ++i)
      pow.add_row({label, std::to_string(p.n[i]), format_number(p.log10_norm_power[i]),
                   p.log10_norm_eigen.empty() ? "" : format_number(p.log10_norm_eigen[i]),
                   p.relative_difference.empty() ? "" : format_number(p.relative_difference[i])});
    const int colour = static_cast<int>(powers.series.size() % 7);
    Series pw = line(fmt::format("{} (ρ = {:.3f}){}", label, b.spectrum.spectral_radius,
                                 p.log10_norm_eigen.empty() ? ", no eigendecomposition (not diagonalisable)" : ""),
                     n, unlog(p.log10_norm_power));
    pw.colour = colour;
    pw.dash = 1;
    powers.series.push_back(pw);
    if (!p.log10_norm_eigen.empty()) {
      Series e = line("", n, unlog(p.log10_norm_eigen), Series::Style::points);
      e.colour = colour;
      e.point = 6;
      e.markers = 20;
      eigen_points.push_back(e);
    }
    double worst = 0;
    for (const double d : p.relative_difference) worst = std::max(worst, d);
    nlohmann::json j = {{"spectral_radius", b.spectrum.spectral_radius},
                        {"norm_2", b.spectrum.singular_values.front()},
                        {"eigenvector_condition", json_number(b.spectrum.eigenvector_condition)},
                        {"diagonalisable", b.spectrum.diagonalisable},
                        {"note", b.spectrum.note + (p.note.empty() ? "" : " " + p.note)},
                        {"max_n", p.n.back()},
                        {"log10_norm_power_at_max_n", json_number(p.log10_norm_power.back())},
                        {"max_relative_difference_power_vs_eigen",
                         p.relative_difference.empty() ? nlohmann::json(nullptr) : json_number(worst)}};
    if (b.has_conditions)
      j["pascanu"] = {{"gamma", b.conditions.gamma},
                      {"threshold_1_over_gamma", b.conditions.threshold},
                      {"relative_tolerance", b.conditions.tolerance},
                      {"vanishing_guaranteed", b.conditions.vanishing_guaranteed},
                      {"exploding_possible", b.conditions.exploding_possible}};
    sec.summary[label] = j;
    sec.screen += fmt::format("{:<22}{:>10}{:>10}{:>12.3g}{:>16}{:>12}{:>13}\n", label,
                              screen_value(b.spectrum.spectral_radius),
                              screen_value(b.spectrum.singular_values.front()),
                              b.spectrum.eigenvector_condition, fixed(p.log10_norm_power.back()),
                              p.relative_difference.empty() ? std::string("withheld") : fmt::format("{:.1e}", worst),
                              b.has_conditions ? b.conditions.verdict() : "-");
  }
  // The matrices fill the legend's first column, the two styles its second.
  const size_t matrices = powers.series.size();
  powers.series.insert(powers.series.end(), eigen_points.begin(), eigen_points.end());
  Series by_power = line("lines: repeated product W·…·W", {}, {});
  by_power.key_only = true;
  by_power.colour = Series::grey;
  by_power.dash = 1;
  Series by_eigen = line("circles: Q Λⁿ Q⁻¹", {}, {}, Series::Style::points);
  by_eigen.key_only = true;
  by_eigen.colour = Series::grey;
  by_eigen.point = 6;
  powers.series.push_back(by_power);
  if (!eigen_points.empty()) powers.series.push_back(by_eigen);
  powers.key_rows = static_cast<int>(std::max<size_t>(matrices, 2));
  add_figure(out, sec, plane);
  add_figure(out, sec, powers);
  out.table(stem + "_eigenvalues.csv", eig);
  out.table(stem + "_powers.csv", pow);
  sec.html.tables.push_back(stem + "_eigenvalues.csv");
  sec.html.tables.push_back(stem + "_powers.csv");
}

std::string spectrum_screen_header(int max_n) {
  return fmt::format("{:<22}{:>10}{:>10}{:>12}{:>16}{:>12}{:>13}\n", "matrix", "rho(W)", "||W||_2", "cond(Q)",
                     fmt::format("log10||W^{}||", max_n), "power/eigen", "Pascanu");
}

}  // namespace detail

namespace {

// The section of spectrum_section but its JSON file, which the caller writes once its summary is complete.
Section spectrum_section_without_json(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks,
                                      const std::string& stem, const std::string& what) {
  Section sec;
  sec.html.id = stem;
  sec.html.title = "Spectra of " + what;
  sec.summary = nlohmann::json::object();
  sec.screen = spectrum_screen_header(blocks.front().block.powers.n.back());
  spectrum_files(out, blocks, stem, what, sec);
  std::string radii, conditions;
  for (const auto& [label, b] : blocks) {
    radii += fmt::format("{}{} {:.3f}", radii.empty() ? "" : ", ", label, b.spectrum.spectral_radius);
    if (b.has_conditions)
      conditions += fmt::format("{}{} {}", conditions.empty() ? "" : ", ", label, b.conditions.verdict());
  }
  const auto& first = blocks.front().block.conditions;
  sec.html.reading = fmt::format(
      "Eigenvalues outside the unit circle are directions W^n stretches, inside ones it shrinks (spectral radius: "
      "{}). ||W^n|| computed by repeated multiplication and by Q Lambda^n Q^-1 agree where Q is well conditioned; "
      "the table gives their relative difference.{}",
      radii,
      conditions.empty()
          ? std::string()
          : fmt::format(" Pascanu's conditions with gamma = {:g} (1/gamma = {:g}; ||W||_2 < 1/gamma guarantees "
                        "vanishing, rho(W) > 1/gamma makes exploding possible; within a relative {:g} of 1/gamma "
                        "neither holds): {}.",
                        first.gamma, first.threshold, first.tolerance, conditions));
  return sec;
}

std::string complex_text(std::complex<double> z) {
  if (z.imag() == 0) return fmt::format("{:.6g}", z.real());
  return fmt::format("{:.6g} {} {:.6g}i", z.real(), z.imag() < 0 ? '-' : '+', std::abs(z.imag()));
}

}  // namespace

Section spectrum_section(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                         const std::string& what) {
  Section sec = spectrum_section_without_json(out, blocks, stem, what);
  out.json(stem + ".json", sec.summary);
  sec.html.tables.push_back(stem + ".json");
  return sec;
}

Section matrix_spectrum_section(OutputFolder& out, const LabelledSpectrum& matrix, const std::string& what) {
  const std::string stem = "spectrum";
  Section sec = spectrum_section_without_json(out, {matrix}, stem, what);
  const auto& [label, b] = matrix;
  const auto& p = b.powers;
  const int max_n = p.n.back();
  // Each eigenvalue's fate under W^n (the seed's three cases), and W^n both ways at a few powers.
  CsvTable t{{"matrix", "index", "real", "imag", "modulus", fmt::format("log10_modulus_to_n_{}", max_n), "regime"},
             {}};
  sec.screen += fmt::format("\neigenvalues by modulus, and |lambda|^n at n = {}:\n", max_n);
  sec.screen += fmt::format("{:>6}{:>34}{:>14}{:>18}  {}\n", "index", "lambda", "|lambda|",
                            fmt::format("log10|lambda|^{}", max_n), "regime");
  nlohmann::json counts = {{"vanishing", 0}, {"at the edge", 0}, {"exploding", 0}};
  const size_t shown = 12;
  for (size_t i = 0; i < b.spectrum.eigenvalues.size(); ++i) {
    const auto z = b.spectrum.eigenvalues[i];
    const double modulus = std::abs(z);
    const double log10_n = modulus > 0 ? max_n * std::log10(modulus) : -INFINITY;
    const char* regime = to_string(power_regime(modulus));
    counts[regime] = counts[regime].get<int>() + 1;
    t.add_row({label, std::to_string(i), format_number(z.real()), format_number(z.imag()), format_number(modulus),
               format_number(log10_n), regime});
    if (i < shown)
      sec.screen += fmt::format("{:>6}{:>34}{:>14.6g}{:>18}  {}\n", i, complex_text(z), modulus,
                                modulus > 0 ? fixed(log10_n) : std::string("zero"), regime);
  }
  if (b.spectrum.eigenvalues.size() > shown)
    sec.screen += fmt::format("{:>6} (all {} in {}_regimes.csv)\n", "...", b.spectrum.eigenvalues.size(), stem);
  sec.screen += fmt::format("\n||W^n||_2 by repeated multiplication and by Q Lambda^n Q^-1:\n{:>8}{:>18}{:>18}{:>16}\n",
                            "n", "log10 by power", "log10 by eigen", "rel. diff.");
  std::vector<int> rows;
  for (const int n : {1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000})
    if (n < max_n) rows.push_back(n);
  rows.push_back(max_n);
  const bool eigen = !p.log10_norm_eigen.empty();
  for (const int n : rows) {
    const size_t i = static_cast<size_t>(n - 1);
    sec.screen += fmt::format("{:>8}{:>18}{:>18}{:>16}\n", n, fixed(p.log10_norm_power[i], 4),
                              eigen ? fixed(p.log10_norm_eigen[i], 4) : std::string("withheld"),
                              eigen ? fmt::format("{:.1e}", p.relative_difference[i]) : std::string("-"));
  }
  const std::string note = b.spectrum.note;
  if (!note.empty()) sec.screen += note + "\n";
  const PowerRegime regime = power_regime(b.spectrum.spectral_radius);
  const std::string verdict = fmt::format(
      "regime of W^n: {} (rho = {:.6g}{}){}", to_string(regime), b.spectrum.spectral_radius,
      regime == PowerRegime::vanishing   ? " < 1: every component shrinks like |lambda|^n"
      : regime == PowerRegime::exploding ? " > 1: the components along |lambda| > 1 grow like |lambda|^n"
                                         : ", within a relative 1e-9 of 1: the components along |lambda| = 1 persist",
      regime == PowerRegime::edge && !b.spectrum.diagonalisable
          ? "; W is not diagonalisable, so W^n still grows like a polynomial in n along its Jordan chains"
          : "");
  sec.screen += verdict + "\n";
  sec.summary[label]["regime"] = to_string(regime);
  sec.summary[label]["eigenvalue_regimes"] = counts;
  sec.html.reading += " " + verdict + ".";
  out.table(stem + "_regimes.csv", t);
  sec.html.tables.push_back(stem + "_regimes.csv");
  out.json(stem + ".json", sec.summary);
  sec.html.tables.push_back(stem + ".json");
  return sec;
}

}  // namespace rnnscope
