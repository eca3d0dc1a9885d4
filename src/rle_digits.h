/*
 * Decimal digits for the formatter: the digits of a number below 10^8 made all at once
 * and written with one 8-byte store.
 */
#ifndef RLE_DIGITS_H
#define RLE_DIGITS_H

#include "rle_base.h"

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

#endif /* RLE_DIGITS_H */
