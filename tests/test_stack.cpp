#include <gtest/gtest.h>

#include "cell_testing.hpp"
#include "rnnscope/cells/euler_rnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/sequence/gradcheck.hpp"
#include "rnnscope/sequence/stack.hpp"

using namespace rnnscope;
using check::relative_difference;

namespace {

Stack<Elman<double>> elman_stack(Index I, Index H, Index L, Activation f, Rng& rng) {
  std::vector<Elman<double>> layers;
  for (Index l = 0; l < L; ++l) {
    layers.emplace_back(l == 0 ? I : H, H, f);
    layers.back().init_uniform(rng);
    layers.back().params.for_each([](const char*, auto& t) { t *= 1.5; });
  }
  return Stack<Elman<double>>(std::move(layers));
}

}  // namespace

TEST(Stack, NamesFollowPyTorch) {
  Rng rng(1);
  auto s = elman_stack(3, 4, 2, Activation::tanh, rng);
  std::vector<std::string> names;
  for_each_param(s, [&](const char* n, const auto&) { names.emplace_back(n); });
  const std::vector<std::string> expected{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                          "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(s.state_size(), 8);
  EXPECT_EQ(s.output_offset(), 4);
}

TEST(Stack, OneLayerEqualsTheCell) {
  Rng rng(2);
  auto s = elman_stack(3, 4, 1, Activation::tanh, rng);
  const Mat<double> x = rng.normal_matrix<double>(3, 12), dy = rng.normal_matrix<double>(4, 12);
  const auto cs = s.forward(x, 2);
  const auto cc = s.layer(0).forward(x, 2);
  EXPECT_EQ(Mat<double>(s.output(cs)), Mat<double>(s.layer(0).output(cc)));
  const auto gs = bptt(s, cs, dy, Mat<double>());
  const auto gc = bptt(s.layer(0), cc, dy, Mat<double>());
  EXPECT_EQ(check::flatten(gs.params), check::flatten(gc.params));
  EXPECT_EQ(gs.d_input, gc.d_input);
}

TEST(Stack, GradientsMatchFiniteDifferences) {
  Rng rng(3);
  struct Shape {
    Index I, H, L, B, T;
  };
  for (const Shape& sh : {Shape{3, 4, 2, 2, 5}, Shape{1, 1, 2, 1, 1}, Shape{2, 3, 3, 1, 4}, Shape{2, 2, 2, 3, 1}})
    for (Activation f : {Activation::sigmoid, Activation::tanh, Activation::relu}) {
      auto s = elman_stack(sh.I, sh.H, sh.L, f, rng);
      const Mat<double> x = rng.normal_matrix<double>(sh.I, sh.T * sh.B);
      const Mat<double> s0 = rng.normal_matrix<double>(s.state_size(), sh.B, 0.5);
      const auto report = check_cell_gradients(s, x, sh.B, s0, rng);
      EXPECT_LT(report.worst_relative_error(), 1e-6) << "L=" << sh.L << "\n" << report.to_string();
      EXPECT_EQ(report.tensors.size(), static_cast<size_t>(4 * sh.L + 2));
    }
}

TEST(Stack, RejectsMismatchedLayers) {
  std::vector<Elman<double>> layers;
  layers.emplace_back(3, 4, Activation::tanh);
  layers.emplace_back(5, 4, Activation::tanh);
  EXPECT_THROW(Stack<Elman<double>>(std::move(layers)), InvalidInput);
  EXPECT_THROW(Stack<Elman<double>>({}), InvalidInput);
}

TEST(Stack, ErrorsNameTheLayersTensor) {
  Rng rng(4);
  auto s = elman_stack(3, 4, 2, Activation::tanh, rng);
  s.layer(1).params.weight_hh(0, 3) = NAN;
  const Mat<double> x = rng.normal_matrix<double>(3, 6);
  try {
    (void)s.forward(x, 2);
    FAIL() << "a NaN in layer 1 was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()).rfind("weight_hh_l1 has a non-finite value at (0, 3)", 0), 0u) << e.what();
  }
  EXPECT_EQ(name_layer_in_message("bias_ih: expected shape (4), got (5)", 2), "bias_ih_l2: expected shape (4), got (5)");
  EXPECT_EQ(name_layer_in_message("x: expected shape (3, 6), got (2, 6)", 0), "layer 0: x: expected shape (3, 6), got (2, 6)");
}

// Every recurrent cell stacks the same way: finite differences through all
// layers (every parameter, the input and the whole initial state, including
// LSTM's c0), on degenerate shapes too, and truncated BPTT against its definition.
namespace {

template <class Cell>
Stack<Cell> stack_of(Index I, Index H, Index L, Rng& rng) {
  std::vector<Cell> layers;
  for (Index l = 0; l < L; ++l) {
    layers.push_back(check::make_cell<Cell>(l == 0 ? I : H, H, rng));
    layers.back().params.for_each([](const char*, auto& t) { t *= 1.5; });
  }
  return Stack<Cell>(std::move(layers));
}

template <class Cell>
class EveryCellStack : public ::testing::Test {};
using StackedCells = ::testing::Types<Elman<double>, LSTM<double>, GRU<double>, EulerRnn<double>, SkipRnn<double>>;
TYPED_TEST_SUITE(EveryCellStack, StackedCells);

}  // namespace

// (Elman stacks of every activation are checked above.)
TYPED_TEST(EveryCellStack, GradientsMatchFiniteDifferences) {
  Rng rng(11);
  struct Shape {
    Index I, H, L, B, T;
  };
  for (const Shape& sh : {Shape{3, 4, 2, 2, 5}, Shape{1, 1, 2, 1, 1}, Shape{2, 3, 3, 1, 4}, Shape{2, 2, 2, 3, 1}}) {
    auto s = stack_of<TypeParam>(sh.I, sh.H, sh.L, rng);
    const Mat<double> x = rng.normal_matrix<double>(sh.I, sh.T * sh.B);
    const Mat<double> s0 = rng.normal_matrix<double>(s.state_size(), sh.B, 0.5);
    const auto report = check_cell_gradients(s, x, sh.B, s0, rng);
    EXPECT_LT(report.worst_relative_error(), 1e-6) << "L=" << sh.L << "\n" << report.to_string();
    const size_t per_layer = std::is_same_v<TypeParam, SkipRnn<double>> ? 5 : 4;  // + weight_skip
    EXPECT_EQ(report.tensors.size(), per_layer * static_cast<size_t>(sh.L) + 2);
  }
}

TYPED_TEST(EveryCellStack, TruncatedBpttMatchesItsDefinition) {
  Rng rng(12);
  const Index I = 2, H = 3, L = 2, B = 2, T = 5;
  auto s = stack_of<TypeParam>(I, H, L, rng);
  const Mat<double> x = rng.normal_matrix<double>(I, T * B);
  const Mat<double> s0 = rng.normal_matrix<double>(s.state_size(), B, 0.5);
  const Mat<double> dy = rng.normal_matrix<double>(H, T * B);
  const Mat<double> dfinal = rng.normal_matrix<double>(s.state_size(), B);
  const auto c = s.forward(x, B, s0);
  for (Index K : {1, 2, 0}) {
    const auto g = bptt(s, c, dy, dfinal, K);
    const auto brute = check::brute_force_bptt(s, x, B, s0, dy, dfinal, K);
    EXPECT_LT(relative_difference(check::flatten(g.params), brute.params), 1e-7) << "K=" << K;
    EXPECT_LT(relative_difference(g.d_input, brute.d_input), 1e-7) << "K=" << K;
    EXPECT_LT(relative_difference(g.d_state0, brute.d_state0), 1e-7) << "K=" << K;
  }
}
