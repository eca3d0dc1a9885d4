/*
 * A compressed COCO string straight into pixels: its counts read and written as one line
 * of bytes (a mask whose memory order is COCO's pixel order: column-major, one byte a
 * pixel), with no run buffer between.  Only valid strings get through; for anything else
 * it says no, and the caller's exact reader (coco.pxi) says what is wrong.
 */
#ifndef RLE_COCO_LINE_H
#define RLE_COCO_LINE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "rle_base.h"
#include "rle_coco.h"
#include "rle_fill.h"

/* c pixels of value v (a word of 8 copies) at dst + pos, in a line of total bytes.  Up to
   16 pixels are one 16-byte store that may run past them into the next count's pixels,
   which the next store overwrites (counts are written in order; a store that would pass
   total is exact instead).  Into a line known to be zeros (zeroed), a longer run of zeros
   is only its first 16 bytes, which undo the last store's overrun: the rest of the line's
   pages stay untouched (a new array's, never faulted in). */
RLE_ALWAYS_INLINE void rle_coco_put_pixels(uint8_t *dst, int64_t pos, int64_t c, uint64_t v,
                                           int64_t total, int zeroed) {
    if ((c <= 16 || (zeroed && v == 0)) && pos + 16 <= total) {
        rle_put16(dst + pos, v);
    } else {
        rle_fill_bytes(dst + pos, (uint8_t)v, c);
    }
}

/* The pixels of compressed string s (n characters) written as the line dst of total bytes
   (value on the odd counts, 0 on the even ones; dst is all zeros already if zeroed), or,
   with dst NULL, only checked.
   Returns 0 if s is a valid string of counts adding up to total, else 1 (dst then holds
   anything).  Where 8 characters are 8 one-character counts (noise: nearly all), they go
   through unrolled, without a branch on the characters. */
static int rle_coco_line(const uint8_t *s, ptrdiff_t n, uint8_t *dst, int64_t total,
                         uint8_t value, int zeroed) {
    const uint64_t ones = 0x0101010101010101ULL, top = 0x8080808080808080ULL;
    uint64_t w, t, v[2];
    int64_t pos = 0, back2 = 0, back1 = 0, m = 0, x, c;
    ptrdiff_t p = 0;
    v[0] = 0;
    v[1] = ones * value;
    while (p < n) {
        if (m >= 3 && p + 8 <= n) {
            w = rle_load64(s + p);
            t = w - 0x3030303030303030ULL;
            /* every byte '0' (48) to 'O' (79): a whole count, no "more" bit */
            if ((w & top) == 0 && ((w + 0x5050505050505050ULL) & top) == top
                    && ((w + 0x3030303030303030ULL) & top) == 0) {
                uint64_t va = v[m & 1], vb = v[(m + 1) & 1];
                int64_t left = total - pos;
#define RLE_COCO_ONE(K, V)                                                   \
                x = (int64_t)((t >> (8 * (K))) & 0x1f);                       \
                x -= (x & 0x10) << 1;                                         \
                c = back2 + x;                                                \
                if (c < 0 || c > left)                                        \
                    return 1;                                                 \
                if (dst)                                                      \
                    rle_coco_put_pixels(dst, pos, c, (V), total, zeroed);             \
                pos += c;                                                     \
                left -= c;                                                    \
                back2 = back1;                                                \
                back1 = c;
                RLE_COCO_ONE(0, va) RLE_COCO_ONE(1, vb) RLE_COCO_ONE(2, va) RLE_COCO_ONE(3, vb)
                RLE_COCO_ONE(4, va) RLE_COCO_ONE(5, vb) RLE_COCO_ONE(6, va) RLE_COCO_ONE(7, vb)
#undef RLE_COCO_ONE
                m += 8;
                p += 8;
                continue;
            }
        }
        /* One count, character by character. */
        if (rle_coco_read_count(s, n, &p, &x) != RLE_COUNT_OK)
            return 1;
        c = rle_coco_undo(x, back2, m);
        if (c < 0 || c > total - pos)
            return 1;
        if (dst)
            rle_coco_put_pixels(dst, pos, c, v[m & 1], total, zeroed);
        pos += c;
        back2 = back1;
        back1 = c;
        m++;
    }
    return pos == total ? 0 : 1;
}

#endif /* RLE_COCO_LINE_H */
