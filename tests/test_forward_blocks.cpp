// A cell's forward pass runs in blocks of steps (cells/batch_schedule.hpp,
// forward_in_blocks): each block's input projections are computed just before
// its steps. A sequence long enough for several blocks, the last one partial,
// gives the states of the same sequence run one step at a time (one forward
// pass per step, each a single block, the state handed on), with and without
// bias.
#include <gtest/gtest.h>

#include "cell_testing.hpp"
#include "rnnscope/cells/batch_schedule.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"

using namespace rnnscope;
using check::relative_difference;

namespace {

template <class Cell>
class ForwardBlocks : public ::testing::Test {};
using Cells = ::testing::Types<Elman<double>, LSTM<double>, GRU<double>, EulerRnn<double>, SkipRnn<double>>;
TYPED_TEST_SUITE(ForwardBlocks, Cells);

/// The outputs of cell over x, run one step at a time from state s0.
template <class Cell>
Mat<double> step_by_step(const Cell& cell, const Mat<double>& x, Index B, const Mat<double>& s0) {
  const Index T = x.cols() / B;
  Mat<double> out(cell.output_size(), T * B), state = s0;
  for (Index t = 0; t < T; ++t) {
    const auto c = cell.forward(Mat<double>(x.middleCols(t * B, B)), B, state);
    out.middleCols(t * B, B) = cell.output(c);
    state = cell.final_state(c);
  }
  return out;
}

}  // namespace

TYPED_TEST(ForwardBlocks, SeveralBlocksEqualOneStepAtATime) {
  Rng rng(71);
  const Index I = 5, H = 6, B = 3;
  // Blocks are sized by the rows of the projections: H for Elman and CT-RNN,
  // 3H or 4H for the gated cells. Enough steps for two blocks of the smallest
  // projection and a partial third, which is more blocks still for the others.
  const Index block = forward_block_steps(H, B, sizeof(double)), T = 2 * block + block / 3;
  ASSERT_GE(block, 2);
  for (const bool bias : {true, false}) {
    const auto cell = check::make_cell<TypeParam>(I, H, rng, bias);
    ASSERT_EQ(cell.params.bias_ih.size() == 0, !bias);
    const Mat<double> x = rng.normal_matrix<double>(I, T * B);
    const Mat<double> s0 = rng.normal_matrix<double>(cell.state_size(), B);
    const auto cache = cell.forward(x, B, s0);
    const Mat<double> expected = step_by_step(cell, x, B, s0);
    EXPECT_LT(relative_difference(Mat<double>(cell.output(cache)), expected), 1e-13) << "bias " << bias;
    // Every block, the last one included, was computed: no column was left as it was.
    for (const Index t : {Index{0}, block - 1, block, 2 * block, T - 1})
      EXPECT_LT(relative_difference(Mat<double>(cell.output(cache).middleCols(t * B, B)),
                                    Mat<double>(expected.middleCols(t * B, B))),
                1e-13)
          << "bias " << bias << " step " << t;
  }
}

TEST(ForwardBlockSteps, HoldAboutHalfAMebibyteAndAtLeast256Columns) {
  EXPECT_EQ(forward_block_steps(64, 16, 4), 128);     // 4 KiB a step
  EXPECT_EQ(forward_block_steps(128, 32, 4), 32);     // 16 KiB a step
  EXPECT_EQ(forward_block_steps(1024, 64, 4), 4);     // 256 KiB a step: 2 steps would be 128 columns
  EXPECT_EQ(forward_block_steps(2048, 128, 4), 2);    // 1 MiB a step: 256 columns
  EXPECT_EQ(forward_block_steps(4096, 512, 8), 1);    // more than 256 columns in one step
  EXPECT_EQ(forward_block_steps(1, 16, 4), 8192);     // tiny steps
  EXPECT_GE(forward_block_steps(0, 0, 4), 1);         // degenerate shapes still give a block
}

// A batch of fewer than 16 columns (a pipelined sweep) takes blocks of about
// 64 KiB, at least 256 columns.
TEST(ForwardBlockSteps, SmallBatchesHoldAbout64KiB) {
  EXPECT_EQ(forward_block_steps(64, 8, 4), 32);       // 2 KiB a step: 32 steps are also 256 columns
  EXPECT_EQ(forward_block_steps(256, 8, 4), 32);      // 8 KiB a step: 8 steps would be 64 columns
  EXPECT_EQ(forward_block_steps(32, 1, 4), 512);      // 128 bytes a step
  EXPECT_EQ(forward_block_steps(1, 1, 4), 16384);     // tiny steps
}

TEST(BackwardBlockSteps, About1024ColumnsOr256ForSmallBatches) {
  EXPECT_EQ(backward_block_steps(16), 64);
  EXPECT_EQ(backward_block_steps(64), 16);
  EXPECT_EQ(backward_block_steps(2048), 1);
  EXPECT_EQ(backward_block_steps(8), 32);
  EXPECT_EQ(backward_block_steps(1), 256);
  EXPECT_EQ(backward_block_steps(0), 256);  // degenerate: still a block
}
