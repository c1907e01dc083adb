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

/// Vector width in bits of Eigen's kernels in this build (-march decides).
constexpr int eigen_vector_bits() {
#if defined(__AVX512F__)
  return 512;
#elif defined(__AVX2__) && defined(__FMA__)
  return 256;
#else
  return 128;
#endif
}

/// Vector width in bits of OpenBLAS's kernel set `core` (openblas_get_corename):
/// 512 for its AVX-512 sets, 256 for its AVX2 and AVX sets, 128 for the rest,
/// among them "Prescott", the generic x86-64 set it runs on a CPU it does not
/// recognise.
[[maybe_unused]] int openblas_vector_bits(const std::string& core) {
  for (const char* c : {"SkylakeX", "Cooperlake", "SapphireRapids"})
    if (core == c) return 512;
  for (const char* c : {"Haswell", "Zen", "Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"})
    if (core == c) return 256;
  return 128;
}

/// Whether this is an Intel CPU (x86 only; false elsewhere).
[[maybe_unused]] bool cpu_is_intel() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_is("intel");
#else
  return false;
#endif
}

KernelChoice choose() {
  KernelChoice c;
  const char* env = std::getenv("RNNSCOPE_GEMM");
  const std::string forced = env ? env : "";
#ifdef RNNSCOPE_HAVE_OPENBLAS
  const std::string core = openblas_get_corename();
  const std::string blas = fmt::format("OpenBLAS ({} kernels)", core);
  // OpenBLAS's kernels can be narrower than the CPU: its generic "Prescott"
  // set on a CPU it does not recognise, or AVX2 kernels on an AVX-512 CPU
  // (OPENBLAS_CORETYPE=Haswell, set where OpenBLAS 0.3.21 misdetects the CPU).
  // Eigen's kernels, built for this CPU, are then faster for every product of
  // a training step (docs/performance.md).
  const int blas_bits = openblas_vector_bits(core), eigen_bits = eigen_vector_bits();
  const bool narrower = blas_bits < eigen_bits;
  // At the same width the vendor decides: on the AMD EPYC (Zen 4) OpenBLAS's
  // kernels were faster for the larger products, on the Intel Xeon Eigen's
  // were faster for every training shape measured (docs/performance.md).
  const bool intel = cpu_is_intel();
  if (forced == "eigen") {
    c.description = eigen_name() + " (RNNSCOPE_GEMM=eigen)";
  } else if (forced == "openblas" || (!narrower && !intel)) {
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
  } else if (narrower) {
    c.description = fmt::format("{} ({}-bit kernels): {} runs {}-bit kernels on this CPU", eigen_name(), eigen_bits,
                                blas, blas_bits);
  } else {
    c.description = fmt::format("{} ({}-bit kernels): faster than {} on Intel CPUs", eigen_name(), eigen_bits, blas);
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

/// OpenBLAS's OpenMP build takes its thread count from OpenMP's at every call
/// (openblas_set_num_threads(1) holds only until then), so a product outside a
/// parallel region would fork its own threads: one for_slices slice, or a small
/// batch's product kept on one thread (OneThreadScope), paid a fork and a join
/// for every product. The calling thread's OpenMP count is 1 for the call.
class OneBlasThread {
 public:
  OneBlasThread() {
#ifdef _OPENMP
    threads_ = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (threads_ > 1) omp_set_num_threads(1);
#endif
  }
  ~OneBlasThread() {
#ifdef _OPENMP
    if (threads_ > 1) omp_set_num_threads(threads_);
#endif
  }
  OneBlasThread(const OneBlasThread&) = delete;
  OneBlasThread& operator=(const OneBlasThread&) = delete;

 private:
  int threads_ = 1;
};

void blas_gemm(bool ta, bool tb, Index m, Index n, Index k, const float* a, Index lda, const float* b, Index ldb,
               float beta, float* c, Index ldc) {
  const OneBlasThread one;
  cblas_sgemm(CblasColMajor, op(ta), op(tb), i32(m), i32(n), i32(k), 1.0f, a, i32(lda), b, i32(ldb), beta, c,
              i32(ldc));
}
void blas_gemm(bool ta, bool tb, Index m, Index n, Index k, const double* a, Index lda, const double* b, Index ldb,
               double beta, double* c, Index ldc) {
  const OneBlasThread one;
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
