// How many threads a small BLAS product gets.
//
// libtorch hands every CPU matrix product of a BLAS dtype to the system BLAS (dgemm_, sgemm_, dgemv_,
// sgemv_). OpenBLAS's pthread build then threads any product above a compiled-in size (gemm: 262,144
// multiply-adds per thread; gemv: 9,216 matrix elements), and on the machines we measured that is far
// too small: waking the pool and collecting the parts costs more than the split saves. On the 2-vCPU
// CI/bench machine, same library in PyTorch 1.13, 1 vs 2 threads: float64 gemm [256,32]x[32,64]
// 26 vs 50 us, 96^3 38 vs 44 us, 128^3 93 vs 85 us; float32 96^3 19 vs 26 us, 128^3 43 vs 41 us;
// float64 gemv 100x784 7.2 vs 9.7 us, 256x512 13.3 vs 12.2 us, 784x784 65 vs 51 us; float32 gemv
// 384x384 7.5 vs 9.4 us, 512x512 14.3 vs 12.4 us. OpenBLAS makes these thresholds a build option
// (GEMM_MULTITHREAD_THRESHOLD) because the crossover is the machine's; we cannot rebuild the
// distribution's library, so the engine applies its own at call time:
//   gemm: one thread per 2^20 multiply-adds, gemv: one thread per 512 KiB of matrix,
// never more than the engine's thread count (setNumThreads), at least one.
//
// The addon defines the four Fortran entry points. libtorch_cpu is loaded as the addon's dependency,
// so its calls resolve in the addon's lookup scope, where the addon comes before libblas; each
// wrapper picks the thread count and calls the next definition (RTLD_NEXT: the system BLAS). A
// libtorch that links its BLAS statically (PyTorch's own wheels: MKL) never calls these, and any
// BLAS but OpenBLAS's pthread build (openblas_get_parallel() == 1) is called as it is: its OpenMP
// build's setter also sets OpenMP's thread count and reallocates buffers. A side effect: a small
// product gives the same bytes at any thread count (threaded, OpenBLAS's float32 gemm and gemv
// round differently here). PAPERLAB_BLAS_THREADS=blas leaves every decision to the BLAS.
#include <dlfcn.h>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "blas.h"

namespace {

using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();  // also openblas_get_parallel
using GemmD = void (*)(const char*, const char*, const int*, const int*, const int*, const double*, const double*, const int*,
                       const double*, const int*, const double*, double*, const int*);
using GemmS = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*, const int*,
                       const float*, const int*, const float*, float*, const int*);
using GemvD = void (*)(const char*, const int*, const int*, const double*, const double*, const int*, const double*, const int*,
                       const double*, double*, const int*);
using GemvS = void (*)(const char*, const int*, const int*, const float*, const float*, const int*, const float*, const int*,
                       const float*, float*, const int*);

constexpr double kGemmPerThread = 1048576.0;        // multiply-adds
constexpr double kGemvPerThread = 512.0 * 1024.0;   // bytes of matrix

struct Blas {
  SetThreadsFn set = nullptr;
  bool policy = false;  // false: the BLAS decides (not OpenBLAS's pthread build, or PAPERLAB_BLAS_THREADS=blas)
};

// The BLAS's own threads setter, and the engine's thread count for it: what the BLAS started with
// (OPENBLAS_NUM_THREADS or the CPU count), then what setNumThreads asked.
std::atomic<int> g_threads{1};
std::atomic<uint64_t> g_narrowed{0};  // products this policy ran on fewer threads (blasStats)

Blas& blas() {
  static Blas b = [] {
    Blas r;
    r.set = reinterpret_cast<SetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    auto get = reinterpret_cast<GetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    auto parallel = reinterpret_cast<GetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    const char* env = std::getenv("PAPERLAB_BLAS_THREADS");
    r.policy = r.set && get && parallel && parallel() == 1 && !(env && std::strcmp(env, "blas") == 0);
    if (get) g_threads.store(get());
    return r;
  }();
  return b;
}

// The system BLAS's definition of `name`, the one after the addon's in the lookup order.
template <typename F>
F next(const char* name, F self) {
  auto f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
  if (!f || f == self) {
    // Only a library that imports this symbol can call it, and that library brought a BLAS defining it.
    std::fprintf(stderr, "paperlab: %s: no BLAS definition after the addon's\n", name);
    std::abort();
  }
  return f;
}

// Runs call() on `n` threads of the BLAS when that is fewer than the engine's count, on the engine's
// count again after. A large product another thread starts meanwhile runs on fewer threads than it
// would have (never on more), and in float32 may round differently. That takes two threads calling
// the BLAS at once with products on both sides of the sizes above; libtorch does so only in its
// per-sample convolution loops (slow_conv2d/3d), where a loop's products share one size, hence one
// decision. A lock would serialize those loops; OpenBLAS >= 0.3.27's per-thread setter would not,
// but Debian's 0.3.21 lacks it.
template <typename Call>
void onThreads(double n, Call call) {
  Blas& b = blas();
  const int want = g_threads.load(std::memory_order_relaxed);
  if (!b.policy || want <= 1 || n >= want) { call(); return; }
  b.set(n < 1 ? 1 : static_cast<int>(n));
  call();
  b.set(want);
  g_narrowed.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" {
__attribute__((visibility("default"))) void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const double* alpha,
                                                   const double* a, const int* lda, const double* b, const int* ldb, const double* beta,
                                                   double* c, const int* ldc) {
  static const GemmD f = next<GemmD>("dgemm_", &dgemm_);
  onThreads(double(*m) * double(*n) * double(*k) / kGemmPerThread, [&] { f(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); });
}
__attribute__((visibility("default"))) void sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const float* alpha,
                                                   const float* a, const int* lda, const float* b, const int* ldb, const float* beta,
                                                   float* c, const int* ldc) {
  static const GemmS f = next<GemmS>("sgemm_", &sgemm_);
  onThreads(double(*m) * double(*n) * double(*k) / kGemmPerThread, [&] { f(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); });
}
__attribute__((visibility("default"))) void dgemv_(const char* t, const int* m, const int* n, const double* alpha, const double* a, const int* lda,
                                                   const double* x, const int* incx, const double* beta, double* y, const int* incy) {
  static const GemvD f = next<GemvD>("dgemv_", &dgemv_);
  onThreads(double(*m) * double(*n) * sizeof(double) / kGemvPerThread, [&] { f(t, m, n, alpha, a, lda, x, incx, beta, y, incy); });
}
__attribute__((visibility("default"))) void sgemv_(const char* t, const int* m, const int* n, const float* alpha, const float* a, const int* lda,
                                                   const float* x, const int* incx, const float* beta, float* y, const int* incy) {
  static const GemvS f = next<GemvS>("sgemv_", &sgemv_);
  onThreads(double(*m) * double(*n) * sizeof(float) / kGemvPerThread, [&] { f(t, m, n, alpha, a, lda, x, incx, beta, y, incy); });
}
}

namespace paperlab {
void blasSetThreads(int n) {
  Blas& b = blas();
  g_threads.store(n);
  if (b.set) b.set(n);
}
BlasStats blasStats() { return {blas().policy, g_threads.load(), static_cast<double>(g_narrowed.load())}; }
}  // namespace paperlab
