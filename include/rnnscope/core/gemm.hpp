// Matrix products C (+)= op(A) op(B) of the cells, on one of two kernels:
//
//   OpenBLAS  sgemm/dgemm, when rnnscope was built with it (RNNSCOPE_BLAS,
//             the default), it runs its own kernels for this CPU and the CPU
//             is not Intel's. On an AMD EPYC (Zen 4) it is faster than Eigen's
//             for the larger products of a training step, on a par for the
//             small ones; on an Intel Xeon Eigen's were faster for every
//             training shape measured (docs/performance.md).
//   Eigen     otherwise, and always for small products (below kBlasMinWork
//             multiply-adds, or a single column), where a library call costs
//             more than it saves.
//
// OpenBLAS 0.3.21 (Debian 12) falls back to its generic "Prescott" kernels on
// CPUs it does not know, much slower than Eigen's (see docs/performance.md), and runs its AVX2
// kernels on an AVX-512 CPU when OPENBLAS_CORETYPE=Haswell says so; whenever
// its kernels are narrower than the vectors Eigen was built for, rnnscope
// keeps Eigen's. RNNSCOPE_GEMM=eigen or RNNSCOPE_GEMM=openblas in the environment
// overrides the choice (another value is ignored, and the description says
// so). rnnscope runs OpenBLAS on one thread per call: the
// threads are rnnscope's own, which split the products (cells/batch_schedule.hpp).
//
// A, B and C are column-major Eigen matrices or blocks with unit inner stride;
// A and B may be .transpose() of one.
#pragma once

#include <algorithm>
#include <string>
#include <tuple>
#include <type_traits>

#include "rnnscope/core/tensor.hpp"

namespace rnnscope {

enum class GemmKernel { eigen, openblas };

/// The kernel products of at least kBlasMinWork multiply-adds run on (decided
/// once, on first use).
GemmKernel gemm_kernel();
/// "OpenBLAS (<core> kernels)" or "Eigen <version>" and why, for reports and benchmarks.
std::string gemm_kernel_description();

/// Products with fewer multiply-adds (m n k) stay on Eigen's kernels.
inline constexpr double kBlasMinWork = 32.0 * 32.0 * 32.0;

/// Depth (k) of the products Eigen's kernels run at once; a deeper product is
/// the sum of products of this depth. Eigen packs its operands into buffers of
/// depth x rows and depth x columns for each product, on the stack up to
/// 128 KiB and from malloc above, and with a depth of 800 (a weight gradient
/// over a backward block of 1024 columns) the buffers of 200 KiB came from
/// malloc, whose trimming of the freed heap made every call page-fault them
/// in again (see docs/performance.md). Eigen's own blocking splits the depth the same way
/// when it judges it too deep for the cache.
inline constexpr Index kEigenMaxDepth = 256;

namespace detail {
void blas_gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const float* a, Index lda, const float* b,
               Index ldb, float beta, float* c, Index ldc);
void blas_gemm(bool trans_a, bool trans_b, Index m, Index n, Index k, const double* a, Index lda, const double* b,
               Index ldb, double beta, double* c, Index ldc);

template <class X>
struct IsTranspose : std::false_type {};
template <class X>
struct IsTranspose<Eigen::Transpose<X>> : std::true_type {};

/// (data, leading dimension, inner stride, transposed) of a column-major operand.
template <class X>
auto operand(const X& x) {
  if constexpr (IsTranspose<X>::value) {
    const auto& m = x.nestedExpression();
    static_assert(!std::decay_t<decltype(m)>::IsRowMajor, "gemm: column-major operands only");
    return std::tuple{m.data(), Index(m.outerStride()), Index(m.innerStride()), true};
  } else {
    static_assert(!X::IsRowMajor, "gemm: column-major operands only");
    return std::tuple{x.data(), Index(x.outerStride()), Index(x.innerStride()), false};
  }
}
}  // namespace detail

/// dst = a * b, or dst += a * b when accumulate.
template <class Dst, class A, class Bm>
void gemm(Dst&& dst, const A& a, const Bm& b, bool accumulate) {
  using S = typename std::decay_t<Dst>::Scalar;
  // Compile-time vectors (a column, a row) stay on Eigen: its matrix-vector kernels are as fast.
  if constexpr (A::ColsAtCompileTime != 1 && Bm::ColsAtCompileTime != 1 && std::decay_t<Dst>::ColsAtCompileTime != 1) {
    const Index m = dst.rows(), n = dst.cols(), k = a.cols();
    if (n > 1 && double(m) * double(n) * double(k) >= kBlasMinWork && gemm_kernel() == GemmKernel::openblas) {
      const auto [pa, lda, inc_a, ta] = detail::operand(a);
      const auto [pb, ldb, inc_b, tb] = detail::operand(b);
      if (inc_a == 1 && inc_b == 1 && dst.innerStride() == 1) {
        detail::blas_gemm(ta, tb, m, n, k, static_cast<const S*>(pa), lda, static_cast<const S*>(pb), ldb,
                          accumulate ? S(1) : S(0), dst.data(), dst.outerStride());
        return;
      }
    }
  }
  if constexpr (A::ColsAtCompileTime == Eigen::Dynamic && Bm::ColsAtCompileTime != 1 &&
                std::decay_t<Dst>::ColsAtCompileTime != 1) {
    const Index k = a.cols();
    if (k > kEigenMaxDepth && dst.cols() > 1) {
      for (Index k0 = 0; k0 < k; k0 += kEigenMaxDepth) {
        const Index kc = std::min(kEigenMaxDepth, k - k0);
        if (k0 == 0 && !accumulate)
          dst.noalias() = a.middleCols(k0, kc) * b.middleRows(k0, kc);
        else
          dst.noalias() += a.middleCols(k0, kc) * b.middleRows(k0, kc);
      }
      return;
    }
  }
  if (accumulate)
    dst.noalias() += a * b;
  else
    dst.noalias() = a * b;
}

}  // namespace rnnscope
