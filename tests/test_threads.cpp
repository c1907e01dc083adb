// Results do not depend on the thread count (DESIGN.md): every cell's forward
// pass and full and truncated BPTT with one thread equal those with several,
// up to the rounding of the GEMM kernels on slices of different widths.
#include <gtest/gtest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cell_testing.hpp"
#include "rnnscope/cells/ctrnn.hpp"
#include "rnnscope/cells/elman.hpp"
#include "rnnscope/cells/gru.hpp"
#include "rnnscope/cells/lstm.hpp"
#include "rnnscope/diagnostics/jacobian_chain.hpp"

using namespace rnnscope;
using check::relative_difference;

namespace {

template <class Cell>
class ThreadCount : public ::testing::Test {};
using Cells = ::testing::Types<Elman<double>, LSTM<double>, GRU<double>, CtRnn<double>>;
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
