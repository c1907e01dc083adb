// The spectrum section: eigenvalues and W^n of recurrent matrices (studies/spectrum.hpp).

#include "plot.hpp"

namespace rnnscope {

using namespace detail;

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
    sec.screen += fmt::format("{:<22}{:>10.4f}{:>10.4f}{:>12.3g}{:>16}{:>12}{:>13}\n", label,
                              b.spectrum.spectral_radius, b.spectrum.singular_values.front(),
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

Section spectrum_section(OutputFolder& out, const std::vector<LabelledSpectrum>& blocks, const std::string& stem,
                         const std::string& what) {
  Section sec;
  sec.html.id = stem;
  sec.html.title = "Spectra of " + what;
  sec.summary = nlohmann::json::object();
  sec.screen = spectrum_screen_header(blocks.front().block.powers.n.back());
  spectrum_files(out, blocks, stem, what, sec);
  out.json(stem + ".json", sec.summary);
  sec.html.tables.push_back(stem + ".json");
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

}  // namespace rnnscope
