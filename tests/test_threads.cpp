// Results do not depend on the thread count (DESIGN.md): every cell's forward
// pass and full and truncated BPTT with one thread equal those with several,
// up to the rounding of the GEMM kernels on slices of different widths, and
// exactly where no product is split (the pipelined sweeps of small batches).
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cell_testing.hpp"
#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"
#include "rnnscope/training/step.hpp"

using namespace rnnscope;
using check::relative_difference;

namespace {

template <class Cell>
class ThreadCount : public ::testing::Test {};
using Cells = ::testing::Types<Elman<double>, LSTM<double>, GRU<double>, EulerRnn<double>, SkipRnn<double>>;
TYPED_TEST_SUITE(ThreadCount, Cells);

struct Run {
  Mat<double> outputs;
  Vec<double> params;
  Mat<double> d_input, d_state0;
};

/// f() with OpenMP's thread count set to `threads`, restored afterwards.
template <class F>
auto with_threads(int threads, F&& f) {
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  auto result = f();
  omp_set_num_threads(saved);
  return result;
#else
  (void)threads;
  return f();
#endif
}

template <class Cell>
Run run(const Cell& cell, const Mat<double>& x, Index B, const Mat<double>& dy, Index window, int threads) {
  return with_threads(threads, [&] {
    const auto c = cell.forward(x, B);
    const auto g = bptt(cell, c, dy, Mat<double>(), window);
    return Run{Mat<double>(cell.output(c)), check::flatten(g.params), g.d_input, g.d_state0};
  });
}

}  // namespace

TYPED_TEST(ThreadCount, OneThreadEqualsThree) {
  Rng rng(31);
  // B = 40 splits into slices of 13-14 columns; I and H large enough that the
  // weight-gradient and input GEMMs are split too.
  const Index I = 70, H = 66, B = 40, T = 9;
  const auto cell = check::make_cell<TypeParam>(I, H, rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
  for (const Index window : {Index{0}, Index{3}}) {
    const Run one = run(cell, x, B, dy, window, 1), three = run(cell, x, B, dy, window, 3);
    EXPECT_LT(relative_difference(one.outputs, three.outputs), 1e-13) << "window " << window;
    EXPECT_LT(relative_difference(one.params, three.params), 1e-13) << "window " << window;
    EXPECT_LT(relative_difference(one.d_input, three.d_input), 1e-13) << "window " << window;
    EXPECT_LT(relative_difference(one.d_state0, three.d_state0), 1e-13) << "window " << window;
  }
}

// A batch of fewer than 16 columns runs its time loops on one thread, and
// with two threads its sweeps are pipelined (cells/batch_schedule.hpp, pipeline_rounds):
// the next forward block's projections, the weight gradients of the backward
// block after and the next chunk of the loss are computed on the second thread
// while a block's steps run. They are the operations one thread does, in the
// same order, so every result is identical to one thread's.
TYPED_TEST(ThreadCount, PipelinedSweepsEqualOneThread) {
  Rng rng(43);
  const Index I = 6, H = 40, B = 5;
  // backward: kMinPipelinedBlocks + 1 blocks, the first one partial; forward as many or more
  const Index T = kMinPipelinedBlocks * backward_block_steps(B) + 7;
  ASSERT_GT(T, kMinPipelinedBlocks * forward_block_steps(H, B, sizeof(double)));
  EXPECT_TRUE(with_threads(2, [&] { return pipelined_sweep(B, kMinPipelinedBlocks); }));
  EXPECT_FALSE(with_threads(2, [&] { return pipelined_sweep(B, kMinPipelinedBlocks - 1); }));  // too short
  EXPECT_FALSE(with_threads(1, [&] { return pipelined_sweep(B, kMinPipelinedBlocks); }));
  EXPECT_FALSE(with_threads(2, [&] { return pipelined_sweep(16, kMinPipelinedBlocks); }));
  const auto cell = check::make_cell<TypeParam>(I, H, rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
  // Full BPTT. (Truncated BPTT sweeps a few steps at a time, one block each,
  // unpipelined, and splits its products over the threads as OneThreadEqualsThree allows.)
  const Run one_thread = run(cell, x, B, dy, 0, 1), two_threads = run(cell, x, B, dy, 0, 2);
  EXPECT_TRUE(one_thread.outputs == two_threads.outputs);
  EXPECT_TRUE(one_thread.params == two_threads.params);
  EXPECT_TRUE(one_thread.d_input == two_threads.d_input);
  EXPECT_TRUE(one_thread.d_state0 == two_threads.d_state0);
  EXPECT_GT(one_thread.params.norm(), 0.0);
  // A training step, whose loss chunks are written on the second thread.
  const Mat<double> target = rng.normal_matrix<double>(H, T * B);
  const auto step = [&](int threads) {
    return with_threads(threads, [&] {
      auto trained = cell;
      TrainingStep<TypeParam> s;
      const double loss = s(trained, x, B, target, 0.1);
      return std::pair<double, Vec<double>>(loss, check::flatten(trained.params));
    });
  };
  const auto one = step(1), two = step(2);
  EXPECT_EQ(one.first, two.first);
  EXPECT_TRUE(one.second == two.second);
}

// for_slices splits a range over the threads, except while a OneThreadScope
// is active on the calling thread (a small batch's sweep that is not
// pipelined): then f covers the whole range at once, and splitting resumes
// when the scope ends. An inactive scope changes nothing.
TEST(ForSlices, AnActiveOneThreadScopeKeepsTheSlicesOnTheCallingThread) {
  const auto slices = [] {
    std::atomic<Index> calls{0}, covered{0};
    for_slices(256, 64, [&](Index, Index n) {
      ++calls;
      covered += n;
    });
    EXPECT_EQ(covered.load(), 256);
    return calls.load();
  };
  with_threads(2, [&] {
#ifdef _OPENMP
    EXPECT_EQ(slices(), 2);
#endif
    {
      const OneThreadScope alone(true);
      EXPECT_EQ(slices(), 1);
      {
        const OneThreadScope nested(true);
        EXPECT_EQ(slices(), 1);
      }
      EXPECT_EQ(slices(), 1);
    }
    {
      const OneThreadScope inactive(false);
#ifdef _OPENMP
      EXPECT_EQ(slices(), 2);
#endif
    }
#ifdef _OPENMP
    EXPECT_EQ(slices(), 2);
#endif
    return 0;
  });
}

// pipeline_rounds runs main(j) and helper(j) for every round, round after
// round, on two threads or on one; an exception from a stage ends the rounds
// (no later round starts) and reaches the caller, with one thread or two.
TEST(PipelineRounds, EveryRoundRunsBothStagesInOrderAndAnExceptionEndsThem) {
  for (const int threads : {1, 2}) {
    std::vector<Index> mains, helpers;  // each written by one stage only
    std::atomic<Index> main_calls{0}, helper_calls{0};
    bool main_in_step = true, helper_in_step = true;  // each written by one stage only
    with_threads(threads, [&] {
      pipeline_rounds(
          6,
          [&](Index j) {
            const Index seen = helper_calls.load();  // round j - 1's helper is done, round j + 1's not started
            main_in_step = main_in_step && (seen == j || seen == j + 1);
            mains.push_back(j);
            ++main_calls;
          },
          [&](Index j) {
            const Index seen = main_calls.load();
            helper_in_step = helper_in_step && (seen == j || seen == j + 1);
            helpers.push_back(j);
            ++helper_calls;
          });
      return 0;
    });
    EXPECT_EQ(mains, (std::vector<Index>{0, 1, 2, 3, 4, 5})) << threads << " threads";
    EXPECT_EQ(helpers, (std::vector<Index>{0, 1, 2, 3, 4, 5})) << threads << " threads";
    EXPECT_TRUE(main_in_step && helper_in_step) << threads << " threads";

    mains.clear();
    std::string message;
    with_threads(threads, [&] {
      try {
        pipeline_rounds(
            6, [&](Index j) { mains.push_back(j); },
            [&](Index j) {
              if (j == 2) throw std::runtime_error("helper failed in round 2");
            });
      } catch (const std::runtime_error& e) {
        message = e.what();
      }
      return 0;
    });
    EXPECT_EQ(message, "helper failed in round 2") << threads << " threads";
    EXPECT_EQ(mains, (std::vector<Index>{0, 1, 2})) << threads << " threads: no round after the exception";
  }
}

// A cotangent chunk that fails (a wrong shape, or the loss throwing) inside a
// pipelined backward sweep gives the error, not a hang or a terminate.
TEST(PipelineRounds, AFailingCotangentChunkIsReported) {
  Rng rng(53);
  const Index I = 3, H = 4, B = 2, T = kMinPipelinedBlocks * backward_block_steps(B);  // pipelined with 2 threads
  const auto cell = check::make_cell<Elman<double>>(I, H, rng);
  const auto cache = cell.forward(rng.normal_matrix<double>(I, T * B), B);
  for (const int threads : {1, 2}) {
    Elman<double>::Gradients grads;
    const auto fails = [&](auto&& chunk) {
      return with_threads(threads, [&] {
        try {
          bptt_chunked(cell, cache, chunk, grads);
        } catch (const InvalidInput& e) {
          return std::string(e.what());
        }
        return std::string("no error");
      });
    };
    const std::string wrong_shape = fails([&](Index t0, Index t1, Mat<double>& d) {
      d = Mat<double>::Zero(H, (t1 - t0) * B - (t0 == 0 ? 1 : 0));  // the first block's chunk is one column short
    });
    EXPECT_NE(wrong_shape.find("d_output"), std::string::npos) << threads << " threads: " << wrong_shape;
    const std::string thrown = fails([&](Index t0, Index t1, Mat<double>& d) {
      if (t0 < T / 2) throw InvalidInput("the loss failed");
      d = Mat<double>::Zero(H, (t1 - t0) * B);
    });
    EXPECT_EQ(thrown, "the loss failed") << threads << " threads";
  }
}

// The chains' norms are formed by one thread and evaluated by all of them as
// they come (diagnostics/jacobian_chain.hpp): each chain's computation does not
// depend on which thread ran it or when, so the results are identical.
TEST(ThreadCountChains, ChainNormsAreTheSameForOneTwoAndThreeThreads) {
  Rng rng(37);
  Elman<double> cell(4, 24, Activation::tanh);
  cell.init_uniform(rng);
  const auto cache = cell.forward(rng.normal_matrix<double>(4, 70 * 2), 2);  // 71 chains: the ring wraps round
  const auto norms = [&](int threads) {
    return with_threads(threads, [&] { return jacobian_chain_norms(cell, cache, 1); });
  };
  const ChainNorms one = norms(1);
  ASSERT_EQ(one.log10_spectral.size(), 71u);
  for (const int threads : {2, 3}) {
    const ChainNorms n = norms(threads);
    EXPECT_TRUE(n.log10_spectral == one.log10_spectral) << threads << " threads";
    EXPECT_TRUE(n.log10_frobenius == one.log10_frobenius) << threads << " threads";
  }
}
