/*
 * Bytes read as bit masks, for the encoder's scanners: a pixel is "on" when its byte is
 * non-zero, and a line is read 64 pixels at a time as a 64-bit mask (bit k: pixel k is on)
 * whose edges are found with bit tricks; SSE2 builds the mask 16 bytes per instruction,
 * elsewhere a portable word path does.  Writers of pixels belong in rle_fill.h.
 */
#ifndef RLE_BYTES_H
#define RLE_BYTES_H

#include "rle_base.h"

#define RLE_LO7 0x7F7F7F7F7F7F7F7FULL
#define RLE_HI 0x8080808080808080ULL

/* 0x80 in every byte of w that is non-zero, 0x00 elsewhere (exact, no carries across bytes). */
RLE_INLINE uint64_t rle_nonzero_bytes(uint64_t w) {
    return (((w & RLE_LO7) + RLE_LO7) | w) & RLE_HI;
}

/* Whether any of the 64 bytes at p is non-zero (one test for a whole block of pixels). */
RLE_INLINE int rle_any64(const uint8_t *p) {
#ifdef RLE_HAVE_SSE2
    __m128i x = _mm_or_si128(_mm_or_si128(_mm_loadu_si128((const __m128i *)p),
                                          _mm_loadu_si128((const __m128i *)(p + 16))),
                             _mm_or_si128(_mm_loadu_si128((const __m128i *)(p + 32)),
                                          _mm_loadu_si128((const __m128i *)(p + 48))));
    return _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) != 0xFFFF;
#else
    uint64_t w, x = 0;
    int k;
    for (k = 0; k < 64; k += 8) {
        memcpy(&w, p + k, 8);
        x |= w;
    }
    return x != 0;
#endif
}

/* The first k' >= k, in steps of 64, such that the 64 bytes at p + k' are not all zero or
   fewer than 64 bytes remain before n: a run of off pixels skipped 128 bytes per test. */
RLE_INLINE ptrdiff_t rle_skip_zero64(const uint8_t *p, ptrdiff_t k, ptrdiff_t n) {
#ifdef RLE_HAVE_SSE2
    while (k + 128 <= n) {
        const __m128i *q = (const __m128i *)(p + k);
        __m128i x = _mm_or_si128(
            _mm_or_si128(_mm_or_si128(_mm_loadu_si128(q), _mm_loadu_si128(q + 1)),
                         _mm_or_si128(_mm_loadu_si128(q + 2), _mm_loadu_si128(q + 3))),
            _mm_or_si128(_mm_or_si128(_mm_loadu_si128(q + 4), _mm_loadu_si128(q + 5)),
                         _mm_or_si128(_mm_loadu_si128(q + 6), _mm_loadu_si128(q + 7))));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) != 0xFFFF) break;
        k += 128;
    }
#endif
    while (k + 64 <= n && !rle_any64(p + k)) k += 64;
    return k;
}

/* Bit k set iff p[k] != 0, for the 64 bytes at p. */
RLE_INLINE uint64_t rle_mask64(const uint8_t *p) {
#ifdef RLE_HAVE_SSE2
    const __m128i zero = _mm_setzero_si128();
    uint64_t z0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), zero));
    uint64_t z1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), zero));
    uint64_t z2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), zero));
    uint64_t z3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), zero));
    return ~(z0 | (z1 << 16) | (z2 << 32) | (z3 << 48));
#else
    uint64_t m = 0;
    int k;
    for (k = 0; k < 8; k++) {
        /* 0x80 per non-zero byte, gathered into 8 bits by a multiply (no carries overlap). */
        uint64_t nz = rle_nonzero_bytes(rle_load64(p + 8 * k)) >> 7;
        m |= ((nz * 0x0102040810204080ULL) >> 56) << (8 * k);
    }
    return m;
#endif
}

/* Bit k set iff p[k] != 0, for the n < 64 bytes at p (higher bits clear). */
RLE_INLINE uint64_t rle_mask_tail(const uint8_t *p, ptrdiff_t n) {
    uint64_t m = 0;
    ptrdiff_t k;
    for (k = 0; k < n; k++) m |= (uint64_t)(p[k] != 0) << k;
    return m;
}

/* Bit k set iff a[k] != b[k], for the 32 bytes at a and b. */
RLE_INLINE uint32_t rle_diff32(const uint8_t *a, const uint8_t *b) {
#ifdef RLE_HAVE_SSE2
    uint32_t lo = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
        _mm_loadu_si128((const __m128i *)a), _mm_loadu_si128((const __m128i *)b)));
    uint32_t hi = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
        _mm_loadu_si128((const __m128i *)(a + 16)), _mm_loadu_si128((const __m128i *)(b + 16))));
    return ~(lo | (hi << 16));
#else
    uint64_t u, v;
    uint32_t m = 0;
    int k, j;
    for (k = 0; k < 32; k += 8) {
        memcpy(&u, a + k, 8);
        memcpy(&v, b + k, 8);
        if (u != v)
            for (j = 0; j < 8; j++) m |= (uint32_t)(a[k + j] != b[k + j]) << (k + j);
    }
    return m;
#endif
}

#endif /* RLE_BYTES_H */
