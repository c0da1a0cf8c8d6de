#ifndef SWIFTNFN_BENCH_CBLAS_SHIM_H
#define SWIFTNFN_BENCH_CBLAS_SHIM_H
#include <cblas.h>
#endif
