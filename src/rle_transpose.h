/*
 * Bytes transposed: columns held one after another (a tile of a column-major line of
 * pixels) written out as the rows of a row-major mask.  16 x 16 blocks in SSE2 registers
 * where the CPU has them, 8 x 8 blocks in 64-bit words elsewhere, single bytes at the edges.
 */
#ifndef RLE_TRANSPOSE_H
#define RLE_TRANSPOSE_H

#include "rle_base.h"

/* Stores the word w as 8 bytes at p, its lowest byte at p[0] (rle_load64's inverse). */
RLE_INLINE void rle_store64(uint8_t *p, uint64_t w) {
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    memcpy(p, &w, 8);
}

/* One exchange of the 8 x 8 transpose: the bits of m in word b and the bits of m shifted
   up by `shift` in word a trade places. */
#define RLE_SWAP_BLOCKS(a, b, m, shift)                                        \
    do {                                                                       \
        uint64_t ta = (a), tb = (b);                                           \
        (a) = (ta & (m)) | ((tb & (m)) << (shift));                            \
        (b) = ((ta >> (shift)) & (m)) | (tb & ~(m));                           \
    } while (0)

/* dst row r, byte k = src column k, byte r, for an 8 x 8 block: swapping the off-diagonal
   4 x 4 blocks, then the 2 x 2 blocks within them, then single bytes. */
RLE_INLINE void rle_transpose8(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                               ptrdiff_t dst_stride) {
    uint64_t x[8];
    int k;
    for (k = 0; k < 8; k++) x[k] = rle_load64(src + k * src_stride);
    for (k = 0; k < 4; k++) RLE_SWAP_BLOCKS(x[k], x[k + 4], 0x00000000FFFFFFFFULL, 32);
    for (k = 0; k < 8; k += (k & 1) ? 3 : 1)  /* k = 0, 1, 4, 5 */
        RLE_SWAP_BLOCKS(x[k], x[k + 2], 0x0000FFFF0000FFFFULL, 16);
    for (k = 0; k < 8; k += 2) RLE_SWAP_BLOCKS(x[k], x[k + 1], 0x00FF00FF00FF00FFULL, 8);
    for (k = 0; k < 8; k++) rle_store64(dst + k * dst_stride, x[k]);
}

#ifdef RLE_HAVE_SSE2
/* The same for a 16 x 16 block in registers.  Interleaving the bytes of rows k and k + 8
   into rows 2k and 2k + 1 rotates the 8 bits (row, column) of every byte's place left by
   one; four times over, rows and columns have traded places. */
RLE_INLINE void rle_transpose16(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                                ptrdiff_t dst_stride) {
    __m128i a[16], b[16];
    int k, round;
    for (k = 0; k < 16; k++) a[k] = _mm_loadu_si128((const __m128i *)(src + k * src_stride));
    for (round = 0; round < 4; round++) {
        for (k = 0; k < 8; k++) {
            b[2 * k] = _mm_unpacklo_epi8(a[k], a[k + 8]);
            b[2 * k + 1] = _mm_unpackhi_epi8(a[k], a[k + 8]);
        }
        for (k = 0; k < 16; k++) a[k] = b[k];
    }
    for (k = 0; k < 16; k++) _mm_storeu_si128((__m128i *)(dst + k * dst_stride), a[k]);
}
#endif

/* dst[i * dst_stride + j] = src[j * src_stride + i] for i < rows, j < cols: each output
   row is written across all its columns before the next (one pass over dst, in order). */
static void rle_transpose_bytes(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                                ptrdiff_t dst_stride, ptrdiff_t rows, ptrdiff_t cols) {
    ptrdiff_t i, j, i16 = 0, j16 = 0, i8 = rows & ~(ptrdiff_t)7, j8 = cols & ~(ptrdiff_t)7;
#ifdef RLE_HAVE_SSE2
    i16 = rows & ~(ptrdiff_t)15;
    j16 = cols & ~(ptrdiff_t)15;
    for (i = 0; i < i16; i += 16)
        for (j = 0; j < j16; j += 16)
            rle_transpose16(src + j * src_stride + i, src_stride, dst + i * dst_stride + j,
                            dst_stride);
#endif
    /* 8 x 8 blocks: the columns past j16 of the rows in 16-blocks, every column of the
       rest (i16 is a multiple of 16, so a block of 8 rows is wholly on one side). */
    for (i = 0; i < i8; i += 8)
        for (j = i < i16 ? j16 : 0; j < j8; j += 8)
            rle_transpose8(src + j * src_stride + i, src_stride, dst + i * dst_stride + j,
                           dst_stride);
    for (i = 0; i < rows; i++)
        for (j = i < i8 ? j8 : 0; j < cols; j++)
            dst[i * dst_stride + j] = src[j * src_stride + i];
}

#endif /* RLE_TRANSPOSE_H */
