// Buffers reused from one call to the next (cells/batch_schedule.hpp, training/step.hpp)
// give the results of fresh ones: a forward pass into a cache last used for
// another shape, BPTT into gradients of another shape (and into a stack's
// gradients, whose layers share one scratch), and a loop of training steps
// through one TrainingStep. The same operations run on the same values, so
// the results are required to be identical, not merely close.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "cell_testing.hpp"
#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/sequence/stack.hpp"
#include "rnnscope/training/step.hpp"

using namespace rnnscope;

namespace {

template <class Cell>
class Reuse : public ::testing::Test {};
using Cells = ::testing::Types<Elman<double>, LSTM<double>, GRU<double>, EulerRnn<double>, SkipRnn<double>>;
TYPED_TEST_SUITE(Reuse, Cells);

}  // namespace

TYPED_TEST(Reuse, ForwardAndBpttIntoUsedBuffersEqualFreshOnes) {
  Rng rng(41);
  const Index I = 5, H = 7;
  const auto cell = check::make_cell<TypeParam>(I, H, rng);
  typename TypeParam::Cache cache;
  typename TypeParam::Gradients grads;
  // Larger, then smaller, then equal shapes: storage grows, is kept, is reused.
  for (const auto& [B, T] : {std::pair<Index, Index>{9, 12}, {3, 4}, {3, 4}, {16, 30}}) {
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
    const Mat<double> s0 = rng.normal_matrix<double>(cell.state_size(), B);
    cell.forward(x, B, s0, cache);
    const auto fresh = cell.forward(x, B, s0);
    ASSERT_EQ(cache.steps, T);
    ASSERT_EQ(cache.batch, B);
    EXPECT_TRUE(Mat<double>(cell.output(cache)) == Mat<double>(cell.output(fresh))) << "B " << B << " T " << T;
    EXPECT_TRUE(Mat<double>(cell.final_state(cache)) == Mat<double>(cell.final_state(fresh)));
    for (const Index window : {Index{0}, Index{2}}) {
      bptt(cell, cache, dy, Mat<double>(), window, grads);
      const auto g = bptt(cell, fresh, dy, Mat<double>(), window);
      EXPECT_TRUE(check::flatten(grads.params) == check::flatten(g.params)) << "B " << B << " window " << window;
      EXPECT_TRUE(grads.d_input == g.d_input);
      EXPECT_TRUE(grads.d_state0 == g.d_state0);
      EXPECT_GT(check::flatten(g.params).norm(), 0.0);
    }
  }
}

// Without the input gradient (cell.hpp, CellGradients::input_gradient) the
// parameter and initial-state gradients are those of the full backward, d_input
// is left empty, and the same object asked again with it gets it back.
TYPED_TEST(Reuse, BpttWithoutInputGradientKeepsTheOtherGradients) {
  Rng rng(53);
  const Index I = 5, H = 7, B = 4, T = 9;
  const auto cell = check::make_cell<TypeParam>(I, H, rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
  const Mat<double> df = rng.normal_matrix<double>(cell.state_size(), B);
  const auto cache = cell.forward(x, B);
  typename TypeParam::Gradients grads;
  for (const Index window : {Index{0}, Index{3}}) {
    const auto full = bptt(cell, cache, dy, df, window);
    ASSERT_EQ(full.d_input.cols(), T * B);
    grads.input_gradient = false;
    bptt(cell, cache, dy, df, window, grads);
    EXPECT_EQ(grads.d_input.size(), 0) << "window " << window;
    EXPECT_FALSE(grads.input_gradient);
    EXPECT_TRUE(check::flatten(grads.params) == check::flatten(full.params)) << "window " << window;
    EXPECT_TRUE(grads.d_state0 == full.d_state0) << "window " << window;
    grads.input_gradient = true;
    bptt(cell, cache, dy, df, window, grads);
    EXPECT_TRUE(grads.d_input == full.d_input) << "window " << window;
    EXPECT_TRUE(check::flatten(grads.params) == check::flatten(full.params));
  }
}

TYPED_TEST(Reuse, TrainingStepLoopEqualsFreshSteps) {
  Rng rng(43);
  const Index I = 4, H = 6, B = 5, T = 8;
  auto reused = check::make_cell<TypeParam>(I, H, rng);
  auto fresh = reused;
  TrainingStep<TypeParam> step;
  for (int k = 0; k < 3; ++k) {
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const Mat<double> target = rng.normal_matrix<double>(H, T * B);
    const double a = step(reused, x, B, target, 0.1);
    // The same step written out with fresh objects.
    const auto cache = fresh.forward(x, B);
    const auto loss = mse_all<double>(fresh.output(cache), B, target);
    const auto g = bptt(fresh, cache, loss.d_output, Mat<double>());
    sgd_update(fresh.params, g.params, 0.1);
    // The same terms; summed block by block where the sweep has several blocks (the skip cell's of
    // (K - 1) / 2 steps), so equal up to the order of the sum.
    EXPECT_DOUBLE_EQ(a, loss.value) << "step " << k;
    EXPECT_TRUE(check::flatten(reused.params) == check::flatten(fresh.params)) << "step " << k;
    EXPECT_TRUE(check::flatten(step.gradients().params) == check::flatten(g.params)) << "step " << k;
    EXPECT_EQ(step.gradients().d_input.size(), 0) << "a training step forms no input gradient";
  }
}

// bptt_chunked (sequence/bptt.hpp) asks for the output cotangent one backward
// block at a time, from the last to the first: over several blocks, the last
// one partial, it gives bptt's gradients with the whole cotangent, identical.
// A training step built on it gives the parameters of mse_all + bptt + SGD,
// identical, and the loss up to the order of its sum; a NaN in the target is
// named before any update.
TYPED_TEST(Reuse, ChunkedBpttEqualsBpttOfTheWholeCotangent) {
  Rng rng(59);
  const Index I = 4, H = 5, B = 3;
  // The skip cell (K = 3) sweeps a batch this small in blocks of K steps (BlockPlan, batch_schedule.hpp).
  const Index block = std::is_same_v<TypeParam, SkipRnn<double>> ? 3 : backward_block_steps(B);
  const Index T = 2 * backward_block_steps(B) + 17;
  auto cell = check::make_cell<TypeParam>(I, H, rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
  const auto cache = cell.forward(x, B);
  const auto whole = bptt(cell, cache, dy, Mat<double>());
  typename TypeParam::Gradients grads;
  std::vector<std::pair<Index, Index>> asked;
  bptt_chunked(
      cell, cache,
      [&](Index t0, Index t1, Mat<double>& d) {
        asked.emplace_back(t0, t1);
        d = dy.middleCols(t0 * B, (t1 - t0) * B);
      },
      grads);
  std::vector<std::pair<Index, Index>> expected_chunks;  // the blocks, last first, the first one partial
  for (Index end = T; end > 0; end -= block) expected_chunks.emplace_back(std::max<Index>(0, end - block), end);
  EXPECT_EQ(asked, expected_chunks);
  EXPECT_TRUE(check::flatten(grads.params) == check::flatten(whole.params));
  EXPECT_TRUE(grads.d_input == whole.d_input);
  EXPECT_TRUE(grads.d_state0 == whole.d_state0);
  EXPECT_GT(check::flatten(whole.params).norm(), 0.0);

  auto fresh = cell;
  const Mat<double> target = rng.normal_matrix<double>(H, T * B);
  TrainingStep<TypeParam> step;
  const double a = step(cell, x, B, target, 0.1);
  const auto loss = mse_all<double>(fresh.output(cache), B, target);
  const auto g = bptt(fresh, cache, loss.d_output, Mat<double>());
  sgd_update(fresh.params, g.params, 0.1);
  EXPECT_NEAR(a, loss.value, 1e-15 * loss.value);
  EXPECT_TRUE(check::flatten(cell.params) == check::flatten(fresh.params));

  Mat<double> bad = target;
  bad(2, T * B - 1) = NAN;
  const auto before = check::flatten(cell.params);
  try {
    step(cell, x, B, bad, 0.1);
    ADD_FAILURE() << "no error for a NaN target";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("target has a non-finite value"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(check::flatten(cell.params) == before) << "the step must not update on a bad target";
}

TEST(Reuse, StackLayersShareOneScratch) {
  Rng rng(47);
  std::vector<LSTM<double>> layers;
  layers.push_back(check::make_cell<LSTM<double>>(3, 6, rng));
  layers.push_back(check::make_cell<LSTM<double>>(6, 4, rng));  // a different width: the scratch is resized
  const Stack<LSTM<double>> stack(std::move(layers));
  Stack<LSTM<double>>::Gradients grads;
  for (int k = 0; k < 2; ++k) {
    const Index B = 3, T = 7;
    const Mat<double> x = rng.normal_matrix<double>(3, T * B);
    const Mat<double> dy = rng.normal_matrix<double>(4, T * B);
    const auto cache = stack.forward(x, B);
    bptt(stack, cache, dy, Mat<double>(), 0, grads);
    const auto g = bptt(stack, cache, dy, Mat<double>());
    EXPECT_TRUE(check::flatten(grads.params) == check::flatten(g.params)) << "step " << k;
    EXPECT_TRUE(grads.d_input == g.d_input);
    EXPECT_TRUE(grads.d_state0 == g.d_state0);
    // The bottom layer without its input gradient: the upper layer's still
    // feeds the lower one, and every parameter gradient is unchanged.
    Stack<LSTM<double>>::Gradients no_input;
    no_input.input_gradient = false;
    bptt(stack, cache, dy, Mat<double>(), 0, no_input);
    EXPECT_EQ(no_input.d_input.size(), 0);
    EXPECT_TRUE(check::flatten(no_input.params) == check::flatten(g.params)) << "step " << k;
    EXPECT_TRUE(no_input.d_state0 == g.d_state0);
  }
}
