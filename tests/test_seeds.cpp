// The claims of the five source documents (docs/seeds.md), one test per row of that page's tables, named
// after the row's id. A row is either "closed form" (the expected number is computed here, independently of
// the code under test, from the formula or from the document's corrected value, or is an identity that must
// hold) or "regression: recorded output" (a study on random networks: the number rnnscope printed when the
// table was written, asserted to the digits printed there). The commands run with small sizes so that the
// whole file takes a few seconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_testing.hpp"
#include "reference_testing.hpp"
#include "rnnscope/cells/conv1d.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/core/random.hpp"
#include "rnnscope/diagnostics/contributions.hpp"
#include "rnnscope/io/safetensors.hpp"
#include "rnnscope/sequence/bptt.hpp"
#include "rnnscope/studies/lstm_paths.hpp"

using namespace rnnscope;
namespace fs = std::filesystem;

namespace {

using Row = std::map<std::string, std::string>;

// Folders of the runs, removed when the test binary ends.
struct Folders {
  std::map<std::string, fs::path> by_args;
  ~Folders() {
    for (const auto& [args, dir] : by_args) fs::remove_all(dir);
  }
};

Folders& folders() {
  static Folders f;
  return f;
}

// Runs `rnnscope ARGS --quiet --out DIR` once per test binary and returns DIR.
fs::path ran(const std::string& args) {
  auto& f = folders().by_args;
  if (const auto it = f.find(args); it != f.end()) return it->second;
  const fs::path dir = cli_testing::fresh_dir("seeds" + std::to_string(f.size()) + "_");
  const auto r = cli_testing::run(args + " --quiet --out " + dir.string());
  EXPECT_EQ(r.code, 0) << args << "\n" << r.out;
  f.emplace(args, dir);
  return dir;
}

nlohmann::json json_of(const std::string& args, const std::string& file) {
  return nlohmann::json::parse(cli_testing::read(ran(args) / file));
}

std::vector<Row> csv_of(const std::string& args, const std::string& file) {
  std::istringstream in(cli_testing::read(ran(args) / file));
  auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream s(line);
    std::string cell;
    while (std::getline(s, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    return cells;
  };
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    const auto cells = split(line);
    Row r;
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i) r[header[i]] = cells[i];
    rows.push_back(r);
  }
  return rows;
}

double num(const Row& r, const std::string& col) {
  const auto it = r.find(col);
  EXPECT_NE(it, r.end()) << col;
  return it == r.end() ? std::nan("") : std::stod(it->second);
}

// The rows of a look-back CSV for one model, indexed by L.
std::vector<Row> lookback_rows(const std::string& args) { return csv_of("lookback " + args, "lookback.csv"); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string sci(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6e", v);
  return buf;
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

const std::string kAct = "activations";  // eps 0.05, order 1, T = 1..20: the document's setting

// Relative difference of two matrices, in the Frobenius norm.
double rel(const Mat<double>& a, const Mat<double>& b) { return (a - b).norm() / std::max(a.norm(), b.norm()); }

}  // namespace

// ---------------------------------------------------------------- 000: sigmoid' against tanh'

TEST(Seeds, S000_1a_SigmoidAtZero) {
  const auto j = json_of(kAct + " --eps 0 --T 1", "activations.json");
  EXPECT_EQ(j["sigmoid"].get<double>(), 0.5);
  EXPECT_EQ(j["sigmoid_prime"].get<double>(), 0.25);
}

TEST(Seeds, S000_1b_SigmoidSecondDerivativeVanishes) {
  // sigma''(0) = sigma'(0)(1 - sigma(0)) - sigma(0) sigma'(0) = 1/8 - 1/8 = 0: the coefficient of x in sigma'.
  const auto j = json_of(kAct, "activations.json");
  EXPECT_EQ(j["sigmoid_prime_series_exact"], nlohmann::json({"1/4", "0"}));
  EXPECT_EQ(j["sigmoid_prime_approx"].get<double>(), 0.25);
}

TEST(Seeds, S000_1c_TanhAtZero) {
  const auto j = json_of(kAct + " --eps 0 --T 1", "activations.json");
  EXPECT_EQ(j["tanh"].get<double>(), 0.0);
  EXPECT_EQ(j["tanh_prime"].get<double>(), 1.0);
}

TEST(Seeds, S000_1d_TanhSecondDerivativeVanishes) {
  const auto j = json_of(kAct, "activations.json");
  EXPECT_EQ(j["tanh_prime_series_exact"], nlohmann::json({"1", "0"}));
  EXPECT_EQ(j["tanh_prime_approx"].get<double>(), 1.0);
}

TEST(Seeds, S000_1e_FirstNonconstantTermsAreSecondOrder) {
  // MATH.md: sigma' = 1/4 - x^2/16 + x^4/96 - ..., tanh' = 1 - x^2 + 2x^4/3 - ...
  const auto j = json_of(kAct + " --order 4", "activations.json");
  EXPECT_EQ(j["sigmoid_prime_series_exact"], nlohmann::json({"1/4", "0", "-1/16", "0", "1/96"}));
  EXPECT_EQ(j["tanh_prime_series_exact"], nlohmann::json({"1", "0", "-1", "0", "2/3"}));
}

TEST(Seeds, S000_2a_FirstOrderIntervalIsEveryEps) {
  const auto j = json_of(kAct, "activations.json");
  EXPECT_TRUE(j["interval_approx"][0].is_null());
  EXPECT_TRUE(j["interval_approx"][1].is_null());
}

TEST(Seeds, S000_2b_ExactIntervalIsBounded) {
  const auto j = json_of(kAct, "activations.json");
  const double edge = 2 * std::acosh((1 + std::sqrt(3.0)) / 2);  // 1.6629
  EXPECT_NEAR(j["interval_exact"][0].get<double>(), -edge, 1e-9);
  EXPECT_NEAR(j["interval_exact"][1].get<double>(), edge, 1e-9);
}

TEST(Seeds, S000_2c_SecondOrderIntervalIsBounded) {
  const auto j = json_of(kAct + " --order 2", "activations.json");
  const double edge = 2 / std::sqrt(5.0);  // 1/4 - x^2/16 <= 1 - x^2
  EXPECT_NEAR(j["interval_approx"][0].get<double>(), -edge, 1e-12);
  EXPECT_NEAR(j["interval_approx"][1].get<double>(), edge, 1e-12);
}

TEST(Seeds, S000_3a_ApproximateRatioIsAQuarter) {
  const auto j = json_of(kAct, "activations.json");
  EXPECT_EQ(j["rho_first_order"].get<double>(), 0.25);
  EXPECT_EQ(j["rho_approx"].get<double>(), 0.25);
}

TEST(Seeds, S000_3b_SigmoidAt005) {
  const auto j = json_of(kAct, "activations.json");
  EXPECT_NEAR(j["sigmoid"].get<double>(), sigmoid(0.05), 1e-15);
  EXPECT_EQ(fixed(j["sigmoid"].get<double>(), 4), "0.5125");  // the document's 0.5125
}

TEST(Seeds, S000_3c_SigmoidPrimeAt005) {
  const auto j = json_of(kAct, "activations.json");
  const double s = sigmoid(0.05);
  EXPECT_NEAR(j["sigmoid_prime"].get<double>(), s * (1 - s), 1e-15);
  EXPECT_EQ(fixed(j["sigmoid_prime"].get<double>(), 4), "0.2498");
}

TEST(Seeds, S000_3d_TanhAt005) {
  const auto j = json_of(kAct, "activations.json");
  EXPECT_NEAR(j["tanh"].get<double>(), std::tanh(0.05), 1e-16);
  EXPECT_EQ(fixed(j["tanh"].get<double>(), 4), "0.0500");
}

TEST(Seeds, S000_3e_TanhPrimeAt005) {
  const auto j = json_of(kAct, "activations.json");
  const double t = std::tanh(0.05);
  EXPECT_NEAR(j["tanh_prime"].get<double>(), 1 - t * t, 1e-15);
  EXPECT_EQ(fixed(j["tanh_prime"].get<double>(), 4), "0.9975");
}

TEST(Seeds, S000_3f_RhoAt005IsNot02504) {
  const auto j = json_of(kAct, "activations.json");
  const double c = std::cosh(0.05), h = std::cosh(0.025);
  const double rho = c * c / (4 * h * h);  // MATH.md's closed form
  EXPECT_NEAR(j["rho"].get<double>(), rho, 1e-15);
  EXPECT_EQ(fixed(j["rho"].get<double>(), 4), "0.2505");  // the document says 0.2504 (MATH.md, errata)
  // The document's 0.2504 is its rounded inputs divided: 0.2498 / 0.9975.
  EXPECT_EQ(fixed(0.2498 / 0.9975, 4), "0.2504");
}

namespace {
// Row T of activations.csv at eps 0.05: rho^T from its log10 column, checked against the closed form.
void expect_rho_power(int T, double printed, const std::string& document) {
  const auto rows = csv_of(kAct, "activations.csv");
  ASSERT_EQ(rows.size(), 20u);
  const Row& r = rows[static_cast<size_t>(T - 1)];
  ASSERT_EQ(num(r, "T"), T);
  const double c = std::cosh(0.05), h = std::cosh(0.025), rho = c * c / (4 * h * h);
  EXPECT_NEAR(num(r, "rho_exact_log10_pow_T"), T * std::log10(rho), 1e-12);
  EXPECT_NEAR(num(r, "rho_exact_pow_T") / std::pow(rho, T), 1.0, 1e-12);
  EXPECT_NEAR(num(r, "rho_first_order_log10_pow_T"), T * std::log10(0.25), 1e-12);
  EXPECT_NEAR(std::pow(rho, T) / printed, 1.0, 5e-7) << "the value docs/seeds.md shows";
  (void)document;
}
}  // namespace

TEST(Seeds, S000_3g_RhoPowerT1) { expect_rho_power(1, 2.504689e-01, "0.2504"); }
TEST(Seeds, S000_3h_RhoPowerT5) { expect_rho_power(5, 9.857560e-04, "0.0010"); }
TEST(Seeds, S000_3i_RhoPowerT10) { expect_rho_power(10, 9.717149e-07, "1e-6"); }
TEST(Seeds, S000_3j_RhoPowerT20) { expect_rho_power(20, 9.442299e-13, "1e-12"); }

TEST(Seeds, S000_3k_TrueRatioDropsMoreSlowly) {
  // (rho / (1/4))^T > 1 and growing: the exact curve lies above the first-order one.
  const auto rows = csv_of(kAct, "activations.csv");
  const double c = std::cosh(0.05), h = std::cosh(0.025), rho = c * c / (4 * h * h);
  double last = 0;
  for (const Row& r : rows) {
    const double T = num(r, "T"), ratio_log10 = num(r, "ratio_log10_T");
    EXPECT_NEAR(ratio_log10, T * std::log10(rho / 0.25), 1e-12);
    EXPECT_GT(ratio_log10, last);
    last = ratio_log10;
  }
  EXPECT_EQ(fixed(std::pow(10.0, last), 5), "1.03819");
}

TEST(Seeds, S000_3l_RatioPanelOfThePlot) {
  // ratio_T = (rho / (1/4))^T, the second panel of activation_rho_power (MATH.md's closed form of rho).
  const auto rows = csv_of(kAct, "activations.csv");
  ASSERT_EQ(rows.size(), 20u);
  const double c = std::cosh(0.05), h = std::cosh(0.025), rho = c * c / (4 * h * h);
  for (const Row& r : rows) EXPECT_NEAR(num(r, "ratio_T") / std::pow(rho / 0.25, num(r, "T")), 1.0, 1e-12);
  EXPECT_EQ(fixed(num(rows[19], "ratio_T"), 5), "1.03819");
  const std::string gp = cli_testing::read(ran(kAct) / "activation_rho_power.gp");
  EXPECT_NE(gp.find("set multiplot"), std::string::npos);
  EXPECT_NE(gp.find("set title 'Ratio "), std::string::npos);  // the panel below rho^T
  EXPECT_TRUE(fs::exists(ran(kAct) / "activation_rho_power.png"));
}

TEST(Seeds, S000_4a_LargestDerivatives) {
  const auto rows = csv_of(kAct, "activation_curves.csv");
  double s = 0, t = 0;
  for (const Row& r : rows) {
    s = std::max(s, num(r, "sigmoid_prime"));
    t = std::max(t, num(r, "tanh_prime"));
  }
  EXPECT_EQ(s, 0.25);
  EXPECT_EQ(t, 1.0);
}

namespace {
const std::string kLb = "--hidden 8 --T 20 --seeds 2 --batch 2";
}

TEST(Seeds, S000_4b_BoundsDifferByAFactorFourPerStep) {
  // The same seed draws the same W_hh for both cells: the bounds (gamma ||W_hh||)^L differ by (1/4)^L.
  const auto sig = lookback_rows("--cell rnn_sigmoid " + kLb), tanh = lookback_rows("--cell rnn_tanh " + kLb);
  ASSERT_EQ(sig.size(), 21u);
  ASSERT_EQ(tanh.size(), 21u);
  for (size_t L = 0; L < sig.size(); ++L)
    EXPECT_NEAR(num(sig[L], "bound_log10") - num(tanh[L], "bound_log10"), static_cast<double>(L) * std::log10(0.25),
                1e-9)
        << L;
}

TEST(Seeds, S000_4c_MeasuredSigmoidAgainstTanh) {
  // Regression: recorded output (mean log10 ratio at L = 20, 2 seeds x 2 sequences).
  const auto sig = lookback_rows("--cell rnn_sigmoid " + kLb), tanh = lookback_rows("--cell rnn_tanh " + kLb);
  EXPECT_EQ(fixed(num(sig[20], "mean_log10_ratio"), 3), "-17.236");
  EXPECT_EQ(fixed(num(tanh[20], "mean_log10_ratio"), 3), "-6.807");
  EXPECT_LT(num(sig[20], "mean_log10_ratio"), num(tanh[20], "mean_log10_ratio"));
}

// ---------------------------------------------------------------- 001: the vanishing gradient of an Elman RNN

TEST(Seeds, S001_1_ElmanCellPassesTheGradientCheck) {
  for (const std::string cell : {"rnn_tanh", "rnn_sigmoid"}) {
    const auto r = cli_testing::run("check --cell " + cell);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find(": PASS (tolerance 1.0e-06)"), std::string::npos) << r.out;
  }
}

TEST(Seeds, S001_2_GradientIsTheProductOfStepJacobians) {
  // dL/dh_{-1} = J_0^T J_1^T ... J_{T-1}^T dL/dh_{T-1} for a loss on the last step only, against BPTT.
  Rng rng(3);
  const Index I = 3, H = 4, T = 6;
  Elman<double> cell(I, H, Activation::tanh);
  cell.init_uniform(rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T), h0 = rng.normal_matrix<double>(H, 1);
  const auto cache = cell.forward(x, 1, h0);
  Mat<double> dy = Mat<double>::Zero(H, T);
  dy.col(T - 1) = rng.normal_matrix<double>(H, 1);
  Mat<double> g = dy.col(T - 1);
  for (Index t = T - 1; t >= 0; --t) g = cell.step_jacobian(cache, t, 0).transpose() * g;
  const auto grads = bptt(cell, cache, dy, Mat<double>());
  EXPECT_LT(rel(grads.d_state0, g), 1e-13);
}

namespace {
// a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh, by hand.
Vec<double> preactivation(const Elman<double>& cell, const Mat<double>& x, const Mat<double>& h_prev, Index t) {
  const auto& p = cell.params;
  return p.weight_ih * x.col(t) + p.bias_ih + p.weight_hh * h_prev + p.bias_hh;
}
}  // namespace

TEST(Seeds, S001_3_StepJacobianIsDiagFPrimeTimesW) {
  Rng rng(4);
  const Index I = 2, H = 5, T = 4;
  for (const Activation f : {Activation::tanh, Activation::sigmoid, Activation::relu}) {
    Elman<double> cell(I, H, f);
    cell.init_uniform(rng);
    const Mat<double> x = rng.normal_matrix<double>(I, T), h0 = rng.normal_matrix<double>(H, 1);
    const auto cache = cell.forward(x, 1, h0);
    for (Index t = 0; t < T; ++t) {
      const Vec<double> a = preactivation(cell, x, cache.states.col(t), t);
      Vec<double> fp(H);
      for (Index i = 0; i < H; ++i) {
        const double y = f == Activation::tanh ? std::tanh(a(i)) : sigmoid(a(i));
        fp(i) = f == Activation::tanh ? 1 - y * y : f == Activation::sigmoid ? y * (1 - y) : (a(i) > 0 ? 1.0 : 0.0);
      }
      const Mat<double> expected = fp.asDiagonal() * cell.params.weight_hh;
      EXPECT_LT((cell.step_jacobian(cache, t, 0) - expected).norm(), 1e-14) << to_string(f) << " t=" << t;
    }
  }
}

TEST(Seeds, S001_4_MeasuredRatioStaysUnderTheBound) {
  const auto rows = lookback_rows("--hidden 8 --T 10 --seeds 2 --batch 2");
  ASSERT_EQ(rows.size(), 11u);
  const double slope = num(rows[1], "bound_log10");
  for (size_t L = 0; L < rows.size(); ++L) {
    EXPECT_LE(num(rows[L], "max_log10_ratio"), num(rows[L], "bound_log10") + 1e-12) << L;
    EXPECT_NEAR(num(rows[L], "bound_log10"), static_cast<double>(L) * slope, 1e-9)
        << L;  // (gamma ||W||)^L: a straight line
  }
}

TEST(Seeds, S001_5_GammaRhoBelowOneVanishes) {
  // Orthogonal W_hh times 0.9: ||W_hh||_2 = 0.9, gamma = 1, so the bound is 0.9^L.
  const auto rows = lookback_rows("--init orthogonal --scale 0.9 " + kLb);
  ASSERT_EQ(rows.size(), 21u);
  for (size_t L = 0; L < rows.size(); ++L) {
    EXPECT_NEAR(num(rows[L], "bound_log10"), static_cast<double>(L) * std::log10(0.9), 1e-9) << L;
    EXPECT_LE(num(rows[L], "max_log10_ratio"), num(rows[L], "bound_log10") + 1e-12) << L;
  }
}

TEST(Seeds, S001_6_GammaRhoAboveOneNeedNotExplode) {
  // Regression: recorded output (docs/cli.md's lookback example): the bound grows, the gradient vanishes.
  const auto rows = lookback_rows("--hidden 8 --T 10 --seeds 2 --batch 2");
  EXPECT_EQ(fixed(num(rows[10], "bound_log10"), 3), "0.349");
  EXPECT_EQ(fixed(num(rows[10], "mean_log10_ratio"), 3), "-3.388");
  EXPECT_EQ(fixed(num(rows[10], "max_log10_ratio"), 3), "-2.978");
}

TEST(Seeds, S001_7_LyapunovExponentsAreNegative) {
  // Regression: recorded output (docs/cli.md's lyapunov example).
  const auto rows = csv_of("lyapunov --hidden 8 --T 50 --seeds 2 --batch 2 --top 3", "lyapunov.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(fixed(num(rows[0], "mean"), 4), "-0.7229");
  EXPECT_EQ(fixed(num(rows[1], "mean"), 4), "-0.8515");
  EXPECT_EQ(fixed(num(rows[2], "mean"), 4), "-0.8853");
}

TEST(Seeds, S001_8_SmallWindowsSurviveLargeOnesVanish) {
  // Regression: recorded output.
  const auto rows = lookback_rows("--hidden 8 --T 10 --seeds 2 --batch 2");
  EXPECT_EQ(fixed(num(rows[1], "mean_log10_ratio"), 3), "-0.312");
  EXPECT_EQ(fixed(num(rows[10], "mean_log10_ratio"), 3), "-3.388");
}

TEST(Seeds, S001_9_LongerWindowsVanishMore) {
  const auto rows = lookback_rows("--hidden 8 --T 100 --seeds 2 --batch 2");
  ASSERT_EQ(rows.size(), 101u);
  for (size_t L = 1; L < rows.size(); ++L)
    EXPECT_LT(num(rows[L], "mean_log10_ratio"), num(rows[L - 1], "mean_log10_ratio")) << L;
  EXPECT_EQ(fixed(num(rows[100], "mean_log10_ratio"), 3), "-31.764");  // regression: recorded output
}

namespace {
const std::string kLb50 = "--hidden 8 --T 50 --seeds 2 --batch 2";
std::string at50(const std::string& cell_args) {
  return fixed(num(lookback_rows(cell_args + " " + kLb50)[50], "mean_log10_ratio"), 3);
}
}  // namespace

TEST(Seeds, S001_10_GatedCellsAtInitialisation) {
  // Regression: recorded output (mean log10 ratio at L = 50).
  EXPECT_EQ(at50("--cell rnn_tanh"), "-15.735");
  EXPECT_EQ(at50("--cell lstm"), "-10.613");
  EXPECT_EQ(at50("--cell lstm --forget-bias 1"), "-4.650");
  EXPECT_EQ(at50("--cell gru"), "-9.614");
}

TEST(Seeds, S001_11_OrthogonalAndIdentityInitialisation) {
  // Regression: recorded output. The relu cell with W_hh = I passes its active units' gradient unchanged.
  EXPECT_EQ(at50("--cell rnn_tanh --init orthogonal"), "-9.767");
  const auto relu = lookback_rows("--cell rnn_relu --init identity " + kLb50);
  EXPECT_EQ(fixed(num(relu[50], "mean_log10_ratio"), 3), "-0.466");
  EXPECT_EQ(fixed(num(relu[50], "zero_share"), 3), "0.750");
}

TEST(Seeds, S001_12_SkipAndResidualConnections) {
  // Regression: recorded output.
  EXPECT_EQ(at50("--cell rnn_skip"), "-1.798");
  EXPECT_EQ(at50("--cell rnn_residual"), "1.233");
}

TEST(Seeds, S001_13_ClippingRescalesTheStepNotTheJacobians) {
  // The same first step with and without clipping: the gradient before clipping and the look-back curve
  // (the Jacobian chain) are the same; clipping only shortens the update.
  const std::string base =
      "train --task adding --T 10 --cell rnn_tanh --hidden 8 --batch 10 --steps 1 "
      "--eval-every 1 --eval-size 10 --threads 1 --clip-norm ";
  const auto clipped = csv_of(base + "0.001", "curve.csv"), free = csv_of(base + "0", "curve.csv");
  ASSERT_EQ(clipped.size(), 2u);
  ASSERT_EQ(free.size(), 2u);
  EXPECT_EQ(clipped[1].at("grad_norm"), free[1].at("grad_norm"));
  EXPECT_EQ(clipped[1].at("clipped"), "1");
  EXPECT_EQ(free[1].at("clipped"), "0");
  const auto flow_clipped = csv_of(base + "0.001", "gradient_flow.csv"),
             flow_free = csv_of(base + "0", "gradient_flow.csv");
  size_t compared = 0;
  for (size_t i = 0; i < flow_clipped.size() && i < flow_free.size(); ++i)
    if (flow_clipped[i].at("step") == "0") {
      EXPECT_EQ(flow_clipped[i].at("log10_ratio"), flow_free[i].at("log10_ratio")) << i;
      ++compared;
    }
  EXPECT_EQ(compared, 10u);
}

// ---------------------------------------------------------------- 002: BPTT, eigendecomposition, LSTM

TEST(Seeds, S002_1a_JacobianOfSigmoidLayer) {
  // y = sigma(W x): dy/dx = diag(sigma'(W x)) W, against central differences of the cell's own map.
  Rng rng(5);
  const Index H = 4;
  Elman<double> cell(1, H, Activation::sigmoid, false);
  cell.params.weight_hh = rng.normal_matrix<double>(H, H);
  const Mat<double> u = Mat<double>::Zero(1, 1), x = rng.normal_matrix<double>(H, 1);
  const auto cache = cell.forward(u, 1, x);
  const Vec<double> a = cell.params.weight_hh * x;
  Vec<double> sp(H);
  for (Index i = 0; i < H; ++i) sp(i) = sigmoid(a(i)) * (1 - sigmoid(a(i)));
  const Mat<double> J = cell.step_jacobian(cache, 0, 0);
  EXPECT_LT((J - Mat<double>(sp.asDiagonal() * cell.params.weight_hh)).norm(), 1e-15);
  const double d = 1e-6;
  for (Index j = 0; j < H; ++j) {
    Mat<double> xp = x, xm = x;
    xp(j) += d;
    xm(j) -= d;
    const Mat<double> col = (cell.output(cell.forward(u, 1, xp)) - cell.output(cell.forward(u, 1, xm))) / (2 * d);
    EXPECT_LT((col - J.col(j)).norm(), 1e-9) << j;
  }
}

TEST(Seeds, S002_1b_BpttIsTheSumOverTemporalDistances) {
  const auto j = json_of("contributions --hidden 8 --T 20 --seeds 2 --batch 2", "contributions.json");
  EXPECT_LT(j["Elman tanh"]["max_sum_error"].get<double>(), 1e-14);
  const auto rows = csv_of("contributions --hidden 8 --T 20 --seeds 2 --batch 2", "contributions.csv");
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(num(rows[19], "zero_share"), 1.0);                         // the k = 0 term multiplies h_{-1} = 0
  EXPECT_EQ(fixed(num(rows[1], "mean_log10_relative"), 3), "-0.434");  // regression: recorded output
  EXPECT_EQ(fixed(num(rows[10], "mean_log10_relative"), 3), "-3.670");
}

namespace {
const std::string kTerms = "contributions --terms --T 4 --hidden 2 --seeds 1 --batch 1";
}  // namespace

TEST(Seeds, S002_2a_TermsAddUpToBptt) {
  // The ten terms (t, k) of the seed's "T = 3" (t = 0..3): their entries, summed here, are the BPTT gradient.
  const auto terms = csv_of(kTerms, "terms.csv"), entries = csv_of(kTerms, "term_entries.csv"),
             check = csv_of(kTerms, "terms_check.csv");
  ASSERT_EQ(terms.size(), 10u);
  ASSERT_EQ(entries.size(), 40u);
  ASSERT_EQ(check.size(), 4u);
  std::map<std::pair<int, int>, Mat<double>> term;
  for (const Row& r : entries) {
    auto& m = term.try_emplace({static_cast<int>(num(r, "t")), static_cast<int>(num(r, "k"))}, Mat<double>::Zero(2, 2))
                  .first->second;
    m(static_cast<Index>(num(r, "row")), static_cast<Index>(num(r, "col"))) = num(r, "value");
  }
  ASSERT_EQ(term.size(), 10u);
  Mat<double> exact = Mat<double>::Zero(2, 2), bptt(2, 2);
  for (const auto& [tk, m] : term) exact += m;
  for (const Row& r : check) bptt(static_cast<Index>(num(r, "row")), static_cast<Index>(num(r, "col"))) = num(r, "bptt");
  EXPECT_LT((exact - bptt).norm(), 1e-15 * bptt.norm());
  for (int t = 0; t < 4; ++t) EXPECT_EQ(term.at({t, 0}).norm(), 0.0) << t;  // d+h_0/dW_hh multiplies h_{-1} = 0
  // Regression: recorded output (the norms on the screen).
  EXPECT_EQ(sci(term.at({1, 1}).norm()), "7.142402e-01");
  EXPECT_EQ(sci(term.at({2, 1}).norm()), "7.973257e-02");
  EXPECT_EQ(sci(term.at({2, 2}).norm()), "2.713263e-01");
  EXPECT_EQ(sci(term.at({3, 1}).norm()), "6.217815e-02");
  EXPECT_EQ(sci(term.at({3, 2}).norm()), "2.192317e-01");
  EXPECT_EQ(sci(term.at({3, 3}).norm()), "1.455346e+00");
  // The seed's rows (MATH.md, errata): t = 2 is 2 (2, 0) + (2, 1); t = 3 ends every product in dh_0/dW (zero).
  const Mat<double> seed2 = 2 * term.at({2, 0}) + term.at({2, 1});
  const Mat<double> seed = term.at({0, 0}) + term.at({1, 0}) + term.at({1, 1}) + seed2;
  EXPECT_EQ(fixed(seed2.norm(), 4), "0.0797");
  EXPECT_EQ(fixed((term.at({2, 0}) + term.at({2, 1}) + term.at({2, 2})).norm(), 4), "0.3014");
  EXPECT_EQ(fixed((term.at({3, 0}) + term.at({3, 1}) + term.at({3, 2}) + term.at({3, 3})).norm(), 4), "1.4271");
  EXPECT_EQ(fixed(exact.norm(), 4), "1.3042");
  EXPECT_EQ(fixed(seed.norm(), 4), "0.6673");
  EXPECT_EQ(fixed((seed - exact).norm() / exact.norm(), 3), "1.106");  // the seed misses or doubles it all
}

TEST(Seeds, S002_2a_EachTermIsTheChainWrittenOut) {
  // Term (t, k) = diag(f'(a_k)) J_{k+1}^T ... J_t^T dL_t/dh_t h_{k-1}^T with J_i = diag(f'(a_i)) W_hh, computed
  // here for every (t, k) of T = 4 steps, against the library's terms; a nonzero h_{-1} makes the (t, 0) terms live.
  Rng rng(9);
  const Index I = 2, H = 2, T = 4;
  Elman<double> cell(I, H, Activation::tanh);
  cell.init_uniform(rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T), h0 = rng.normal_matrix<double>(H, 1);
  const Mat<double> dy = rng.normal_matrix<double>(H, T);
  const auto cache = cell.forward(x, 1, h0);
  const auto fprime = [&](Index t) {
    const Vec<double> a = preactivation(cell, x, cache.states.col(t), t);
    return Vec<double>(1 - a.array().tanh().square());
  };
  const auto terms = weight_hh_terms(cell, cache, dy);
  ASSERT_EQ(terms.size(), 10u);
  Mat<double> sum = Mat<double>::Zero(H, H);
  for (const auto& term : terms) {
    Vec<double> g = dy.col(term.t);
    for (Index i = term.t; i > term.k; --i) g = (fprime(i).asDiagonal() * cell.params.weight_hh).transpose() * g;
    const Mat<double> expected = fprime(term.k).cwiseProduct(g) * cache.states.col(term.k).transpose();
    EXPECT_LT((term.weight_hh - expected).norm(), 1e-15 * std::max(1.0, expected.norm())) << term.t << term.k;
    EXPECT_GT(expected.norm(), 0.0);
    sum += term.weight_hh;
  }
  EXPECT_LT(rel(sum, bptt(cell, cache, dy, Mat<double>()).params.weight_hh), 1e-14);
}

TEST(Seeds, S002_2b1_PowerEqualsEigendecomposition) {
  const auto j = json_of("spectrum --hidden 8 --max-power 50", "spectrum.json");
  EXPECT_LT(j["weight_hh"]["max_relative_difference_power_vs_eigen"].get<double>(), 1e-12);
}

namespace {
// The user's W of S002_2b2 and S002_2c1, upper triangular: W^n = [[a^n, c (b^n - a^n) / (b - a)], [0, b^n]].
constexpr double kA = 0.5, kB = 0.9, kC = 0.2;

std::string own_matrix_args(int max_power) {
  static const fs::path dir = [] {
    const fs::path d = cli_testing::fresh_dir("seeds_w");
    fs::create_directories(d);
    std::ofstream(d / "w.csv") << kA << "," << kC << "\n0," << kB << "\n";
    return d;
  }();
  return "spectrum --matrix " + (dir / "w.csv").string() + " --max-power " + std::to_string(max_power);
}

// log10 ||W^n||_2 in closed form: the largest singular value of [[p, q], [0, r]].
double log10_norm_of_power(int n) {
  const double p = std::pow(kA, n), r = std::pow(kB, n), q = kC * (r - p) / (kB - kA);
  const double s = p * p + q * q + r * r, d = p * r;
  return 0.5 * std::log10((s + std::sqrt(s * s - 4 * d * d)) / 2);
}
}  // namespace

TEST(Seeds, S002_2b2_PowerEqualsEigendecompositionForOnesOwnW) {
  const auto j = json_of(own_matrix_args(50), "spectrum.json");
  ASSERT_EQ(j.size(), 1u) << j.dump();
  const auto& w = j.begin().value();
  EXPECT_LT(w["max_relative_difference_power_vs_eigen"].get<double>(), 1e-12);
  EXPECT_NEAR(w["log10_norm_power_at_max_n"].get<double>(), log10_norm_of_power(50), 1e-12);
  EXPECT_NEAR(w["spectral_radius"].get<double>(), kB, 1e-15);
}

TEST(Seeds, S002_2c1_W30IsNotZero) {
  // The document's W^30 = 0 rests on no W; for this one it is 10^-1.324, carried by 0.9^30 = 10^-1.373.
  const auto j = json_of(own_matrix_args(30), "spectrum.json");
  const auto& w = j.begin().value();
  const double got = w["log10_norm_power_at_max_n"].get<double>();
  EXPECT_NEAR(got, log10_norm_of_power(30), 1e-12);
  EXPECT_EQ(fixed(got, 3), "-1.324");
  EXPECT_GT(got, 30 * std::log10(kB) - 1e-9);  // never below the eigenvalue's own power
}

TEST(Seeds, S002_2c2_ProductIsNotDiagPowerTimesWPower) {
  // prod_t diag(sigma'(a_t)) W != diag(prod sigma')  W^n: the factors do not commute (MATH.md, errata).
  Rng rng(6);
  const Index I = 2, H = 4, T = 5;
  Elman<double> cell(I, H, Activation::sigmoid);
  cell.init_uniform(rng);
  cell.params.weight_hh *= 4.0;  // so that the product is not negligible
  const Mat<double> x = rng.normal_matrix<double>(I, T);
  const auto cache = cell.forward(x, 1, Mat<double>());
  Mat<double> product = Mat<double>::Identity(H, H), power = Mat<double>::Identity(H, H);
  Vec<double> diag = Vec<double>::Ones(H);
  for (Index t = 0; t < T; ++t) {
    const Vec<double> a = preactivation(cell, x, cache.states.col(t), t);
    for (Index i = 0; i < H; ++i) diag(i) *= sigmoid(a(i)) * (1 - sigmoid(a(i)));
    product = Mat<double>(cell.step_jacobian(cache, t, 0)) * product;
    power = cell.params.weight_hh * power;
  }
  const Mat<double> document = diag.asDiagonal() * power;
  EXPECT_EQ(fixed(rel(product, document), 3), "0.603");  // regression: the recorded difference
  EXPECT_GT(rel(product, document), 0.1);
}

TEST(Seeds, S002_2c3_ThreeRegimesOfWPowers) {
  // An orthogonal W times s has ||W^n||_2 = s^n exactly: s < 1 vanishes, s = 1 persists, s > 1 explodes.
  for (const double s : {0.5, 1.0, 1.5}) {
    const auto j =
        json_of("spectrum --hidden 8 --max-power 30 --init orthogonal --scale " + fixed(s, 1), "spectrum.json");
    EXPECT_NEAR(j["weight_hh"]["log10_norm_power_at_max_n"].get<double>(), 30 * std::log10(s), 1e-9) << s;
    EXPECT_NEAR(j["weight_hh"]["spectral_radius"].get<double>(), s, 1e-12) << s;
  }
}

TEST(Seeds, S002_3_LstmPassesTheGradientCheck) {
  const auto r = cli_testing::run("check --cell lstm");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(": PASS (tolerance 1.0e-06)"), std::string::npos) << r.out;
}

TEST(Seeds, S002_3b_GatesArePositive) {
  Rng rng(7);
  const Index I = 3, H = 5, T = 20, B = 3;
  LSTM<double> cell(I, H);
  cell.init_uniform(rng);
  const auto cache = cell.forward(rng.normal_matrix<double>(I, T * B, 3.0), B, Mat<double>());
  for (Index c = 0; c < T * B; ++c)
    for (Index r = 0; r < 4 * H; ++r) {
      const double v = cache.gates(r, c);
      const bool tanh_gate = r >= 2 * H && r < 3 * H;  // g; i, f, o are sigmoids
      EXPECT_LT(v, 1.0);
      EXPECT_GT(v, tanh_gate ? -1.0 : 0.0);
    }
}

TEST(Seeds, S002_3c1_DirectCellPathIsDiagF) {
  // The c-to-c block of the LSTM's step Jacobian is exactly diag(f_t): the gates read h_{t-1}, not c_{t-1}.
  Rng rng(8);
  const Index I = 2, H = 3, T = 4;
  LSTM<double> cell(I, H);
  cell.init_uniform(rng);
  const auto cache = cell.forward(rng.normal_matrix<double>(I, T), 1, rng.normal_matrix<double>(2 * H, 1));
  for (Index t = 0; t < T; ++t) {
    const Mat<double> J = cell.step_jacobian(cache, t, 0);
    const Vec<double> f = cache.gates.col(t).segment(H, H);
    EXPECT_EQ(Mat<double>(J.block(H, H, H, H)), Mat<double>(f.asDiagonal())) << t;
  }
}

namespace {
// `analyze` on the two-layer LSTM reference (T = 5, B = 3, H = 6), split into a model and an input file.
std::string analyze_lstm_reference() {
  static const std::string args = [] {
    const fs::path dir = cli_testing::fresh_dir("seeds_lstm_files_");
    fs::create_directories(dir);
    const auto c = check::split_reference(check::reference_dir / "lstm_l2_f64.safetensors");
    write_safetensors(dir / "model.safetensors", c.model);
    write_safetensors(dir / "input.safetensors", c.input);
    folders().by_args.emplace("lstm reference files", dir);  // removed with the runs' folders
    return "analyze --model " + (dir / "model.safetensors").string() + " --input " +
           (dir / "input.safetensors").string();
  }();
  return args;
}

const NamedTensor& tensor(const TensorFile& f, const std::string& name) {
  const auto it = std::find_if(f.tensors.begin(), f.tensors.end(), [&](const auto& t) { return t.name == name; });
  EXPECT_NE(it, f.tensors.end()) << name;
  return *it;
}
}  // namespace

TEST(Seeds, S002_3a_ForgetGatePerStep) {
  const auto rows = csv_of(analyze_lstm_reference(), "layer0_forget.csv");
  ASSERT_EQ(rows.size(), 5u);
  // Closed form at t = 0 of layer 0: f_0 = sigmoid(W_if x_0 + b_if + W_hf h0 + b_hf) from PyTorch's own tensors
  // (gate order i, f, g, o), over the 6 units and 3 sequences.
  const TensorFile ref = read_safetensors(check::reference_dir / "lstm_l2_f64.safetensors");
  const auto &wih = tensor(ref, "weight_ih_l0").values, &whh = tensor(ref, "weight_hh_l0").values,
             &bih = tensor(ref, "bias_ih_l0").values, &bhh = tensor(ref, "bias_hh_l0").values,
             &x = tensor(ref, "input").values, &h0 = tensor(ref, "h0").values;
  const size_t I = 4, H = 6, B = 3;
  double mean = 0, lo = 1, hi = 0;
  for (size_t b = 0; b < B; ++b)
    for (size_t u = 0; u < H; ++u) {
      const size_t r = H + u;  // the forget gate's row
      double a = bih[r] + bhh[r];
      for (size_t i = 0; i < I; ++i) a += wih[r * I + i] * x[b * I + i];
      for (size_t j = 0; j < H; ++j) a += whh[r * H + j] * h0[b * H + j];
      const double f = sigmoid(a);
      mean += f / static_cast<double>(B * H);
      lo = std::min(lo, f);
      hi = std::max(hi, f);
    }
  EXPECT_NEAR(num(rows[0], "mean_forget"), mean, 1e-14);
  EXPECT_NEAR(num(rows[0], "min_forget"), lo, 1e-14);
  EXPECT_NEAR(num(rows[0], "max_forget"), hi, 1e-14);
  // Every step: 0 < min <= mean <= max < 1. Regression: the recorded means (reference data, no random draw).
  const std::vector<std::string> recorded{"0.5529", "0.5178", "0.5279", "0.4771", "0.5037"};
  for (size_t t = 0; t < rows.size(); ++t) {
    EXPECT_GT(num(rows[t], "min_forget"), 0.0);
    EXPECT_LE(num(rows[t], "min_forget"), num(rows[t], "mean_forget"));
    EXPECT_LE(num(rows[t], "mean_forget"), num(rows[t], "max_forget"));
    EXPECT_LT(num(rows[t], "max_forget"), 1.0);
    EXPECT_EQ(fixed(num(rows[t], "mean_forget"), 4), recorded[t]) << t;
  }
  const auto j = json_of(analyze_lstm_reference(), "summary.json");
  EXPECT_EQ(fixed(j["layer0"]["forget"]["mean_forget_over_steps"].get<double>(), 4), "0.5159");
  EXPECT_EQ(fixed(j["layer1"]["forget"]["mean_forget_over_steps"].get<double>(), 4), "0.5164");
}

TEST(Seeds, S002_3c2_CellJacobianIsNotDiagFAlongATrajectory) {
  // At t = 0 the initial h and c are given apart: dc_0/dc_{-1} = diag(f_0) exactly (the direct path, S002_3c1).
  // From t = 1 on h_{t-1} = o_{t-1} tanh(c_{t-1}) carries c_{t-1} into the gates too (MATH.md, errata, 002 3(c)).
  for (const std::string layer : {"layer0", "layer1"}) {
    const auto rows = csv_of(analyze_lstm_reference(), layer + "_forget.csv");
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(num(rows[0], "relative_difference"), 0.0) << layer;
    EXPECT_EQ(num(rows[0], "log10_norm_cell_jacobian"), num(rows[0], "log10_norm_diag_forget")) << layer;
    for (size_t t = 1; t < rows.size(); ++t) EXPECT_GT(num(rows[t], "relative_difference"), 0.1) << layer << t;
  }
  // Regression: recorded output (reference data).
  const auto rows = csv_of(analyze_lstm_reference(), "layer0_forget.csv");
  EXPECT_EQ(fixed(num(rows[4], "relative_difference"), 3), "0.278");
  const auto j = json_of(analyze_lstm_reference(), "summary.json");
  EXPECT_EQ(fixed(j["layer0"]["forget"]["mean_relative_difference"].get<double>(), 3), "0.214");
  EXPECT_EQ(fixed(j["layer1"]["forget"]["mean_relative_difference"].get<double>(), 3), "0.259");
}

TEST(Seeds, S002_3c3_CellPathIsNotNearOneAtInitialisation) {
  // The report's LSTM section (report --quick: xavier, I = 4, H = 8, T = 30, 2 seeds x 2 sequences).
  // Regression: recorded output.
  for (const double fb : {0.0, 1.0}) {
    LstmPathSpec s;
    s.model.cell = CellKind::lstm;
    s.model.input_size = 4;
    s.model.hidden_size = 8;
    s.init = Init::xavier;
    s.steps = 30;
    s.batch = 2;
    s.seeds = 2;
    s.forget_bias = fb;
    const auto r = lstm_path_study(s, {.threads = 1});
    EXPECT_EQ(fixed(r.cell_log10.back(), 3), fb == 0 ? "-8.984" : "-4.110");
    EXPECT_EQ(fixed(r.hidden_log10.back(), 3), fb == 0 ? "-20.191" : "-20.252");
    EXPECT_EQ(fixed(r.total_log10.back(), 3), fb == 0 ? "-5.645" : "-1.812");
  }
}

TEST(Seeds, S002_3c4_CellPathBesideTheTotal) {
  // The report's lstm_paths (report --quick's study through the library): the total, through the full step
  // Jacobians of (h, c), starts at ||[u_h; u_c]|| / sqrt 2 = 1 (log10 0) at L = 0 and ends far above the
  // cell path alone. Regression: recorded output.
  for (const double fb : {0.0, 1.0}) {
    LstmPathSpec s;
    s.model.cell = CellKind::lstm;
    s.model.input_size = 4;
    s.model.hidden_size = 8;
    s.init = Init::xavier;
    s.steps = 30;
    s.batch = 2;
    s.seeds = 2;
    s.forget_bias = fb;
    const auto r = lstm_path_study(s, {.threads = 1});
    ASSERT_EQ(r.total_log10.size(), 31u);
    EXPECT_NEAR(r.total_log10.front(), 0.0, 1e-12) << fb;
    EXPECT_GT(r.total_log10.back(), r.cell_log10.back() + 2) << fb;
    // -5.645 - (-8.984) and -1.812 - (-4.110): the printed values' difference, to their rounding.
    EXPECT_NEAR(r.total_log10.back() - r.cell_log10.back(), fb == 0 ? 3.339 : 2.298, 1.001e-3) << fb;
  }
}

// ---------------------------------------------------------------- 003: convolution, CT-RNN by Euler

namespace {
// The document's convolution y_t = sum_s w_s x_{t-s} (s = 0..K-1, every t with a term) as PyTorch's
// cross-correlation: the kernel reversed and K - 1 zeros of padding at each end.
struct SeedConvolution {
  Index K = 3, T = 6;
  std::vector<double> w{0.7, -1.3, 0.4}, x{0.5, -0.2, 1.1, 0.3, -0.8, 0.6}, g;  // g = dE/dy, T + K - 1 values
  Conv1d<double> conv{1, 1, 3, Conv1dOptions{.padding = 2, .bias = false}};
  Conv1dGradients<double> grads;
  SeedConvolution() {
    for (Index k = 0; k < K; ++k) conv.params.weight(0, k) = w[static_cast<size_t>(K - 1 - k)];
    Mat<double> xm(1, T);
    for (Index t = 0; t < T; ++t) xm(0, t) = x[static_cast<size_t>(t)];
    const auto cache = conv.forward(xm, 1);
    Mat<double> dy(1, T + K - 1);
    for (Index t = 0; t < T + K - 1; ++t) g.push_back(dy(0, t) = std::sin(1.0 + static_cast<double>(t)));
    grads = conv.zero_gradients(cache);
    conv.backward(cache, dy, grads);
  }
  double w_at(Index s) const { return s >= 0 && s < K ? w[static_cast<size_t>(s)] : 0.0; }
  double x_at(Index s) const { return s >= 0 && s < T ? x[static_cast<size_t>(s)] : 0.0; }
};
}  // namespace

TEST(Seeds, S003_2c_ConvolutionPassesTheGradientCheck) {
  // Both gradients (weight and input) against central differences in double, from the command line.
  for (const std::string shape : {"", " --kernel-size 3 --dilation 2", " --kernel-size 1"}) {
    const auto r = cli_testing::run("check --cell conv1d" + shape);
    EXPECT_EQ(r.code, 0) << shape << "\n" << r.out;
    EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("weight"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("input"), std::string::npos) << r.out;
    const auto at = r.out.find("worst relative error ");
    ASSERT_NE(at, std::string::npos) << r.out;
    EXPECT_LT(std::stod(r.out.substr(at + 21)), 1e-8) << r.out;
  }
}

TEST(Seeds, S003_2a_InputGradientIsACorrelationWithW) {
  SeedConvolution c;
  for (Index k = 0; k < c.T; ++k) {
    double expected = 0;  // sum_t dE/dy_t w_{t-k}
    for (Index t = 0; t < c.T + c.K - 1; ++t) expected += c.g[static_cast<size_t>(t)] * c.w_at(t - k);
    EXPECT_NEAR(c.grads.d_input(0, k), expected, 1e-14) << k;
  }
}

TEST(Seeds, S003_2b_WeightGradientIsACorrelationWithX) {
  SeedConvolution c;
  for (Index s = 0; s < c.K; ++s) {
    double expected = 0;  // sum_t dE/dy_t x_{t-s}
    for (Index t = 0; t < c.T + c.K - 1; ++t) expected += c.g[static_cast<size_t>(t)] * c.x_at(t - s);
    // PyTorch's tap k is the document's w_{K-1-k}: in PyTorch's own indices the sign of s flips.
    EXPECT_NEAR(c.grads.params.weight(0, c.K - 1 - s), expected, 1e-14) << s;
  }
}

namespace {
// A two-unit CT-RNN with dt 0.1, no input: the document's w_ij is weight_hh(j, i).
struct SeedCtrnn {
  EulerRnn<double> cell{1, 2, 0.1};
  Mat<double> x0 = Mat<double>(2, 1);
  Mat<double> u = Mat<double>::Zero(1, 1);
  SeedCtrnn() {
    x0 << 0.4, -0.6;
    cell.params.weight_hh << 0.5, -0.3, 0.8, 0.2;
    cell.params.bias_hh << 0.1, 0.3;
  }
  double a(Index i) const {  // sum_k x_k w_ki + b_i
    return cell.params.weight_hh.row(i).dot(x0.col(0)) + cell.params.bias_hh(i);
  }
};
}  // namespace

TEST(Seeds, S003_3a1_EulerStepOfTheCtrnn) {
  SeedCtrnn c;
  const auto cache = c.cell.forward(c.u, 1, c.x0);
  for (Index j = 0; j < 2; ++j) {
    const double theta = 0.1 * (std::tanh(c.a(j)) - c.x0(j)) + c.x0(j);  // the document's first form
    EXPECT_NEAR(c.cell.output(cache)(j, 0), theta, 1e-16) << j;
  }
  EXPECT_EQ(fixed(c.cell.output(cache)(0, 0), 6), "0.404624");
  const auto r = cli_testing::run("check --cell ctrnn --dt 0.1");
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST(Seeds, S003_3a2_SecondFormIsWrong) {
  // x_j^t = 0.1 (tanh(sum_i x_i w_ij - b_j) - x_j): no "+ x_{t-1}", and b's sign flipped (MATH.md, errata).
  SeedCtrnn c;
  const auto cache = c.cell.forward(c.u, 1, c.x0);
  const Vec<double>& b = c.cell.params.bias_hh;
  const double second = 0.1 * (std::tanh(c.a(0) - 2 * b(0)) - c.x0(0));
  EXPECT_EQ(fixed(second, 6), "-0.012709");
  EXPECT_GT(std::abs(second - c.cell.output(cache)(0, 0)), 0.1);
}

TEST(Seeds, S003_3c1_StepJacobianHasOneMinusTanhSquared) {
  SeedCtrnn c;
  const auto cache = c.cell.forward(c.u, 1, c.x0);
  const Mat<double> J = c.cell.step_jacobian(cache, 0, 0);
  const Mat<double>& W = c.cell.params.weight_hh;
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 2; ++j) {
      const double y = std::tanh(c.a(i)), delta = i == j ? 0.9 : 0.0;
      EXPECT_NEAR(J(i, j), 0.1 * (1 - y * y) * W(i, j) + delta, 1e-16) << i << j;  // corrected
      const double document = 0.1 * (1 - y) * W(i, j) + delta;                     // 1 - tanh
      if (i == 0 && j == 0) {
        EXPECT_EQ(fixed(J(i, j), 6), "0.940043");
        EXPECT_EQ(fixed(document, 6), "0.927688");
      }
    }
}

TEST(Seeds, S003_3c2_EulerEigenvaluesMoveTowardOne) {
  // The linearised step (1 - dt) I + dt W has the eigenvalues 1 - dt + dt mu, mu those of W_hh.
  const auto rows = csv_of("spectrum --cell ctrnn --dt 0.5 --hidden 8 --max-power 10", "spectrum_eigenvalues.csv");
  std::vector<std::complex<double>> mu, step;
  for (const Row& r : rows) {
    const std::complex<double> z(num(r, "real"), num(r, "imag"));
    (r.at("matrix") == "weight_hh" ? mu : step).push_back(z);
  }
  ASSERT_EQ(mu.size(), 8u);
  ASSERT_EQ(step.size(), 8u);
  for (const auto& m : mu) {
    const std::complex<double> expected = 0.5 + 0.5 * m;
    double nearest = 1e9;
    for (const auto& s : step) nearest = std::min(nearest, std::abs(s - expected));
    EXPECT_LT(nearest, 1e-6) << m;  // the CSV prints its numbers to that precision at least
  }
}

TEST(Seeds, S003_3d_BiasAndWeightGradientsOfOneStep) {
  // dx_i/db_j = 0.1 (1 - tanh^2(a_i)) [i = j];  dx_i/dW[i, j] = 0.1 (1 - tanh^2(a_i)) x_{t-1}[j].
  SeedCtrnn c;
  const auto cache = c.cell.forward(c.u, 1, c.x0);
  for (Index i = 0; i < 2; ++i) {
    Mat<double> dy = Mat<double>::Zero(2, 1);
    dy(i, 0) = 1;
    const auto g = bptt(c.cell, cache, dy, Mat<double>());
    const double y = std::tanh(c.a(i));
    for (Index j = 0; j < 2; ++j) {
      EXPECT_NEAR(g.params.bias_hh(j), i == j ? 0.1 * (1 - y * y) : 0.0, 1e-16);
      for (Index l = 0; l < 2; ++l)
        EXPECT_NEAR(g.params.weight_hh(l, j), l == i ? 0.1 * (1 - y * y) * c.x0(j) : 0.0, 1e-16);
    }
    if (i == 0) {
      EXPECT_EQ(fixed(g.params.bias_hh(0), 6), "0.080087");
      EXPECT_EQ(fixed(0.1 * (1 - y), 6), "0.055376");
    }
  }
}

// ---------------------------------------------------------------- 004: the derivatives of sigmoid and tanh

TEST(Seeds, S004_1a_SigmoidDerivativeByTheChainRule) {
  for (const double eps : {0.05, 2.0}) {
    const auto j = json_of(kAct + " --eps " + fixed(eps, 2), "activations.json");
    const double e = std::exp(-eps);
    EXPECT_NEAR(j["sigmoid_prime"].get<double>(), e / ((1 + e) * (1 + e)), 1e-15) << eps;
  }
}

TEST(Seeds, S004_1b_SigmoidDerivativeFromSigmoid) {
  for (const double eps : {0.05, 2.0}) {
    const auto j = json_of(kAct + " --eps " + fixed(eps, 2), "activations.json");
    const double s = j["sigmoid"].get<double>();
    EXPECT_NEAR(j["sigmoid_prime"].get<double>(), s * (1 - s), 1e-16) << eps;
  }
}

TEST(Seeds, S004_2a_TanhDerivativeByTheQuotientRule) {
  for (const double eps : {0.05, 2.0}) {
    const auto j = json_of(kAct + " --eps " + fixed(eps, 2), "activations.json");
    const double c = std::exp(eps) + std::exp(-eps);
    EXPECT_NEAR(j["tanh_prime"].get<double>(), 4 / (c * c), 1e-15) << eps;
  }
}

TEST(Seeds, S004_2b_TanhDerivativeFromTanh) {
  for (const double eps : {0.05, 2.0}) {
    const auto j = json_of(kAct + " --eps " + fixed(eps, 2), "activations.json");
    const double t = j["tanh"].get<double>();
    EXPECT_NEAR(j["tanh_prime"].get<double>(), 1 - t * t, 1e-15) << eps;
  }
}

TEST(Seeds, S004_2c_TanhIsTwoSigmoidOfTwoXMinusOne) {
  for (const double eps : {0.05, 2.0}) {
    const auto j = json_of(kAct + " --eps " + fixed(eps, 2), "activations.json");
    EXPECT_NEAR(j["two_sigmoid_2eps_minus_1"].get<double>(), std::tanh(eps), 1e-15) << eps;
    EXPECT_LT(j["identity_max_error"].get<double>(), 1e-15);
  }
}
