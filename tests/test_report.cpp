// rnnscope report and the study subcommands end to end: every file there and
// well formed, the key numbers right, the same seed giving the same numbers,
// bad options and existing folders refused.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <map>
#include <set>

#include <cmath>
#include <sstream>

#include "cli_testing.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/studies/network.hpp"

using namespace cli_testing;
using nlohmann::json;

namespace {

json summary_of(const fs::path& dir) { return json::parse(read(dir / "summary.json")); }

/// A CSV file as rows of named cells.
std::vector<std::map<std::string, std::string>> csv_rows(const fs::path& file) {
  std::istringstream in(read(file));
  std::string line;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream cols(line);
    std::string cell;
    while (std::getline(cols, cell, ',')) cells.push_back(cell);
    if (header.empty()) {
      header = cells;
      continue;
    }
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size(); ++i) row[header[i]] = i < cells.size() ? cells[i] : "";
    rows.push_back(row);
  }
  return rows;
}

std::set<std::string> models_in(const fs::path& file) {
  std::set<std::string> m;
  for (const auto& row : csv_rows(file)) m.insert(row.at("model"));
  return m;
}

}  // namespace

TEST(Report, QuickReportWritesEveryFileWellFormed) {
  const auto dir = fresh_dir("report");
  const auto r = run("report --quick --quiet --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const auto names = check_folder(dir);
  for (const std::string stem :
       {"activation_derivatives", "activation_rho_power", "lookback", "lookback_elman_sigmoid",
        "lookback_elman_tanh", "lookback_elman_relu", "lookback_lstm", "lookback_gru", "lookback_ct-rnn_dt_0.1",
        "lookback_ct-rnn_dt_1", "spectrum_eigenvalues", "spectrum_powers", "lstm_paths", "lyapunov",
        "contributions", "conv_distance", "lookback_end_to_end_lstm_2_layers"})
    for (const std::string ext : {".png", ".svg", ".dat", ".gp"})
      EXPECT_TRUE(names.count(stem + ext)) << stem + ext;
  for (const std::string table :
       {"activations.csv", "activation_curves.csv", "lookback.csv", "spectrum_eigenvalues.csv", "spectrum_powers.csv",
        "lstm_paths.csv", "lyapunov.csv", "contributions.csv", "conv_distance.csv", "summary.json", "index.html"})
    EXPECT_TRUE(names.count(table)) << table;

  const json s = summary_of(dir);
  // The sigmoid chain decays faster than the tanh chain (sigmoid' <= 1/4).
  const double sig = s["lookback"]["Elman sigmoid"]["mean_log10_ratio_at_T"].get<double>();
  const double tanh = s["lookback"]["Elman tanh"]["mean_log10_ratio_at_T"].get<double>();
  EXPECT_LT(sig, tanh - 3);
  // The two-layer LSTM stack: its end-to-end measure, the input's ratio at L = 0 exactly 1.
  const auto& stack = s["lookback"]["LSTM 2 layers"]["end_to_end"];
  EXPECT_EQ(stack["layers"].get<int>(), 2);
  EXPECT_DOUBLE_EQ(stack["last"]["input"]["mean_log10_ratio"][0].get<double>(), 0.0);
  EXPECT_TRUE(stack["every"]["h1"]["log10_ratio_at_longest_L"].is_number());
  // The bound holds where the cell has one.
  for (const char* cell : {"Elman sigmoid", "Elman tanh", "CT-RNN dt 0.1"}) {
    const auto& c = s["lookback"][cell];
    EXPECT_LE(c["mean_log10_ratio_at_T"].get<double>(), c["bound_log10_at_T"].get<double>() + 1e-9) << cell;
  }
  // Conv1D: exactly zero past the receptive field, nonzero inside it.
  for (const auto& [label, conv] : s["conv1d"].items()) {
    if (!conv.contains("receptive_field")) continue;
    EXPECT_TRUE(conv["zero_past_receptive_field"].get<bool>()) << label;
    EXPECT_EQ(conv["largest_norm_past_receptive_field"].get<double>(), 0.0) << label;
    const auto field = conv["receptive_field"].get<size_t>();
    const auto& g = conv["gradient_norm"];
    ASSERT_GT(g.size(), field) << label;
    EXPECT_GT(g[field - 1].get<double>(), 0.0) << label;
    EXPECT_EQ(g[field].get<double>(), 0.0) << label;
  }
  // A larger forget bias keeps more of the LSTM cell path.
  EXPECT_GT(s["lstm"]["forget bias 1"]["cell_path_log10_at_T"].get<double>(),
            s["lstm"]["forget bias 0"]["cell_path_log10_at_T"].get<double>());
  // Contributions add up to the BPTT gradient.
  for (const auto& [label, c] : s["contributions"].items()) EXPECT_LT(c["max_sum_error"].get<double>(), 1e-10) << label;
  // Orthogonal W_hh: every |lambda| = 1, ||W^n|| = 1.
  EXPECT_NEAR(s["spectrum"]["orthogonal"]["spectral_radius"].get<double>(), 1.0, 1e-10);
  EXPECT_NEAR(s["spectrum"]["orthogonal"]["log10_norm_power_at_max_n"].get<double>(), 0.0, 1e-10);
  fs::remove_all(dir);
}

TEST(Report, SameSeedSameNumbersOtherSeedOtherNumbers) {
  const auto a = fresh_dir("seed_a"), b = fresh_dir("seed_b"), c = fresh_dir("seed_c");
  ASSERT_EQ(run("report --quick --quiet --T 12 --seed 5 --out " + a.string()).code, 0);
  ASSERT_EQ(run("report --quick --quiet --T 12 --seed 5 --out " + b.string()).code, 0);
  ASSERT_EQ(run("report --quick --quiet --T 12 --seed 6 --out " + c.string()).code, 0);
  EXPECT_EQ(read(a / "summary.json"), read(b / "summary.json"));
  EXPECT_EQ(read(a / "lookback.csv"), read(b / "lookback.csv"));
  EXPECT_NE(read(a / "summary.json"), read(c / "summary.json"));
  for (const auto& d : {a, b, c}) fs::remove_all(d);
}

TEST(Report, ExistingFolderIsRefusedAndForceReplacesOnlyItsOwnFiles) {
  const auto dir = fresh_dir("existing");
  ASSERT_EQ(run("report --quick --quiet --T 8 --out " + dir.string()).code, 0);
  const auto again = run("report --quick --quiet --T 8 --out " + dir.string());
  EXPECT_EQ(again.code, 2) << again.out;
  EXPECT_NE(again.out.find("not empty"), std::string::npos) << again.out;
  EXPECT_EQ(std::count(again.out.begin(), again.out.end(), '\n'), 1) << again.out;
  // --force replaces the earlier run and leaves a user's own file alone.
  { std::ofstream(dir / "notes.txt") << "mine\n"; }
  std::ofstream(dir / "lookback.csv", std::ios::app) << "stale\n";
  const auto forced = run("report --quick --quiet --T 8 --force --out " + dir.string());
  ASSERT_EQ(forced.code, 0) << forced.out;
  EXPECT_EQ(read(dir / "notes.txt"), "mine\n");
  EXPECT_EQ(read(dir / "lookback.csv").find("stale"), std::string::npos);
  // A non-empty folder that holds no earlier run is refused even with --force.
  const auto other = fresh_dir("foreign");
  fs::create_directories(other);
  { std::ofstream(other / "thesis.tex") << "x\n"; }
  const auto foreign = run("report --quick --quiet --force --out " + other.string());
  EXPECT_EQ(foreign.code, 2) << foreign.out;
  EXPECT_TRUE(fs::exists(other / "thesis.tex"));
  EXPECT_EQ(std::distance(fs::directory_iterator(other), fs::directory_iterator()), 1);
  fs::remove_all(dir);
  fs::remove_all(other);
}

TEST(Report, ForceRemovesTheTemporariesOfAKilledRun) {
  // What SIGKILL can leave: a file's temporary beside the finished files, or
  // only the marker's temporary (killed while writing it, before anything else).
  const auto dir = fresh_dir("killed");
  ASSERT_EQ(run("report --quick --quiet --T 8 --out " + dir.string()).code, 0);
  { std::ofstream(dir / "lookback.csv.tmp4242") << "step,half"; }
  { std::ofstream(dir / "draft.tmp") << "a user's file\n"; }
  const auto forced = run("report --quick --quiet --T 8 --force --out " + dir.string());
  ASSERT_EQ(forced.code, 0) << forced.out;
  EXPECT_FALSE(fs::exists(dir / "lookback.csv.tmp4242"));
  EXPECT_TRUE(fs::exists(dir / "draft.tmp"));  // not a temporary of ours: no digits after .tmp
  const auto marker_only = fresh_dir("killed_marker");
  fs::create_directories(marker_only);
  { std::ofstream(marker_only / ".rnnscope-output.json.tmp77") << "{\"to"; }
  const auto without_force = run("report --quick --quiet --T 8 --out " + marker_only.string());
  EXPECT_EQ(without_force.code, 2) << without_force.out;
  const auto with_force = run("report --quick --quiet --T 8 --force --out " + marker_only.string());
  ASSERT_EQ(with_force.code, 0) << with_force.out;
  EXPECT_FALSE(fs::exists(marker_only / ".rnnscope-output.json.tmp77"));
  EXPECT_TRUE(fs::exists(marker_only / "index.html"));
  fs::remove_all(dir);
  fs::remove_all(marker_only);
}

TEST(Report, BadOptionsExitTwoWithOneLine) {
  const auto dir = fresh_dir("badopt");
  for (const std::string args :
       {"report --T -5", "report --T 0", "report --hidden 0", "report --seeds -1", "report --threads -2",
        "report --T abc", "report --bogus", "spectrum --cell lstmx", "spectrum --max-power 0",
        "lyapunov --T -1", "lyapunov --top -1", "lyapunov --hidden 4 --top 5", "contributions --cell nope",
        "contributions --init weird", "lookback --dt 0", "activations --T 0", "report --T 20000",
        "report --hidden 5000", "lookback --hidden 100000", "contributions --T 6000", "lyapunov --T 1000000",
        "report --cells lstm,nope", "report --cells lstm,lstm", "report --cells conv1d,conv1d", "report --cells ,",
        "report --init weird", "report --init critical", "report --scale 2", "report --init pytorch --scale 2",
        "report --cells conv1d --init pytorch", "report --cells conv1d --hidden 4", "report --eps nan",
        "report --eps inf", "report --order -1", "report --order x"}) {
    const auto r = run(args + " --quiet --out " + dir.string());
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("error"), std::string::npos) << args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << "\n" << r.out;
    EXPECT_FALSE(fs::exists(dir)) << args << ": a bad option must not create the folder";
  }
  const auto r = run("report --quick --quiet --out /proc/rnnscope-cannot-write");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("/proc/rnnscope-cannot-write"), std::string::npos) << r.out;
}

TEST(Report, StudySubcommandsWriteTablesFiguresAndIndex) {
  struct Case {
    std::string args;
    std::vector<std::string> files;
  };
  const std::vector<Case> cases = {
      {"spectrum --cell lstm --hidden 6 --max-power 10",
       {"spectrum_eigenvalues.png", "spectrum_powers.svg", "spectrum_powers.csv", "spectrum.json"}},
      {"lyapunov --cell gru --hidden 5 --T 20 --seeds 2 --top 3", {"lyapunov.png", "lyapunov.csv", "lyapunov.json"}},
      {"contributions --cell rnn_sigmoid --hidden 5 --T 20 --seeds 2",
       {"contributions.png", "contributions.csv", "contributions.json"}},
      {"lookback --cell ctrnn --dt 0.5 --hidden 5 --T 20 --seeds 2",
       {"lookback.png", "lookback_ct-rnn_dt_0.5.png", "lookback.csv", "lookback.json"}},
      {"activations --T 5", {"activation_derivatives.png", "activation_rho_power.svg", "activations.csv"}},
  };
  for (const auto& c : cases) {
    const auto dir = fresh_dir("study");
    const auto r = run(c.args + " --quiet --out " + dir.string());
    ASSERT_EQ(r.code, 0) << c.args << "\n" << r.out;
    const auto names = check_folder(dir);
    for (const auto& f : c.files) EXPECT_TRUE(names.count(f)) << c.args << ": " << f;
    EXPECT_TRUE(names.count("index.html")) << c.args;
    fs::remove_all(dir);
  }
  // lyapunov --top 3 gives three exponents, largest first.
  const auto dir = fresh_dir("lyap");
  ASSERT_EQ(run("lyapunov --cell rnn_tanh --hidden 6 --T 30 --seeds 2 --top 3 --quiet --out " + dir.string()).code, 0);
  const json j = json::parse(read(dir / "lyapunov.json"));
  const auto mean = j.begin().value()["mean"];
  ASSERT_EQ(mean.size(), 3u);
  EXPECT_GE(mean[0].get<double>(), mean[1].get<double>());
  fs::remove_all(dir);
}

TEST(Report, ProgressGoesToStderrOneLinePerStageWhenNotATerminal) {
  const auto dir = fresh_dir("progress");
  // stderr only: "2>&1 >/dev/null" sends stderr to the pipe and stdout away.
  auto stderr_of = [](const std::string& args) {
    const std::string cmd = std::string(RNNSCOPE_CLI_PATH) + " " + args + " 2>&1 >/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    std::string err;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) err.append(buf, n);
    EXPECT_EQ(pclose(p), 0) << err;
    return err;
  };
  const std::string err = stderr_of("report --quick --out " + dir.string());
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 8) << err;
  EXPECT_NE(err.find("[8/8]"), std::string::npos) << err;
  EXPECT_EQ(err.find('\r'), std::string::npos) << err;
  fs::remove_all(dir);
  EXPECT_EQ(stderr_of("report --quick --quiet --out " + dir.string()), "");
  fs::remove_all(dir);
}

TEST(Report, SubcommandsTakeOnlyOptionsThatAct) {
  // activations has no randomness and no parallel work; a recurrent matrix's
  // spectrum depends on neither the Euler step nor the forget-gate bias.
  for (const std::string args : {"activations --seed 3", "activations --threads 2", "spectrum --dt 0.5",
                                 "spectrum --forget-bias 1"}) {
    const auto r = run(args + " --quiet --out " + fresh_dir("inert").string());
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(args.substr(args.find("--"), args.find(' ', args.find("--")) - args.find("--"))),
              std::string::npos)
        << r.out;
  }
}

TEST(Report, WroteCountsOnlyFilesThatExist) {
  // Without gnuplot on PATH the figures' data is written and their images are not: the count says so.
  const auto dir = fresh_dir("nognuplot");
  const std::string cmd = "env PATH=/nonexistent " + std::string(RNNSCOPE_CLI_PATH) +
                          " lookback --hidden 4 --T 10 --seeds 1 --quiet --out " + dir.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != ".rnnscope-output.json") ++files;
  EXPECT_FALSE(fs::exists(dir / "lookback.png"));
  EXPECT_NE(out.find(fmt::format("wrote {} files", files)), std::string::npos) << out;
  EXPECT_NE(out.find("figure not drawn"), std::string::npos) << out;
  fs::remove_all(dir);
}

TEST(Report, CellsChooseTheNetworksAndTheirSections) {
  const auto dir = fresh_dir("cells");
  const auto r = run("report --quick --quiet --cells lstm,gru --T 8 --hidden 4 --seeds 1 --batch 1 --out " +
                     dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::set<std::string> both = {"LSTM", "GRU"};
  // With the LSTM, the look-back study adds its two-layer stack.
  EXPECT_EQ(models_in(dir / "lookback.csv"), std::set<std::string>({"LSTM", "GRU", "LSTM 2 layers"}));
  EXPECT_EQ(models_in(dir / "lyapunov.csv"), both);
  EXPECT_EQ(models_in(dir / "contributions.csv"), both);
  EXPECT_TRUE(fs::exists(dir / "lstm_paths.csv"));
  // The spectrum and the phase diagram are the Elman tanh cell's, the Conv1D stacks their own: left out.
  for (const char* gone : {"spectrum_eigenvalues.csv", "phase_theory.csv", "conv_distance.csv", "lookback_elman_tanh.png"})
    EXPECT_FALSE(fs::exists(dir / gone)) << gone;
  const json s = summary_of(dir);
  EXPECT_EQ(s["run"]["cells"], json({"lstm", "gru"}));
  for (const char* section : {"spectrum", "conv1d", "phase"}) EXPECT_FALSE(s.contains(section)) << section;
  EXPECT_TRUE(s["lookback"].contains("LSTM"));
  fs::remove_all(dir);

  // The Conv1D stacks alone: no RNN beside them, and no recurrent section.
  const auto conv = fresh_dir("cells_conv");
  ASSERT_EQ(run("report --quick --quiet --cells conv1d --T 8 --out " + conv.string()).code, 0);
  EXPECT_EQ(models_in(conv / "conv_distance.csv"),
            (std::set<std::string>{"Conv1D K=3 dilation 1-2-4", "Conv1D K=2 dilation 1-16"}));
  for (const char* gone : {"lookback.csv", "lyapunov.csv", "lstm_paths.csv"}) EXPECT_FALSE(fs::exists(conv / gone));
  fs::remove_all(conv);
}

TEST(Report, InitChangesTheNumbersAndEveryLabelAndMatchesTheCommand) {
  const std::string sizes = " --cells rnn_sigmoid --T 10 --hidden 4 --seeds 2 --batch 2 --quiet --out ";
  const auto x = fresh_dir("init_x"), p = fresh_dir("init_p"), c = fresh_dir("init_c");
  const auto rx = run("report --quick" + sizes + x.string());
  const auto rp = run("report --quick --init pytorch" + sizes + p.string());
  ASSERT_EQ(rx.code, 0) << rx.out;
  ASSERT_EQ(rp.code, 0) << rp.out;
  EXPECT_NE(read(x / "lookback.csv"), read(p / "lookback.csv"));
  EXPECT_EQ(summary_of(x)["run"]["init"], "xavier");
  EXPECT_EQ(summary_of(p)["run"]["init"], "pytorch");
  // Every table on the screen and every figure title says which initialisation its numbers are of.
  for (const char* table : {"look-back study, pytorch initialisation", "Lyapunov spectra, pytorch initialisation",
                            "BPTT contributions by distance d, pytorch initialisation"})
    EXPECT_NE(rp.out.find(table), std::string::npos) << table << "\n" << rp.out;
  EXPECT_EQ(rp.out.find("xavier initialisation"), std::string::npos) << rp.out;
  EXPECT_NE(rx.out.find("look-back study, xavier initialisation"), std::string::npos) << rx.out;
  for (const char* figure : {"lookback.gp", "lyapunov.gp", "contributions.gp"})
    EXPECT_NE(read(p / figure).find("pytorch initialisation"), std::string::npos) << figure;
  // The same study from its own command with the same initialisation gives the same numbers.
  ASSERT_EQ(run("lookback --cell rnn_sigmoid --init pytorch --T 10 --hidden 4 --input-size 4 --seeds 2 --batch 2 "
                "--quiet --out " + c.string())
                .code,
            0);
  EXPECT_EQ(read(c / "lookback.csv"), read(p / "lookback.csv"));
  for (const auto& d : {x, p, c}) fs::remove_all(d);
}

TEST(Report, EpsAndOrderReachTheActivationStudy) {
  const auto dir = fresh_dir("eps_order");
  ASSERT_EQ(run("report --quick --quiet --cells conv1d --T 8 --eps 0.3 --order 2 --out " + dir.string()).code, 0);
  const json a = json::parse(read(dir / "activations.json"));
  EXPECT_EQ(a["eps"].get<double>(), 0.3);
  EXPECT_EQ(a["order"].get<int>(), 2);
  // exact/approximate from the closed forms: rho = cosh^2(eps) / (4 cosh^2(eps/2)); at order 2 sigmoid' ~ 1/4 -
  // x^2/16 and tanh' ~ 1 - x^2.
  const double eps = 0.3, rho = std::pow(std::cosh(eps), 2) / (4 * std::pow(std::cosh(eps / 2), 2));
  const double rho2 = (0.25 - eps * eps / 16) / (1 - eps * eps);
  const auto rows = csv_rows(dir / "activations.csv");
  ASSERT_EQ(rows.size(), 20u);
  for (const auto& row : rows) {
    const int T = std::stoi(row.at("T"));
    EXPECT_NEAR(std::stod(row.at("ratio_T")), std::pow(rho / rho2, T), 1e-12 * std::pow(rho / rho2, T)) << T;
  }
  fs::remove_all(dir);
}

TEST(Report, RatioPanelHoldsExactOverApproximateWherePowersUnderflow) {
  // At T = 600 rho^T (about 10^-361) and its approximation underflow a double; their ratio does not.
  const auto dir = fresh_dir("ratio");
  ASSERT_EQ(run("activations --T 600 --quiet --out " + dir.string()).code, 0);
  const double eps = 0.05, four_rho = std::pow(std::cosh(eps), 2) / std::pow(std::cosh(eps / 2), 2);  // rho / (1/4)
  const auto rows = csv_rows(dir / "activations.csv");
  ASSERT_EQ(rows.size(), 600u);
  for (const auto& row : rows) {
    const int T = std::stoi(row.at("T"));
    const double expected = std::pow(four_rho, T);
    EXPECT_NEAR(std::stod(row.at("ratio_T")), expected, 1e-12 * expected) << T;
    EXPECT_NEAR(std::stod(row.at("ratio_log10_T")), T * std::log10(four_rho), 1e-12 * T) << T;
  }
  // The ratio panel below rho^T: one image, two panels.
  const std::string gp = read(dir / "activation_rho_power.gp");
  EXPECT_NE(gp.find("set multiplot"), std::string::npos);
  EXPECT_NE(gp.find("exact / order 1"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "activation_rho_power.png"));
  EXPECT_TRUE(fs::exists(dir / "activation_rho_power.svg"));
  fs::remove_all(dir);
}

TEST(Report, LstmTotalPathIsTheExactChainOfTheWholeState) {
  // seeds 1 x batch 1: the table's total is one trajectory's, recomputed here by central differences of a
  // forward pass written out (PyTorch's gate order i, f, g, o) on the network the report draws.
  using rnnscope::Index;
  const Index H = 3, T = 6;
  const auto dir = fresh_dir("lstm_total");
  ASSERT_EQ(run("report --quick --quiet --cells lstm --T 6 --hidden 3 --seeds 1 --batch 1 --out " + dir.string()).code,
            0);
  rnnscope::NetworkSpec spec;
  spec.model.cell = rnnscope::CellKind::lstm;
  spec.model.input_size = 4;
  spec.model.hidden_size = H;
  spec.init = rnnscope::Init::xavier;
  spec.steps = T;
  spec.batch = 1;
  spec.seeds = 1;
  spec.seed = 1;
  rnnscope::Rng rng = rnnscope::seed_rng(spec, 0);
  const rnnscope::DrawnNetwork d = rnnscope::draw_network(spec, rng);
  const auto& p = std::get<rnnscope::Stack<rnnscope::LSTM<double>>>(d.model).layer(0).params;
  const rnnscope::Vec<double> u_h = rng.normal_matrix<double>(H, 1), u_c = rng.normal_matrix<double>(H, 1);
  using V = Eigen::VectorXd;
  const auto sigmoid = [](const V& a) { return V((1.0 + (-a.array()).exp()).inverse()); };
  const auto step = [&](const V& s, Index t) {  // s = [h; c] -> the next
    const V a = p.weight_ih * d.x.col(t) + p.bias_ih + p.weight_hh * s.head(H) + p.bias_hh;
    const V i = sigmoid(a.segment(0, H)), f = sigmoid(a.segment(H, H)), o = sigmoid(a.segment(3 * H, H));
    const V g = a.segment(2 * H, H).array().tanh();
    V next(2 * H);
    next.tail(H) = f.cwiseProduct(s.tail(H)) + i.cwiseProduct(g);
    next.head(H) = o.cwiseProduct(V(next.tail(H).array().tanh()));
    return next;
  };
  std::vector<V> states = {V::Zero(2 * H)};  // s_{-1}, s_0, ..., s_{T-1}
  for (Index t = 0; t < T; ++t) states.push_back(step(states.back(), t));
  V u(2 * H);
  u << u_h.normalized(), u_c.normalized();
  std::map<Index, double> total;
  for (const auto& row : csv_rows(dir / "lstm_paths.csv"))
    if (row.at("model") == "forget bias 0") total[std::stoi(row.at("L"))] = std::stod(row.at("total_log10"));
  ASSERT_EQ(total.size(), static_cast<size_t>(T + 1));
  EXPECT_EQ(total[0], 0.0);
  for (Index L = 1; L <= T; ++L) {
    // ds_{T-1} / ds_{T-1-L} column by column.
    Eigen::MatrixXd M(2 * H, 2 * H);
    const double h = 1e-6;
    for (Index j = 0; j < 2 * H; ++j) {
      V plus = states[static_cast<size_t>(T - L)], minus = plus;
      plus[j] += h;
      minus[j] -= h;
      for (Index t = T - L; t < T; ++t) plus = step(plus, t), minus = step(minus, t);
      M.col(j) = (plus - minus) / (2 * h);
    }
    EXPECT_NEAR(total[L], std::log10((M.transpose() * u).norm() / std::sqrt(2.0)), 1e-7) << L;
  }
  // The figure draws the total beside the two single paths.
  EXPECT_NE(read(dir / "lstm_paths.gp").find("total (h, c), forget bias 0"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "lstm_paths.png"));
  fs::remove_all(dir);
}

TEST(Report, LookbackBoundsLeavingThePlotAreMarkedWhereTheyLeave) {
  const auto dir = fresh_dir("marks");
  ASSERT_EQ(run("lookback --cell rnn_tanh --init xavier --T 40 --hidden 8 --seeds 1 --batch 1 --quiet --out " +
                dir.string())
                .code,
            0);
  const json j = json::parse(read(dir / "lookback.json"));
  const auto bound = j["Elman tanh"]["bound_log10"];
  ASSERT_GT(bound[40].get<double>(), 1.0);  // (gamma ||W||)^L grows: it leaves a plot that ends near 10^0
  const std::string gp = read(dir / "lookback_elman_tanh.gp");
  const auto at = gp.find("leaves at L = ");
  ASSERT_NE(at, std::string::npos) << gp;
  // The mark names the first L whose bound is above the plot's top.
  const auto yrange = gp.find("set yrange [");
  ASSERT_NE(yrange, std::string::npos);
  const double top = std::stod(gp.substr(gp.find(':', yrange) + 1));
  const int L = std::stoi(gp.substr(at + 14));
  EXPECT_GT(bound[L].get<double>(), top);
  EXPECT_LE(bound[L - 1].get<double>(), top);
  EXPECT_NE(read(dir / "lookback.gp").find("Elman tanh: (γ ‖Wₕₕ‖₂)ᴸ leaves at L = " + std::to_string(L)),
            std::string::npos);
  fs::remove_all(dir);
}
