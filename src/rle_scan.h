/*
 * Byte-scanning primitives for rlecodec's encoder.
 *
 * A pixel is "on" when its byte is non-zero.  The encoder reads lines 64 pixels at a time as
 * a 64-bit mask (bit k: pixel k is on) and finds edges in it with bit tricks.  SSE2 (baseline
 * on every x86-64 CPU, so no runtime detection) builds the mask 16 bytes per instruction;
 * elsewhere a portable 64-bit word path does.  Loads go through memcpy: no alignment or
 * aliasing UB.
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
#define RLE_INLINE static __inline
#else
#define rle_ctz64(x) __builtin_ctzll((unsigned long long)(x))
#define RLE_INLINE static inline
#endif

/* RLE_ALWAYS_INLINE: a body compiled into each caller (the plain-pair reader's, once per
   CPU variant); RLE_NOINLINE: a rare path kept out of a loop, so that it does not take the
   loop's registers. */
#if defined(_MSC_VER) && !defined(__clang__)
#define RLE_ALWAYS_INLINE static __forceinline
#define RLE_NOINLINE static __declspec(noinline)
#else
#define RLE_ALWAYS_INLINE static inline __attribute__((always_inline))
#define RLE_NOINLINE static __attribute__((noinline))
#endif

/* The decimal digits of 0 < v < 10^8 as ASCII at dst, with one 8-byte store (the bytes
   after the digits are overwritten too, so 8 bytes at dst must be writable); returns how
   many.  All 8 digits are made at once, two halves, then four pairs, then eight digits,
   each split by a multiply and shift that divides exactly in its range; the leading zero
   digits, counted with count-trailing-zeros, are shifted out. */
RLE_INLINE int rle_put_digits8(char *dst, uint32_t v) {
    uint64_t x = (uint64_t)(v / 10000) | ((uint64_t)(v % 10000) << 32);
    uint64_t q = ((x * 5243) >> 19) & 0x0000007F0000007FULL;     /* x / 100 per half */
    int zeros;
    x = q | ((x - q * 100) << 16);
    q = ((x * 103) >> 10) & 0x000F000F000F000FULL;               /* x / 10 per pair */
    x = q | ((x - q * 10) << 8);                                 /* first digit lowest */
    zeros = rle_ctz64(x) >> 3;                                   /* v > 0: x != 0 */
    x += 0x3030303030303030ULL;
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x) << (8 * zeros);
#else
    x >>= 8 * zeros;
#endif
    memcpy(dst, &x, 8);
    return 8 - zeros;
}

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

/* Bit k set iff p[k] is a space (0x20), for the 64 bytes at p; bit k of *other set iff
   p[k] is neither a space nor an ASCII digit. */
RLE_INLINE uint64_t rle_spaces64(const uint8_t *p, uint64_t *other) {
#ifdef RLE_HAVE_SSE2
    const __m128i space = _mm_set1_epi8(0x20), zero = _mm_set1_epi8('0');
    const __m128i nine = _mm_set1_epi8(9);
    uint64_t sp = 0, ok = 0;
    int k;
    for (k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        __m128i d = _mm_sub_epi8(x, zero);                      /* a digit: 0..9 unsigned */
        __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, nine), d);
        __m128i is_sp = _mm_cmpeq_epi8(x, space);
        sp |= (uint64_t)(uint32_t)_mm_movemask_epi8(is_sp) << (16 * k);
        ok |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_or_si128(digit, is_sp)) << (16 * k);
    }
    *other = ~ok;
    return sp;
#else
    uint64_t sp = 0, bad = 0;
    int k;
    for (k = 0; k < 64; k++) {
        sp |= (uint64_t)(p[k] == 0x20) << k;
        bad |= (uint64_t)(p[k] != 0x20 && (uint8_t)(p[k] - '0') > 9) << k;
    }
    *other = bad;
    return sp;
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

/* A word whose byte k, as stored to memory, is 1 if bit k of b is set, else 0. */
RLE_INLINE uint64_t rle_spread8(uint64_t b) {
    uint64_t x = ((b & 0xFF) * 0x0101010101010101ULL) & 0x8040201008040201ULL;
    x = rle_nonzero_bytes(x) >> 7;  /* numeric byte k = bit k */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* n bytes of `value` at dst.  Short fills (most runs) are a few overlapping stores inside
   [dst, dst + n) instead of a call into memset; long ones go to memset. */
RLE_INLINE void rle_fill_bytes(uint8_t *dst, uint8_t value, ptrdiff_t n) {
    uint64_t w = 0x0101010101010101ULL * value;
    ptrdiff_t k;
    if (n > 256) {
        memset(dst, value, (size_t)n);
    } else if (n >= 16) {
#ifdef RLE_HAVE_SSE2
        /* Covered from both ends with a fixed number of stores: a loop here would be turned
           into `rep stosb` by gcc when the value is a known 0, which is slow to start. */
        __m128i v = _mm_set1_epi8((char)value);
        uint8_t *end = dst + n;
        ptrdiff_t half = n > 128 ? 128 : n > 64 ? 64 : n > 32 ? 32 : 16;
        for (k = 0; k < half; k += 16) {
            _mm_storeu_si128((__m128i *)(dst + k), v);
            _mm_storeu_si128((__m128i *)(end - half + k), v);
        }
#else
        for (k = 0; k + 8 < n; k += 8) memcpy(dst + k, &w, 8);
        memcpy(dst + n - 8, &w, 8);
#endif
    } else if (n >= 8) {
        memcpy(dst, &w, 8);
        memcpy(dst + n - 8, &w, 8);
    } else if (n >= 4) {
        uint32_t v = (uint32_t)w;
        memcpy(dst, &v, 4);
        memcpy(dst + n - 4, &v, 4);
    } else if (n > 0) {
        dst[0] = value;
        dst[n >> 1] = value;
        dst[n - 1] = value;
    }
}

/* Pixels k = 0 .. 15 as 16 bytes at dst: `value` where bit k of `bits` is set, 0 elsewhere.
   With SSE2 the two bytes of bits are spread over 8 lanes each and every lane is compared
   with its own bit (no multiplies). */
RLE_INLINE void rle_expand16(uint32_t bits, uint8_t value, uint8_t *dst) {
#ifdef RLE_HAVE_SSE2
    const __m128i select = _mm_set_epi8(-128, 64, 32, 16, 8, 4, 2, 1,
                                        -128, 64, 32, 16, 8, 4, 2, 1);
    __m128i x = _mm_cvtsi32_si128((int)(uint16_t)bits);
    x = _mm_unpacklo_epi8(x, x);
    x = _mm_unpacklo_epi16(x, x);
    x = _mm_unpacklo_epi32(x, x);  /* lanes 0-7: the low byte, 8-15: the high */
    x = _mm_cmpeq_epi8(_mm_and_si128(x, select), select);
    _mm_storeu_si128((__m128i *)dst, _mm_and_si128(x, _mm_set1_epi8((char)value)));
#else
    uint64_t w0 = rle_spread8(bits) * value, w1 = rle_spread8(bits >> 8) * value;
    memcpy(dst, &w0, 8);
    memcpy(dst + 8, &w1, 8);
#endif
}

/* Pixels k = 0 .. n-1 (n <= 64) of a row as bytes: `value` where bit k of `bits` is set,
   0 elsewhere. */
RLE_INLINE void rle_expand64(uint64_t bits, uint8_t value, uint8_t *dst, ptrdiff_t n) {
    uint64_t w;
    ptrdiff_t q;
    if (bits == 0 || bits == ~(uint64_t)0) {
        rle_fill_bytes(dst, bits ? value : 0, n);
        return;
    }
    for (q = 0; q + 16 <= n; q += 16)
        rle_expand16((uint32_t)(bits >> q), value, dst + q);
    for (; q + 8 <= n; q += 8) {
        w = rle_spread8(bits >> q) * value;  /* bytes of 0 or 1 times value: no carries */
        memcpy(dst + q, &w, 8);
    }
    for (; q < n; q++) dst[q] = ((bits >> q) & 1) ? value : 0;
}

#endif /* RLE_SCAN_H */
