// The learnability study in the library: the grid's order, one run's row the
// same alone and inside a study on several workers, early stopping, the
// initial diagnostics against direct computations, the rates, and the files a
// resume reads back (bit for bit, and corrupt or foreign rows refused).
#include <gtest/gtest.h>

#include <Eigen/SVD>
#include <cmath>
#include <sstream>

#include "rnnscope/core/error.hpp"
#include "rnnscope/io/learnability_files.hpp"
#include "rnnscope/studies/learnability.hpp"

namespace rnnscope {
namespace {

/// A grid of 2 arms x 2 lengths x 2 seeds of tiny runs.
LearnabilitySpec small_spec() {
  LearnabilitySpec s;
  s.arms = parse_arms({"rnn_tanh", "gru"}, {"rnn_tanh:orthogonal", "gru:pytorch"});
  s.lengths = {4, 6};
  s.seeds = 2;
  s.train.model.hidden_size = 6;
  s.train.batch = 8;
  s.train.steps = 40;
  s.train.eval_every = 10;
  s.train.eval_size = 16;
  s.train.seed = 5;
  return s;
}

std::string expect_invalid(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidInput& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InvalidInput";
  return "";
}

TEST(Learnability, GridExpandsLengthsThenArmsThenSeeds) {
  const LearnabilitySpec s = small_spec();
  const auto grid = LearnabilityStudy::tasks(s);
  ASSERT_EQ(grid.size(), 8u);
  std::size_t i = 0;
  for (const Index T : {4, 6})
    for (std::size_t a = 0; a < 2; ++a)
      for (int seed = 0; seed < 2; ++seed, ++i) {
        EXPECT_EQ(grid[i].task, i);
        EXPECT_EQ(grid[i].T, T);
        EXPECT_EQ(grid[i].arm, a);
        EXPECT_EQ(grid[i].seed_index, seed);
      }
  const TrainSpec r = s.run_spec(1, 6, 1);
  EXPECT_EQ(r.model.cell, CellKind::gru);
  EXPECT_EQ(r.task.T, 6);
  EXPECT_EQ(r.seed, 6u);
  EXPECT_EQ(r.model.input_size, 2);
}

TEST(Learnability, ArmsFromCellsAndInits) {
  const auto arms = parse_arms({"lstm", "rnn_tanh"}, {"pytorch", "rnn_tanh:orthogonal", "chrono"});
  ASSERT_EQ(arms.size(), 4u);
  EXPECT_EQ(arms[0].name(), "lstm/pytorch");
  EXPECT_EQ(arms[1].name(), "lstm/chrono");
  EXPECT_TRUE(arms[1].chrono);
  EXPECT_EQ(arms[2].name(), "rnn_tanh/pytorch");
  EXPECT_EQ(arms[3].name(), "rnn_tanh/orthogonal");
  EXPECT_NE(expect_invalid([] { parse_arms({"lstm"}, {"gru:pytorch"}); }).find("not among --cells"),
            std::string::npos);
  EXPECT_NE(expect_invalid([] { parse_arms({"lstm", "gru"}, {"lstm:pytorch"}); }).find("no initialisation for gru"),
            std::string::npos);
  EXPECT_NE(expect_invalid([] { parse_arms({"gru"}, {"gru:chrono"}); }).find("chrono"), std::string::npos);
  EXPECT_NE(expect_invalid([] { parse_arms({"lstm"}, {"pytorch", "lstm:pytorch"}); }).find("twice"),
            std::string::npos);
  EXPECT_NE(expect_invalid([] { parse_arms({"lstm"}, {"fancy"}); }).find("unknown"), std::string::npos);
}

TEST(Learnability, SpecLimitsAreRefused) {
  LearnabilitySpec s = small_spec();
  s.lengths = {4, 4};
  EXPECT_NE(expect_invalid([&] { s.validate(); }).find("twice"), std::string::npos);
  s = small_spec();
  s.seeds = 0;
  EXPECT_NE(expect_invalid([&] { s.validate(); }).find("--seeds"), std::string::npos);
  s = small_spec();
  s.lengths = {1};
  EXPECT_NE(expect_invalid([&] { s.validate(); }).find("--T"), std::string::npos);
  s = small_spec();
  s.train.optimizer.lr = -1;
  EXPECT_NE(expect_invalid([&] { s.validate(); }).find("--lr"), std::string::npos);
}

TEST(Learnability, ARunsRowIsTheSameAloneAndInsideAStudyOnTwoWorkers) {
  const LearnabilitySpec s = small_spec();
  const auto grid = LearnabilityStudy::tasks(s);
  std::vector<std::size_t> order;
  LearnabilityHooks hooks;
  hooks.on_row = [&](const LearnabilityRow& r) { order.push_back(r.task); };
  const auto rows = run_learnability(s, grid, 2, hooks);
  ASSERT_EQ(rows.size(), grid.size());
  EXPECT_EQ(order.size(), grid.size());
  const LearnabilityResult result = LearnabilityStudy::reduce(s, rows);
  for (const auto& g : grid) {
    const LearnabilityRow alone = LearnabilityStudy::run(s, g);
    EXPECT_TRUE(same_result(alone, result.rows[g.task])) << "run " << g.task;
    EXPECT_EQ(alone.steps, s.train.steps - (alone.solved ? s.train.steps - *alone.solved_at : 0));
  }
  // And on one worker.
  const auto serial = LearnabilityStudy::reduce(s, run_learnability(s, grid, 1));
  for (std::size_t i = 0; i < grid.size(); ++i) EXPECT_TRUE(same_result(serial.rows[i], result.rows[i])) << i;
}

TEST(Learnability, ASolvedRunStopsAtTheEvaluationThatSolvedIt) {
  // The adding problem at T = 2 is learnt by a GRU in a few hundred steps.
  LearnabilitySpec s;
  s.arms = parse_arms({"gru"}, {"pytorch"});
  s.lengths = {2};
  s.seeds = 1;
  s.train.model.hidden_size = 16;
  s.train.steps = 3000;
  s.train.eval_every = 50;
  s.train.eval_size = 100;
  const LearnabilityRow r = LearnabilityStudy::run(s, LearnabilityStudy::tasks(s)[0]);
  ASSERT_TRUE(r.solved) << r.eval_loss;
  EXPECT_EQ(r.end, "solved");
  EXPECT_EQ(r.steps, *r.solved_at);
  EXPECT_LT(r.steps, 3000);
  EXPECT_EQ(r.steps % 50, 0);
  EXPECT_LT(r.eval_loss, 0.01);
}

TEST(Learnability, InitialDiagnosticsEqualTheInitialisedNetworks) {
  const LearnabilitySpec s = small_spec();
  const auto grid = LearnabilityStudy::tasks(s);
  for (const std::size_t i : {std::size_t{0}, std::size_t{3}}) {  // an Elman run and a GRU run
    const auto& g = grid[i];
    const LearnabilityRow row = LearnabilityStudy::run(s, g);
    const TrainSpec ts = s.run_spec(g.arm, g.T, g.seed_index);
    TrainState<double> state = initial_state<double>(ts);
    const Mat<double> w =
        std::visit([](const auto& st) { return Mat<double>(st.layer(0).params.weight_hh); }, state.model);
    const Index H = w.cols();
    ASSERT_EQ(row.blocks.size(), static_cast<std::size_t>(w.rows() / H));
    double norm_max = 0;
    for (std::size_t b = 0; b < row.blocks.size(); ++b) {
      const Mat<double> block = w.middleRows(static_cast<Index>(b) * H, H);
      const double norm = Eigen::JacobiSVD<Mat<double>>(block).singularValues()(0);
      EXPECT_NEAR(row.blocks[b].norm, norm, 1e-12 * norm);
      const double rho = Eigen::EigenSolver<Mat<double>>(block).eigenvalues().cwiseAbs().maxCoeff();
      EXPECT_NEAR(row.blocks[b].rho, rho, 1e-10 * rho);
      norm_max = std::max(norm_max, norm);
    }
    EXPECT_NEAR(row.norm_max, norm_max, 1e-12 * norm_max);
    // The look-back ratio is the first gradient-flow record of the same run trained in double.
    TrainSpec one_step = ts;
    one_step.steps = 1;
    train<double>(one_step, state, Execution{1, nullptr});
    EXPECT_EQ(row.lookback_log10, state.flow.front().log10_ratio.back());
    EXPECT_TRUE(std::isfinite(row.lyapunov_max));
    EXPECT_LT(row.lyapunov_max, 0.0);  // a small-scale network at initialisation contracts
  }
}

TEST(Learnability, TheInitialRatioOfALongFloatRunIsFinite) {
  // In float the chain of a tanh network over 300 steps underflows; the
  // diagnostics are taken in double.
  LearnabilitySpec s;
  s.arms = parse_arms({"rnn_tanh"}, {"pytorch"});
  s.lengths = {300};
  s.seeds = 1;
  s.train.model.hidden_size = 16;
  s.train.steps = 1;
  s.train.eval_size = 20;
  const LearnabilityRow r = LearnabilityStudy::run(s, LearnabilityStudy::tasks(s)[0]);
  EXPECT_TRUE(std::isfinite(r.lookback_log10)) << r.lookback_log10;
  EXPECT_LT(r.lookback_log10, -38.0);  // below float's smallest normal number
  EXPECT_TRUE(std::isfinite(r.lyapunov_max));
}

LearnabilityRow row_of(std::size_t task, const LearnabilitySpec& s, bool solved, Index at, double lookback) {
  const auto g = LearnabilityStudy::tasks(s)[task];
  LearnabilityRow r;
  r.task = task;
  r.cell = std::string(to_string(s.arms[g.arm].cell));
  r.init = s.arms[g.arm].init_name();
  r.T = g.T;
  r.seed = s.run_spec(g.arm, g.T, g.seed_index).seed;
  r.solved = solved;
  if (solved) r.solved_at = at;
  r.end = solved ? "solved" : "budget";
  r.steps = solved ? at : s.train.steps;
  r.eval_loss = solved ? 0.001 : 0.17;
  r.eval_metric = 0.5;
  r.lookback_log10 = lookback;
  r.blocks = {{"weight_hh", 1.0, 0.5}};
  return r;
}

TEST(Learnability, RatesAreSharesAndMediansOfEachArmAndLength) {
  const LearnabilitySpec s = small_spec();
  std::vector<LearnabilityRow> rows;
  for (std::size_t i = 0; i < 8; ++i)
    rows.push_back(row_of(i, s, i % 2 == 0 || i >= 6, 10 * (Index(i) + 1), -static_cast<double>(i)));
  const auto r = LearnabilityStudy::reduce(s, rows);
  ASSERT_EQ(r.rates.size(), 4u);
  EXPECT_EQ(r.rates[0].solved, 1);  // runs 0 (solved at 10) and 1
  EXPECT_DOUBLE_EQ(r.rates[0].share, 0.5);
  EXPECT_DOUBLE_EQ(r.rates[0].median_steps, 10);
  EXPECT_DOUBLE_EQ(r.rates[0].median_lookback, -0.5);
  EXPECT_EQ(r.rates[3].solved, 2);  // runs 6 and 7
  EXPECT_DOUBLE_EQ(r.rates[3].median_steps, 75);
  // A lost or doubled run, or a row that is not its run's, is refused.
  auto lost = rows;
  lost.pop_back();
  expect_invalid([&] { LearnabilityStudy::reduce(s, lost); });
  auto foreign = rows;
  foreign[2].seed = 99;
  EXPECT_NE(expect_invalid([&] { LearnabilityStudy::reduce(s, foreign); }).find("not that run's"), std::string::npos);
}

TEST(LearnabilityFiles, RowsAndSpecReadBackBitForBit) {
  const LearnabilitySpec s = small_spec();
  const auto rows = LearnabilityStudy::reduce(s, run_learnability(s, LearnabilityStudy::tasks(s), 2)).rows;
  const std::string runs = runs_table(s, rows).to_string(), blocks = blocks_table(rows).to_string();
  const auto back = read_learnability_rows(s, runs, blocks);
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_TRUE(same_result(back[i], rows[i])) << i;
    EXPECT_EQ(back[i].seconds, rows[i].seconds);
  }
  const LearnabilitySpec again = learnability_spec_from_json(to_json(s));
  EXPECT_EQ(to_json(again), to_json(s));
  EXPECT_EQ(runs_table(again, back).to_string(), runs);
  // Every run here has a mean-field time scale (docs/theory.md: the orthogonal tanh cell and the GRU).
  for (const auto& r : rows) EXPECT_TRUE(std::isfinite(r.xi) && r.xi > 0) << r.cell;
}

TEST(LearnabilityFiles, AStudyWrittenBeforeTheXiColumnResumes) {
  const LearnabilitySpec s = small_spec();
  std::vector<LearnabilityRow> rows = {row_of(0, s, true, 20, -1.5), row_of(1, s, false, 0, -2.5)};
  rows[0].xi = 3.25;
  const std::string runs = runs_table(s, rows).to_string(), blocks = blocks_table(rows).to_string();
  EXPECT_EQ(read_learnability_rows(s, runs, blocks)[0].xi, 3.25);
  // Drop the last column of every line: the header and rows of a runs.csv written before it.
  std::string old;
  std::istringstream in(runs);
  for (std::string line; std::getline(in, line);) old += line.substr(0, line.rfind(',')) + "\n";
  ASSERT_NE(old, runs);
  const auto back = read_learnability_rows(s, old, blocks);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(std::isnan(back[0].xi));
  EXPECT_EQ(back[1].lookback_log10, -2.5);
}

TEST(LearnabilityFiles, CorruptOrForeignRowsAreRefusedNamingTheLine) {
  const LearnabilitySpec s = small_spec();
  std::vector<LearnabilityRow> rows = {row_of(0, s, true, 20, -1.5), row_of(1, s, false, 0, -2.5)};
  const std::string runs = runs_table(s, rows).to_string(), blocks = blocks_table(rows).to_string();
  const auto refuse = [&](const std::string& r, const std::string& b, const std::string& what) {
    const std::string m = expect_invalid([&] { read_learnability_rows(s, r, b); });
    EXPECT_NE(m.find(what), std::string::npos) << m;
  };
  const std::string header = runs.substr(0, runs.find('\n') + 1);
  std::string line1 = runs.substr(header.size());
  line1 = line1.substr(0, line1.find('\n') + 1);
  const auto replace = [](std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  refuse(header + "0,adding,rnn_tanh\n", blocks, "runs.csv, line 2: 3 fields");
  refuse(runs + line1, blocks, "line 4: run 0 is listed twice");
  refuse(replace(runs, ",adding,rnn_tanh,orthogonal,4,5,", ",adding,rnn_tanh,orthogonal,4,9,"), blocks,
         "a row of another study");
  refuse(replace(runs, ",adding,rnn_tanh,orthogonal,4,5,", ",copy,rnn_tanh,orthogonal,4,5,"), blocks,
         "a row of another study");
  refuse(replace(runs, "0,adding", "8,adding"), blocks, "run 8 is not in the grid of 8 runs");
  refuse(replace(runs, ",budget,", ",budget,x"), blocks, "runs.csv, line 3: eval_loss 'x0.17");
  refuse(runs.substr(0, runs.size() - 1), blocks, "incomplete");
  refuse(runs, blocks_table({rows[0]}).to_string(), "run 1 has no rows in blocks.csv");
  refuse("step,loss\n", blocks, "not the header");
  // Blocks of a run whose row was not written yet are dropped, not refused.
  EXPECT_EQ(read_learnability_rows(s, runs_table(s, {rows[0]}).to_string(), blocks).size(), 1u);
}

}  // namespace
}  // namespace rnnscope
