/*
 * Byte stores for the decoder's writers: runs of one value (a few overlapping stores
 * instead of a memset call for short runs) and bits spread out to bytes, 16 or 64 pixels
 * at a time.  Reading pixels belongs in rle_bytes.h.
 */
#ifndef RLE_FILL_H
#define RLE_FILL_H

#include "rle_bytes.h"

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

/* 16 bytes of the word w (8 copies of a byte) at dst: one store where SSE2 has it. */
RLE_ALWAYS_INLINE void rle_put16(uint8_t *dst, uint64_t w) {
#ifdef RLE_HAVE_SSE2
    _mm_storeu_si128((__m128i *)dst, _mm_set1_epi64x((long long)w));
#else
    memcpy(dst, &w, 8);
    memcpy(dst + 8, &w, 8);
#endif
}

/* The pixels origin .. origin + total - 1 of sorted, disjoint runs (start, length pairs;
   the first may begin before that span, the last may end after it) and the gaps between
   them as one straight line of `total` bytes: `value` on the runs, 0 elsewhere, every byte
   written.  Returns how many runs it took: those that begin before the span's end.
   A gap or run of up to 16 bytes is one 16-byte store that may run past its end into the
   next piece, which the next store then overwrites (the pieces are written in order;
   stores that would pass `total` are exact instead): short runs cost two stores and no
   branch on their length. */
RLE_INLINE ptrdiff_t rle_write_line(uint8_t *dst, const int64_t *runs, ptrdiff_t n,
                                    int64_t total, uint8_t value, int64_t origin) {
    uint64_t w = 0x0101010101010101ULL * value, z = 0;
    int64_t done = 0, s, e, inner = origin + total - 16;
    ptrdiff_t r = 0;
    if (n > 0 && runs[0] < origin) {  /* the rest of a run begun before the span */
        done = runs[0] + runs[1] - origin;
        done = done < total ? done : total;
        rle_fill_bytes(dst, value, done);
        r = 1;
    }
    /* Runs that start 16 bytes or more before the end: both stores fit, and a run that
       passes the end is a long one (its fill is cut there). */
    for (; r < n && runs[2 * r] <= inner; r++) {
        s = runs[2 * r] - origin;
        e = s + runs[2 * r + 1];
        if (s - done <= 16)
            rle_put16(dst + done, z);
        else
            rle_fill_bytes(dst + done, 0, s - done);
        if (e - s <= 16) {
            rle_put16(dst + s, w);
        } else {
            e = e < total ? e : total;
            rle_fill_bytes(dst + s, value, e - s);
        }
        done = e;
    }
    /* The last few, with exact stores at the end. */
    for (; r < n && runs[2 * r] - origin < total; r++) {
        s = runs[2 * r] - origin;
        e = s + runs[2 * r + 1];
        e = e < total ? e : total;
        rle_fill_bytes(dst + done, 0, s - done);
        rle_fill_bytes(dst + s, value, e - s);
        done = e;
    }
    rle_fill_bytes(dst + done, 0, total - done);
    return r;
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

#endif /* RLE_FILL_H */
