// The engine's threading policy for small BLAS products (native/blas.cpp).
#pragma once

namespace paperlab {
struct BlasStats {
  bool policy;      // the engine picks the threads of small products (OpenBLAS's pthread build, not turned off)
  int threads;      // the engine's thread count for the BLAS
  double narrowed;  // products run on fewer threads than that, since start
};
// Sets the BLAS's thread count (OpenBLAS: openblas_set_num_threads) and the policy's ceiling.
void blasSetThreads(int n);
BlasStats blasStats();
}  // namespace paperlab
