// rnnscope activations: the sigmoid/tanh derivative study (rho(eps)^T, intervals).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "json_util.hpp"
#include "rnnscope/activations/activation.hpp"
#include "rnnscope/diagnostics/activation_study.hpp"
#include "rnnscope/io/files.hpp"

namespace rnnscope::cli {

namespace {

struct Options {
  double eps = 0.05;
  int steps = 20;
  int order = 1;
  std::string out = "rnnscope-activations";
};

std::string interval_text(const Interval& iv) {
  if (iv.unbounded()) return "every eps";
  return fmt::format("|eps| <= {:.10g}", iv.hi);
}

CsvTable rho_table(const ActivationStudy& s) {
  CsvTable t{{"T", "rho_exact_pow_T", "rho_approx_pow_T"}, {}};
  for (size_t i = 0; i < s.steps.size(); ++i)
    t.add_row({std::to_string(s.steps[i]), format_number(s.rho_pow[i]), format_number(s.rho_approx_pow[i])});
  return t;
}

// sigmoid', tanh' and their order-n approximations on [-4, 4], for plotting.
CsvTable curve_table(int order) {
  const auto ps = derivative_maclaurin(Activation::sigmoid, order);
  const auto pt = derivative_maclaurin(Activation::tanh, order);
  CsvTable t{{"x", "sigmoid_prime", "tanh_prime", "sigmoid_prime_approx", "tanh_prime_approx"}, {}};
  for (int i = -200; i <= 200; ++i) {
    const double x = i / 50.0;
    t.add_row({format_number(x), format_number(derivative(Activation::sigmoid, x)),
               format_number(derivative(Activation::tanh, x)), format_number(evaluate_polynomial(ps, x)),
               format_number(evaluate_polynomial(pt, x))});
  }
  return t;
}

nlohmann::json summary(const ActivationStudy& s) {
  nlohmann::json intervals = nlohmann::json::array();
  for (const auto& iv : s.all_intervals) intervals.push_back({json_number(iv.lo), json_number(iv.hi)});
  return {{"eps", s.eps},
          {"order", s.order},
          {"sigmoid_prime", s.sigmoid_prime},
          {"tanh_prime", s.tanh_prime},
          {"sigmoid_prime_approx", json_number(s.sigmoid_prime_approx)},
          {"tanh_prime_approx", json_number(s.tanh_prime_approx)},
          {"rho", s.rho},
          {"rho_approx", json_number(s.rho_approx)},
          {"interval_approx", {json_number(s.interval_approx.lo), json_number(s.interval_approx.hi)}},
          {"intervals_approx", intervals},
          {"interval_exact", {s.interval_exact.lo, s.interval_exact.hi}},
          {"interval_exact_closed_form", exact_derivative_crossing_closed_form()}};
}

void print_table(const ActivationStudy& s) {
  fmt::print("activation study at eps = {}, Maclaurin order {}\n\n", s.eps, s.order);
  fmt::print("{:<16}{:>16}{:>16}\n", "", "exact", fmt::format("order {}", s.order));
  fmt::print("{:<16}{:>16.6f}{:>16.6f}\n", "sigmoid'(eps)", s.sigmoid_prime, s.sigmoid_prime_approx);
  fmt::print("{:<16}{:>16.6f}{:>16.6f}\n", "tanh'(eps)", s.tanh_prime, s.tanh_prime_approx);
  fmt::print("{:<16}{:>16.6f}{:>16.6f}\n\n", "rho(eps)", s.rho, s.rho_approx);
  fmt::print("sigmoid' <= tanh' for {} exactly, for {} at order {}\n\n", interval_text(s.interval_exact),
             interval_text(s.interval_approx), s.order);
  fmt::print("{:>5}{:>16}{:>16}{:>12}\n", "T", "rho^T exact", fmt::format("rho^T order {}", s.order),
             "ratio");
  // At most 20 rows: every T when there are few, evenly spaced ones otherwise.
  const size_t n = s.steps.size(), shown = std::min<size_t>(n, 20);
  for (size_t k = 0; k < shown; ++k) {
    const size_t i = shown == n ? k : k * (n - 1) / (shown - 1);
    fmt::print("{:>5}{:>16.6e}{:>16.6e}{:>12.6f}\n", s.steps[i], s.rho_pow[i], s.rho_approx_pow[i],
               s.rho_pow[i] / s.rho_approx_pow[i]);
  }
}

void run(const Options& o) {
  const auto study = activation_study(o.eps, o.steps, o.order);
  const std::filesystem::path dir = o.out;
  ensure_output_dir(dir);
  write_file_atomic(dir / "activations.csv", rho_table(study).to_string());
  write_file_atomic(dir / "activation_curves.csv", curve_table(o.order).to_string());
  write_file_atomic(dir / "activations.json", summary(study).dump(2) + "\n");
  print_table(study);
  fmt::print("\nwrote {0}/activations.csv, {0}/activation_curves.csv, {0}/activations.json\n", o.out);
}

}  // namespace

void register_activations(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("activations",
                                 "sigmoid' against tanh': exact and Maclaurin approximations, the "
                                 "interval where sigmoid' <= tanh', and rho(eps)^T");
  cmd->add_option("--eps", opts->eps, "point at which the derivatives are compared")->capture_default_str();
  cmd->add_option("--T", opts->steps, "largest power T of rho(eps)^T")->capture_default_str();
  cmd->add_option("--order", opts->order, "order of the Maclaurin approximations")->capture_default_str();
  cmd->add_option("--out", opts->out, "folder for activations.csv, activation_curves.csv, activations.json")
      ->capture_default_str();
  cmd->callback([opts] { run(*opts); });
}

}  // namespace rnnscope::cli
