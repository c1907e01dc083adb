// rnnscope lookback: ||dL/ds_{T-1-L}|| / ||dL/ds_{T-1}|| against L, with the bound.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "json_util.hpp"
#include "rnnscope/io/files.hpp"

namespace rnnscope::cli {

namespace {

CsvTable lookback_table(const LookbackResult& r) {
  CsvTable t{{"L", "mean_log10_ratio", "std_log10_ratio", "min_log10_ratio", "max_log10_ratio", "bound_log10"}, {}};
  for (size_t i = 0; i < r.distance.size(); ++i)
    t.add_row({std::to_string(r.distance[i]), format_number(r.mean_log10[i]), format_number(r.std_log10[i]),
               format_number(r.min_log10[i]), format_number(r.max_log10[i]),
               r.bound_log10.empty() ? "" : format_number(r.bound_log10[i])});
  return t;
}

void run(const StudyOptions& o) {
  const LookbackSpec spec = to_lookback_spec(o);
  const std::filesystem::path dir = o.out;
  ensure_output_dir(dir);
  const LookbackResult r = lookback_study(spec);
  write_file_atomic(dir / "lookback.csv", lookback_table(r).to_string());
  nlohmann::json lyap = nlohmann::json::array();
  for (double v : r.lyapunov_top) lyap.push_back(json_number(v));
  const nlohmann::json j = {{"cell", o.cell}, {"hidden", o.hidden}, {"input_size", o.input_size}, {"T", o.steps},
                            {"init", o.init}, {"scale", o.scale}, {"dt", o.dt}, {"forget_bias", o.forget_bias},
                            {"seeds", o.seeds}, {"batch", o.batch}, {"seed", o.seed},
                            {"mean_log10_ratio_at_T", json_number(r.mean_log10.back())},
                            {"bound_log10_at_T", r.bound_log10.empty() ? nlohmann::json(nullptr)
                                                                        : json_number(r.bound_log10.back())},
                            {"lyapunov_top_per_seed", lyap}};
  write_file_atomic(dir / "lookback.json", j.dump(2) + "\n");
  fmt::print("look-back study: {} H={} T={} init={} scale={} ({} seeds x {} sequences)\n\n", o.cell, o.hidden,
             o.steps, o.init, o.scale, o.seeds, o.batch);
  fmt::print("{:>6}{:>16}{:>12}{:>14}\n", "L", "mean log10 r", "std", "bound log10");
  const size_t n = r.distance.size(), shown = std::min<size_t>(n, 12);
  for (size_t k = 0; k < shown; ++k) {
    const size_t i = shown == n ? k : k * (n - 1) / (shown - 1);
    fmt::print("{:>6}{:>16.3f}{:>12.3f}{:>14}\n", r.distance[i], r.mean_log10[i], r.std_log10[i],
               r.bound_log10.empty() ? std::string("-") : fmt::format("{:.3f}", r.bound_log10[i]));
  }
  fmt::print("\nwrote {0}/lookback.csv, {0}/lookback.json\n", o.out);
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
