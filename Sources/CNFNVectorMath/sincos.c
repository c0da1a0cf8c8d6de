#include "CNFNVectorMath.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

// Every product and sum rounds on its own, as in the Swift kernel: never contract to FMA (the
// "avx2" target below has no FMA either, so this is belt and braces).
#pragma STDC FP_CONTRACT OFF

#define NFN_AVX2 __attribute__((target("avx2")))

/// VectorSine.kernel in eight AVX lanes; the constants are the same Float values (bit patterns
/// in the comments).
NFN_AVX2 static inline __attribute__((always_inline))
void kernel(__m256 x, __m256 *sine, __m256 *cosine) {
    const __m256 magic = _mm256_set1_ps(0x1.8p+23f);                       // 4b400000
    __m256 shifted = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(0x1.45f306p-1f)), magic);   // 3f22f983
    __m256 j = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(j, _mm256_set1_ps(0x1.92p+0f)));                 // 3fc90000
    r = _mm256_sub_ps(r, _mm256_mul_ps(j, _mm256_set1_ps(0x1.fb4p-12f)));                      // 39fda000
    r = _mm256_sub_ps(r, _mm256_mul_ps(j, _mm256_set1_ps(0x1.4442d2p-24f)));                   // 33a22169
    __m256 z = _mm256_mul_ps(r, r);
    __m256 sp = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(-0x1.9943f2p-13f), z), _mm256_set1_ps(0x1.11073cp-7f));  // b94ca1f9, 3c08839e
    sp = _mm256_sub_ps(_mm256_mul_ps(sp, z), _mm256_set1_ps(0x1.555546p-3f));                  // 3e2aaaa3
    sp = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(sp, z), r), r);
    __m256 cp = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(0x1.99eb9cp-16f), z), _mm256_set1_ps(0x1.6c0c34p-10f));  // 37ccf5ce, 3ab6061a
    cp = _mm256_add_ps(_mm256_mul_ps(cp, z), _mm256_set1_ps(0x1.55554ap-5f));                  // 3d2aaaa5
    cp = _mm256_add_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(cp, z), z), _mm256_mul_ps(_mm256_set1_ps(0.5f), z)),
                       _mm256_set1_ps(1.0f));
    // The quadrant from the low bits of the shifted multiple, as in the Swift kernel.
    const __m256i one = _mm256_set1_epi32(1), two = _mm256_set1_epi32(2);
    __m256i q = _mm256_castps_si256(shifted);
    __m256i s = _mm256_castps_si256(sp), c = _mm256_castps_si256(cp);
    __m256i swap = _mm256_and_si256(_mm256_xor_si256(s, c), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(q, one)));
    s = _mm256_xor_si256(_mm256_xor_si256(s, swap), _mm256_slli_epi32(_mm256_and_si256(q, two), 30));
    c = _mm256_xor_si256(_mm256_xor_si256(c, swap), _mm256_slli_epi32(_mm256_and_si256(_mm256_add_epi32(q, one), two), 30));
    *sine = _mm256_castsi256_ps(s);
    *cosine = _mm256_castsi256_ps(c);
}

NFN_AVX2 static int sincos_rows(const float *x, const float *bias, float scale, long rows, long width,
                                float *sine, float *cosine) {
    const __m256 omega = _mm256_set1_ps(scale), limit = _mm256_set1_ps(8192.0f);
    const __m256 magnitudeMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    // In-range lanes so far (an ordered compare: NaN counts as out of range).
    __m256 inRange = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    long whole = width - width % 8;
    for (long row = 0; row < rows; row++) {
        const float *in = x + row * width;
        float *s = sine + row * width, *c = cosine + row * width;
        long o = 0;
        for (; o < whole; o += 8) {
            __m256 v = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(in + o), _mm256_loadu_ps(bias + o)), omega);
            inRange = _mm256_and_ps(inRange, _mm256_cmp_ps(_mm256_and_ps(v, magnitudeMask), limit, _CMP_LE_OQ));
            __m256 sv, cv;
            kernel(v, &sv, &cv);
            _mm256_storeu_ps(s + o, sv);
            _mm256_storeu_ps(c + o, cv);
        }
        if (o < width) {
            // The tail, zero-padded to eight lanes (as the Swift loads pad).
            float a[8] = {0}, b[8] = {0}, so[8], co[8];
            memcpy(a, in + o, (size_t)(width - o) * sizeof(float));
            memcpy(b, bias + o, (size_t)(width - o) * sizeof(float));
            __m256 v = _mm256_mul_ps(_mm256_add_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(b)), omega);
            inRange = _mm256_and_ps(inRange, _mm256_cmp_ps(_mm256_and_ps(v, magnitudeMask), limit, _CMP_LE_OQ));
            __m256 sv, cv;
            kernel(v, &sv, &cv);
            _mm256_storeu_ps(so, sv);
            _mm256_storeu_ps(co, cv);
            memcpy(s + o, so, (size_t)(width - o) * sizeof(float));
            memcpy(c + o, co, (size_t)(width - o) * sizeof(float));
        }
    }
    return _mm256_movemask_ps(inRange) == 0xff;
}

int nfn_sincos_rows_avx2(const float *x, const float *bias, float scale, long rows, long width,
                         float *sine, float *cosine) {
    if (!__builtin_cpu_supports("avx2")) return -1;
    return sincos_rows(x, bias, scale, rows, width, sine, cosine);
}

#else

int nfn_sincos_rows_avx2(const float *x, const float *bias, float scale, long rows, long width,
                         float *sine, float *cosine) {
    (void)x; (void)bias; (void)scale; (void)rows; (void)width; (void)sine; (void)cosine;
    return -1;
}

#endif
