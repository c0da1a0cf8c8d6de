#ifndef CNFN_VECTOR_MATH_H
#define CNFN_VECTOR_MATH_H

/// sin and cos of scale·(x + bias) for `rows` rows of `width` contiguous floats, in 256-bit AVX2
/// lanes: the arithmetic of Tensors' `VectorSine` kernel operation for operation (no fused
/// multiply-adds), so the same bits, at twice its 128-bit lanes' rate.
///
/// Returns 1 when every element was in the kernel's range (|scale·(x + bias)| ≤ 8192, not NaN),
/// 0 when some were not (the caller redoes those), and -1 without touching the outputs when this
/// CPU or build has no AVX2 (the caller computes everything itself).
int nfn_sincos_rows_avx2(const float *x, const float *bias, float scale, long rows, long width,
                         float *sine, float *cosine);

#endif
