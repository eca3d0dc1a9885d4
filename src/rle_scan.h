/*
 * Byte-scanning primitives for rlecodec's encoder.
 *
 * Each function looks for the next index k >= i (k < n) where a pixel's state changes and
 * returns n when there is none.  A pixel is "on" when its byte is non-zero.  SSE2 (baseline
 * on every x86-64 CPU, so no runtime detection) tests 16 bytes at a time; elsewhere a
 * portable 64-bit word path tests 8.  Loads go through memcpy: no alignment or aliasing UB.
 */
#ifndef RLE_SCAN_H
#define RLE_SCAN_H

#include <stdint.h>
#include <string.h>
#include <stddef.h>

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define RLE_HAVE_SSE2 1
#include <emmintrin.h>
#endif

#if defined(_MSC_VER)
#include <intrin.h>
static __inline int rle_ctz64(uint64_t x) {
    unsigned long r;
#if defined(_M_X64) || defined(_M_ARM64)
    _BitScanForward64(&r, x);
#else
    if ((uint32_t)x) { _BitScanForward(&r, (uint32_t)x); }
    else { _BitScanForward(&r, (uint32_t)(x >> 32)); r += 32; }
#endif
    return (int)r;
}
static __inline int rle_ctz32(uint32_t x) { unsigned long r; _BitScanForward(&r, x); return (int)r; }
#define RLE_INLINE static __inline
#else
#define rle_ctz64(x) __builtin_ctzll((unsigned long long)(x))
#define rle_ctz32(x) __builtin_ctz((unsigned int)(x))
#define RLE_INLINE static inline
#endif

/* The 8 bytes at p as a word whose lowest byte is p[0], whatever the host byte order. */
RLE_INLINE uint64_t rle_load64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

#define RLE_LO7 0x7F7F7F7F7F7F7F7FULL
#define RLE_HI 0x8080808080808080ULL

/* 0x80 in every byte of w that is non-zero, 0x00 elsewhere (exact, no carries across bytes). */
RLE_INLINE uint64_t rle_nonzero_bytes(uint64_t w) {
    return (((w & RLE_LO7) + RLE_LO7) | w) & RLE_HI;
}

/* First k >= i with p[k] != 0, or n. */
RLE_INLINE ptrdiff_t rle_find_nonzero(const uint8_t *p, ptrdiff_t i, ptrdiff_t n) {
#ifdef RLE_HAVE_SSE2
    const __m128i zero = _mm_setzero_si128();
    while (i + 32 <= n) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(p + i + 16));
        uint32_t za = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, zero));
        uint32_t zb = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, zero));
        uint32_t on = ~(za | (zb << 16));
        if (on) return i + rle_ctz32(on);
        i += 32;
    }
#endif
    while (i + 8 <= n) {
        uint64_t w = rle_load64(p + i);
        if (w) return i + (rle_ctz64(w) >> 3);
        i += 8;
    }
    while (i < n && p[i] == 0) i++;
    return i;
}

/* First k >= i with p[k] == 0, or n. */
RLE_INLINE ptrdiff_t rle_find_zero(const uint8_t *p, ptrdiff_t i, ptrdiff_t n) {
#ifdef RLE_HAVE_SSE2
    const __m128i zero = _mm_setzero_si128();
    while (i + 32 <= n) {
        __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(p + i + 16));
        uint32_t za = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, zero));
        uint32_t zb = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, zero));
        uint32_t off = za | (zb << 16);
        if (off) return i + rle_ctz32(off);
        i += 32;
    }
#endif
    while (i + 8 <= n) {
        uint64_t off = ~rle_nonzero_bytes(rle_load64(p + i)) & RLE_HI;
        if (off) return i + (rle_ctz64(off) >> 3);
        i += 8;
    }
    while (i < n && p[i] != 0) i++;
    return i;
}

/* First k >= i where a[k] and b[k] differ in being non-zero, or n.  a == NULL reads as zeros. */
RLE_INLINE ptrdiff_t rle_find_change(const uint8_t *a, const uint8_t *b, ptrdiff_t i, ptrdiff_t n) {
    if (a == NULL) return rle_find_nonzero(b, i, n);
#ifdef RLE_HAVE_SSE2
    const __m128i zero = _mm_setzero_si128();
    while (i + 32 <= n) {
        __m128i a0 = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i a1 = _mm_loadu_si128((const __m128i *)(a + i + 16));
        __m128i b0 = _mm_loadu_si128((const __m128i *)(b + i));
        __m128i b1 = _mm_loadu_si128((const __m128i *)(b + i + 16));
        /* Equal bytes cannot change state: test the cheap XOR first. */
        __m128i x = _mm_or_si128(_mm_xor_si128(a0, b0), _mm_xor_si128(a1, b1));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(x, zero)) != 0xFFFF) {
            uint32_t za = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a0, zero))
                        | ((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a1, zero)) << 16);
            uint32_t zb = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b0, zero))
                        | ((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b1, zero)) << 16);
            uint32_t d = za ^ zb;
            if (d) return i + rle_ctz32(d);
        }
        i += 32;
    }
#endif
    while (i + 8 <= n) {
        uint64_t wa = rle_load64(a + i), wb = rle_load64(b + i);
        if (wa ^ wb) {
            uint64_t d = rle_nonzero_bytes(wa) ^ rle_nonzero_bytes(wb);
            if (d) return i + (rle_ctz64(d) >> 3);
        }
        i += 8;
    }
    while (i < n && ((a[i] != 0) == (b[i] != 0))) i++;
    return i;
}

#endif /* RLE_SCAN_H */
