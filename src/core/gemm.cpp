#include "rnnscope/core/gemm.hpp"

#include <fmt/format.h>

#include <cstdlib>

#ifdef RNNSCOPE_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace rnnscope {

namespace {

struct KernelChoice {
  GemmKernel kernel = GemmKernel::eigen;
  std::string description;
};

std::string eigen_name() {
  return fmt::format("Eigen {}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
}

KernelChoice choose() {
  KernelChoice c;
  const char* env = std::getenv("RNNSCOPE_GEMM");
  const std::string forced = env ? env : "";
#ifdef RNNSCOPE_HAVE_OPENBLAS
  const std::string core = openblas_get_corename();
  const std::string blas = fmt::format("OpenBLAS ({} kernels)", core);
  // Prescott is OpenBLAS's generic x86-64 kernel set: what it runs on a CPU it
  // does not recognise. Eigen's AVX2/AVX-512 kernels are faster than those.
  const bool generic = core == "Prescott" && __builtin_cpu_supports("avx2");
  if (forced == "eigen") {
    c.description = eigen_name() + " (RNNSCOPE_GEMM=eigen)";
  } else if (forced == "openblas" || !generic) {
    // One OpenBLAS thread per call. In OpenBLAS's OpenMP build this also sets
    // OpenMP's thread count (omp_set_num_threads), which is rnnscope's own
    // setting (--threads, OMP_NUM_THREADS): restore it.
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
#endif
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    c.kernel = GemmKernel::openblas;
    c.description = blas + (forced == "openblas" ? " (RNNSCOPE_GEMM=openblas)" : "");
  } else {
    c.description = eigen_name() + ": " + blas + " would run its generic kernels on this CPU";
  }
#else
  c.description = eigen_name() + (forced == "openblas" ? " (built without OpenBLAS)" : "");
#endif
  // Chosen lazily inside the products, where nothing can be thrown: an unknown
  // value is reported where the kernel is (summary.json's run facts).
  if (!forced.empty() && forced != "eigen" && forced != "openblas")
    c.description += fmt::format(" (RNNSCOPE_GEMM={} ignored: expected eigen or openblas)", forced);
  return c;
}

const KernelChoice& choice() {
  static const KernelChoice c = choose();  // thread-safe initialisation
  return c;
}

}  // namespace

GemmKernel gemm_kernel() { return choice().kernel; }
std::string gemm_kernel_description() { return choice().description; }

namespace detail {

#ifdef RNNSCOPE_HAVE_OPENBLAS
namespace {
CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }
blasint i32(Index v) { return static_cast<blasint>(v); }
}  // namespace

void blas_gemm(bool ta, bool tb, Index m, Index n, Index k, const float* a, Index lda, const float* b, Index ldb,
               float beta, float* c, Index ldc) {
  cblas_sgemm(CblasColMajor, op(ta), op(tb), i32(m), i32(n), i32(k), 1.0f, a, i32(lda), b, i32(ldb), beta, c,
              i32(ldc));
}
void blas_gemm(bool ta, bool tb, Index m, Index n, Index k, const double* a, Index lda, const double* b, Index ldb,
               double beta, double* c, Index ldc) {
  cblas_dgemm(CblasColMajor, op(ta), op(tb), i32(m), i32(n), i32(k), 1.0, a, i32(lda), b, i32(ldb), beta, c,
              i32(ldc));
}
#else
// Never called: gemm_kernel() is always eigen without OpenBLAS.
void blas_gemm(bool, bool, Index, Index, Index, const float*, Index, const float*, Index, float, float*, Index) {
  std::abort();
}
void blas_gemm(bool, bool, Index, Index, Index, const double*, Index, const double*, Index, double, double*,
               Index) {
  std::abort();
}
#endif

}  // namespace detail
}  // namespace rnnscope
