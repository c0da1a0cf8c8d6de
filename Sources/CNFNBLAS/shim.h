#ifndef SWIFTNFN_CNFNBLAS_SHIM_H
#define SWIFTNFN_CNFNBLAS_SHIM_H
// The one C header SwiftNFN sees for linear algebra: CBLAS (OpenBLAS) and LAPACKE.
#include <cblas.h>
#include <lapacke.h>
#ifdef __linux__
#include <malloc.h>   // mallopt: allocator tuning for training loops
#endif
// OpenBLAS extensions for thread control (declared in OpenBLAS's cblas.h; repeated
// here so the Swift wrapper does not depend on which cblas.h the include path finds).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
