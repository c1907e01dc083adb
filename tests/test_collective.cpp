// Data-parallel training (training/trainer.hpp with a Collective): each
// process trains on its share of every minibatch and the gradients are summed,
// so N processes must train the model one process trains, up to the order of
// the sums (within 1e-12 in double). The processes here are threads of this
// test and their Collective a shared buffer, so that the library's mechanism
// is proven in every build, with or without MPI (tests/distributed_runs.py
// runs the same over mpirun).
#include <gtest/gtest.h>

#include <barrier>
#include <cmath>
#include <functional>
#include <memory>
#include <thread>

#include "rnnscope/core/error.hpp"
#include "rnnscope/training/trainer.hpp"

namespace rnnscope {
namespace {

/// N threads as N processes: each sum() waits for all, then adds their
/// values in rank order.
class Threads {
 public:
  explicit Threads(int n) : n_(n), barrier_(n), slots_(static_cast<size_t>(n)), words_(static_cast<size_t>(n)) {}

  class Member final : public Collective {
   public:
    Member(Threads& t, int rank) : t_(t), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return t_.n_; }
    void sum(double* v, std::size_t n) override { add(v, n); }
    void sum(float* v, std::size_t n) override { add(v, n); }
    std::vector<std::uint64_t> gather(std::uint64_t value) override {
      t_.words_[static_cast<size_t>(rank_)] = value;
      t_.barrier_.arrive_and_wait();
      std::vector<std::uint64_t> all = t_.words_;
      t_.barrier_.arrive_and_wait();
      return all;
    }

   private:
    template <class T>
    void add(T* v, std::size_t n) {
      t_.slots_[static_cast<size_t>(rank_)].assign(v, v + n);
      t_.barrier_.arrive_and_wait();
      for (std::size_t i = 0; i < n; ++i) {
        double s = t_.slots_[0][i];
        for (int r = 1; r < t_.n_; ++r) s = static_cast<T>(s + t_.slots_[static_cast<size_t>(r)][i]);
        v[i] = static_cast<T>(s);
      }
      t_.barrier_.arrive_and_wait();
    }
    Threads& t_;
    int rank_;
  };

  /// Runs body(rank, collective) on n threads at once.
  void run(const std::function<void(int, Collective&)>& body) {
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(static_cast<size_t>(n_));
    for (int r = 0; r < n_; ++r)
      threads.emplace_back([&, r] {
        Member m(*this, r);
        try {
          body(r, m);
        } catch (...) {
          errors[static_cast<size_t>(r)] = std::current_exception();
        }
      });
    for (auto& t : threads) t.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

 private:
  int n_;
  std::barrier<> barrier_;
  std::vector<std::vector<double>> slots_;  // doubles hold float values exactly
  std::vector<std::uint64_t> words_;
};

TrainSpec small_spec(CellKind cell, Index layers) {
  TrainSpec s;
  s.task.kind = TaskKind::adding;
  s.task.T = 12;
  s.model.cell = cell;
  s.model.hidden_size = 9;
  s.model.num_layers = layers;
  s.batch = 11;  // not a multiple of 2 or 3: the shares differ in size
  s.steps = 25;
  s.eval_every = 10;
  s.eval_size = 23;
  s.checkpoint_every = 10;
  s.seed = 5;
  return s;
}

double relative(const Vec<double>& a, const Vec<double>& b) { return (a - b).norm() / a.norm(); }

Vec<double> parameters(TrainState<double>& s) {
  std::vector<double> all;
  std::visit([&](auto& stack) {
    stack.for_each_param([&](const char*, auto& t) { all.insert(all.end(), t.data(), t.data() + t.size()); });
  }, s.model);
  s.readout.for_each([&](const char*, auto& t) { all.insert(all.end(), t.data(), t.data() + t.size()); });
  return Eigen::Map<Vec<double>>(all.data(), static_cast<Index>(all.size()));
}

TEST(DataParallel, TwoAndThreeProcessesTrainTheModelOfOneWithin1e12) {
  for (const auto& [cell, layers] : {std::pair{CellKind::lstm, Index{1}}, std::pair{CellKind::gru, Index{2}},
                                     std::pair{CellKind::rnn_tanh, Index{1}}}) {
    const TrainSpec spec = small_spec(cell, layers);
    SCOPED_TRACE(std::string(to_string(cell)));
    TrainState<double> one = initial_state<double>(spec);
    ASSERT_EQ(train<double>(spec, one, Execution{1}).end, TrainOutcome::End::finished);
    for (int n : {2, 3}) {
      std::vector<std::unique_ptr<TrainState<double>>> states(static_cast<size_t>(n));
      Threads(n).run([&](int rank, Collective& c) {
        states[static_cast<size_t>(rank)] = std::make_unique<TrainState<double>>(initial_state<double>(spec));
        Execution e{1};
        e.collective = &c;
        EXPECT_EQ(train<double>(spec, *states[static_cast<size_t>(rank)], e).end, TrainOutcome::End::finished);
      });
      const Vec<double> p1 = parameters(one);
      for (int r = 0; r < n; ++r) {
        const Vec<double> pr = parameters(*states[static_cast<size_t>(r)]);
        EXPECT_LT(relative(p1, pr), 1e-12) << n << " processes, rank " << r;
        if (r > 0) {
          EXPECT_EQ(pr, parameters(*states[0])) << "every process holds the same bits";
        }
      }
      // The curve: the losses of every step and the evaluations.
      const auto& c1 = one.curve;
      const auto& cn = states[0]->curve;
      ASSERT_EQ(c1.size(), cn.size());
      for (size_t i = 1; i < c1.size(); ++i) {
        EXPECT_NEAR(cn[i].train_loss, c1[i].train_loss, 1e-12 * std::abs(c1[i].train_loss)) << "step " << i;
        if (!std::isnan(c1[i].eval_loss)) {
          EXPECT_NEAR(cn[i].eval_loss, c1[i].eval_loss, 1e-12 * c1[i].eval_loss) << "step " << i;
        }
      }
      ASSERT_EQ(one.flow.size(), states[0]->flow.size());
      for (size_t k = 0; k < one.flow.size(); ++k)
        for (size_t d = 0; d < one.flow[k].log10_ratio.size(); ++d)
          EXPECT_NEAR(states[0]->flow[k].log10_ratio[d], one.flow[k].log10_ratio[d], 1e-10);
    }
  }
}

TEST(DataParallel, ProcessesWhoseParametersDifferAreStopped) {
  // Rank 1 starts from parameters one entry of which differs: the checksum
  // compared over the processes must stop every one of them.
  const TrainSpec spec = small_spec(CellKind::rnn_tanh, 1);
  EXPECT_THROW(Threads(2).run([&](int rank, Collective& c) {
    TrainState<double> s = initial_state<double>(spec);
    if (rank == 1) std::visit([](auto& stack) { stack.for_each_param([](const char*, auto& t) { t(0) += 1e-3; }); },
                              s.model);
    Execution e{1};
    e.collective = &c;
    train<double>(spec, s, e);
  }),
               CollectiveMismatch);
}

TEST(DataParallel, AStopAskedOfOneProcessStopsAllAtTheSameStep) {
  const TrainSpec spec = small_spec(CellKind::lstm, 1);
  std::vector<Index> stopped(3);
  Threads(3).run([&](int rank, Collective& c) {
    TrainState<double> s = initial_state<double>(spec);
    Execution e{1};
    e.collective = &c;
    TrainHooks<double> hooks;
    Index polled = 0;
    hooks.stop_requested = [&] { return rank == 2 && ++polled > 7; };
    EXPECT_EQ(train<double>(spec, s, e, hooks).end, TrainOutcome::End::interrupted);
    stopped[static_cast<size_t>(rank)] = s.step;
  });
  EXPECT_EQ(stopped, (std::vector<Index>{7, 7, 7}));
}

TEST(DataParallel, ABatchSmallerThanTheProcessesIsRefused) {
  TrainSpec spec = small_spec(CellKind::rnn_tanh, 1);
  spec.batch = 2;
  TrainState<double> s = initial_state<double>(spec);
  Threads t(3);
  Threads::Member m(t, 0);
  Execution e{1};
  e.collective = &m;
  try {
    train<double>(spec, s, e);
    FAIL() << "no error";
  } catch (const InvalidInput& error) {
    EXPECT_NE(std::string(error.what()).find("--batch 2 is smaller than the 3 processes"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace rnnscope
