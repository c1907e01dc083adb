// The matrix products of core/gemm.hpp against a plain reference, on the
// kernel this machine uses and, when rnnscope is built with OpenBLAS, on
// OpenBLAS called directly: every transposition, operands that are strided
// blocks (the cells multiply blocks of their caches), accumulation, and the
// small products that stay on Eigen.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "rnnscope/core/gemm.hpp"
#include "rnnscope/core/random.hpp"

using namespace rnnscope;

namespace {

/// a * b by three loops in long double.
template <class S>
Mat<S> reference(const Mat<S>& a, const Mat<S>& b) {
  Mat<S> c(a.rows(), b.cols());
  for (Index i = 0; i < a.rows(); ++i)
    for (Index j = 0; j < b.cols(); ++j) {
      long double s = 0;
      for (Index l = 0; l < a.cols(); ++l) s += static_cast<long double>(a(i, l)) * b(l, j);
      c(i, j) = static_cast<S>(s);
    }
  return c;
}

template <class S>
double tolerance() {
  return std::is_same_v<S, float> ? 1e-5 : 1e-13;
}

template <class S>
void check_all_forms(Index m, Index n, Index k) {
  Rng rng(5);
  // Operands live inside larger matrices, so their leading dimensions exceed their rows.
  const Mat<S> big_a = rng.normal_matrix<S>(m + k + 3, m + k + 5);
  const Mat<S> big_b = rng.normal_matrix<S>(n + k + 2, n + k + 4);
  const auto a = big_a.block(1, 2, m, k);     // (m, k)
  const auto at = big_a.block(2, 1, k, m);    // (k, m), used as at^T
  const auto b = big_b.block(1, 1, k, n);     // (k, n)
  const auto bt = big_b.block(0, 3, n, k);    // (n, k), used as bt^T
  const Mat<S> c0 = rng.normal_matrix<S>(m, n);
  const Mat<S> A = a, AT = Mat<S>(at).transpose(), Bm = b, BT = Mat<S>(bt).transpose();
  const Mat<S> want = reference(A, Bm), want_tt = reference(AT, BT), want_nt = reference(A, BT),
               want_tn = reference(AT, Bm);
  Mat<S> out_big = Mat<S>::Zero(m + 4, n + 2);
  auto out = out_big.block(2, 1, m, n);
  const auto rel = [](const Mat<S>& x, const Mat<S>& y) { return double((x - y).norm() / y.norm()); };

  gemm(out, a, b, false);
  EXPECT_LT(rel(out, want), tolerance<S>()) << "NN " << m << "x" << n << "x" << k;
  out = c0;
  gemm(out, a, b, true);
  EXPECT_LT(rel(out, c0 + want), tolerance<S>()) << "NN accumulate";
  gemm(out, at.transpose(), b, false);
  EXPECT_LT(rel(out, want_tn), tolerance<S>()) << "TN";
  gemm(out, a, bt.transpose(), false);
  EXPECT_LT(rel(out, want_nt), tolerance<S>()) << "NT";
  gemm(out, at.transpose(), bt.transpose(), false);
  EXPECT_LT(rel(out, want_tt), tolerance<S>()) << "TT";
  // Rows around the output block are untouched.
  EXPECT_EQ(out_big.topRows(2).norm(), S(0));
  EXPECT_EQ(out_big.bottomRows(2).norm(), S(0));

  if (gemm_kernel() == GemmKernel::openblas) {  // the library's kernel directly, whatever the size
    Mat<S> direct(m, n);
    detail::blas_gemm(true, false, m, n, k, at.data(), big_a.rows(), b.data(), big_b.rows(), S(0), direct.data(), m);
    EXPECT_LT(rel(direct, want_tn), tolerance<S>()) << "OpenBLAS TN";
  }
}

}  // namespace

TEST(Gemm, EveryFormMatchesTheReferenceInFloatAndDouble) {
  // Sizes above and below kBlasMinWork, the shapes of an LSTM step, and
  // products deeper than kEigenMaxDepth (a weight gradient over a backward
  // block), which Eigen's path sums in slices of that depth.
  for (const auto& [m, n, k] : {std::tuple<Index, Index, Index>{3, 4, 5},
                                {40, 33, 37},
                                {512, 16, 128},
                                {96, 7, 130},
                                {64, 16, 800},
                                {9, 20, kEigenMaxDepth + 1}}) {
    check_all_forms<float>(m, n, k);
    check_all_forms<double>(m, n, k);
  }
}

TEST(Gemm, KernelIsNamed) {
  const std::string d = gemm_kernel_description();
  EXPECT_TRUE(d.rfind(gemm_kernel() == GemmKernel::openblas ? "OpenBLAS" : "Eigen", 0) == 0) << d;
}

// RNNSCOPE_GEMM as this process saw it: "eigen" forces Eigen's kernels and the
// description says so, "openblas" forces OpenBLAS's (in a build with it);
// another value is ignored and the description names it. CTest runs this
// binary again with RNNSCOPE_GEMM=eigen (every product then on Eigen's
// kernels, its depth slicing included, on any machine), =openblas and an
// unknown value (tests/CMakeLists.txt); without one the case has nothing to
// check and is skipped.
TEST(Gemm, TheEnvironmentsChoiceIsTakenOrNamedAsIgnored) {
  const char* env = std::getenv("RNNSCOPE_GEMM");
  const std::string forced = env ? env : "", d = gemm_kernel_description();
  if (forced == "eigen") {
    EXPECT_EQ(gemm_kernel(), GemmKernel::eigen);
    EXPECT_NE(d.find("(RNNSCOPE_GEMM=eigen)"), std::string::npos) << d;
  } else if (forced == "openblas") {
    EXPECT_EQ(gemm_kernel(), GemmKernel::openblas);
    EXPECT_NE(d.find("(RNNSCOPE_GEMM=openblas)"), std::string::npos) << d;
  } else if (!forced.empty()) {
    EXPECT_NE(d.find("(RNNSCOPE_GEMM=" + forced + " ignored: expected eigen or openblas)"), std::string::npos) << d;
  } else {
    GTEST_SKIP() << "RNNSCOPE_GEMM is not set in this run";
  }
}

// Choosing the kernel leaves rnnscope's thread count alone (OpenBLAS's OpenMP
// build sets OpenMP's when rnnscope asks it for one thread per call), and the
// products after it still run on the threads asked for.
TEST(Gemm, ChoosingTheKernelKeepsTheThreadCount) {
#ifdef _OPENMP
  omp_set_num_threads(3);
  (void)gemm_kernel();
  Mat<float> c(300, 64);
  const Mat<float> a = Mat<float>::Ones(300, 200), b = Mat<float>::Ones(200, 64);
  gemm(c, a, b, false);
  EXPECT_EQ(omp_get_max_threads(), 3);
  int seen = 0;
#pragma omp parallel
  {
#pragma omp single
    seen = omp_get_num_threads();
  }
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(c(0, 0), 200.0f);
#else
  GTEST_SKIP() << "built without OpenMP";
#endif
}
