/*
 * What every kernel header of rlecodec shares: the inline and no-inline markers, count
 * trailing zeros, SSE2 detection (baseline on every x86-64 CPU, so no run-time check) and a
 * byte-order-independent 8-byte load.  Loads go through memcpy: no alignment or aliasing UB.
 * It holds no kernel of its own.
 */
#ifndef RLE_BASE_H
#define RLE_BASE_H

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

/* The 8 bytes at p as a word whose lowest byte is p[0], whatever the host byte order. */
RLE_INLINE uint64_t rle_load64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

#endif /* RLE_BASE_H */
