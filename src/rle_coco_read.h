/*
 * A compressed COCO string read into runs several counts a step: four counts of one to
 * three characters, or eight of one (noise), checked and taken without a branch on which
 * they are.  Anything else (the first three counts, longer counts, zeros, bad characters, a
 * count past the mask) is left to the caller's exact reader, one count at a time.
 */
#ifndef RLE_COCO_READ_H
#define RLE_COCO_READ_H

#include <stdint.h>
#include <stddef.h>
#include "rle_base.h"

/* Where the reading of a string stands: the runs so far and what the next count needs. */
typedef struct {
    int64_t *runs;    /* (start, length) pairs, room for every run the string can hold */
    int64_t nruns;
    int64_t total;    /* pixels in the mask */
    int64_t pos;      /* pixels covered by the counts so far */
    int64_t back2;    /* the count two before the next (the next is a difference from it) */
    int64_t back1;
    int64_t last_end; /* where the last run ends (-1 before the first) */
    int64_t m;        /* counts taken */
} RleCocoReading;

/* Every byte of w is a count character, '0' (48) to 'o' (111): ASCII, at least 48 (adding
   80 sets its top bit) and at most 111 (adding 16 does not). */
RLE_INLINE int rle_coco_valid8(uint64_t w) {
    const uint64_t top = 0x8080808080808080ULL;
    return (w & top) == 0 && ((w + 0x5050505050505050ULL) & top) == top
        && ((w + 0x1010101010101010ULL) & top) == 0;
}

/* The w-bit field x, its top bit the sign (m = 1 << (w - 1)), as a signed number. */
#define RLE_SIGNED(x, m) ((int64_t)((x) ^ (m)) - (int64_t)(m))

/* Counts from s[p] taken into st for as long as whole steps apply; returns where reading
   stopped.  A step takes the counts only if each is at least 1 and together they stay
   within the mask: then they are exactly what the exact reader would take, and with no
   count of 0 between them no run is joined to another. */
static ptrdiff_t rle_coco_read_steps(const uint8_t *s, ptrdiff_t n, ptrdiff_t p,
                                     RleCocoReading *st) {
    int64_t pos = st->pos, b2 = st->back2, b1 = st->back1, nr = st->nruns, m = st->m;
    int64_t last_end = st->last_end, left = st->total - st->pos, c[8], sum, low, q;
    int64_t *out = st->runs;
    /* m even: counts 0, 2, ... of a step are gaps; odd: lengths (steps keep m's parity) */
    const int odd = (int)(m & 1);
    int k;
    /* Not before the fourth count (the first three are not differences), nor when a
       length follows a gap of 0 (its run joins the last); a total near 2**63 would let a
       difference overflow. */
    if (m < 3 || (odd && last_end == pos) || st->total > (INT64_MAX >> 2))
        return p;
    while (p + 8 <= n) {
        uint64_t w = rle_load64(s + p), t, bad = 0, u, b0, b1c, b2c, more, more2, bits;
        unsigned o = 0, o2 = 0;
        if (!rle_coco_valid8(w))
            break;
        t = w - 0x3030303030303030ULL; /* each byte its 6-bit group */
        if (!(t & 0x2020202020202020ULL)) {
            /* Eight counts of one character each. */
            for (k = 0; k < 8; k++) c[k] = RLE_SIGNED((t >> (8 * k)) & 0x1f, 0x10);
            c[0] += b2;
            c[1] += b1;
            for (k = 2; k < 8; k++) c[k] += c[k - 2];
            sum = 0;
            low = c[0];
            for (k = 0; k < 8; k++) {
                sum += c[k];
                low = c[k] < low ? c[k] : low;
            }
            if (low < 1 || sum > left)
                break;
            q = pos;
            for (k = 0; k < 8; k += 2) {
                out[2 * nr] = odd ? q : q + c[k];
                out[2 * nr + 1] = c[k + 1 - odd];
                q += c[k] + c[k + 1];
                nr++;
            }
            last_end = odd ? q - c[7] : q;
            b2 = c[6];
            b1 = c[7];
            p += 8;
            m += 8;
        } else {
            /* Four counts of one to three characters (a character's 0x20 bit says another
               follows), two from this word and two from one loaded where they begin: two
               counts take at most six of a word's eight characters. */
            for (k = 0; k < 4; k++) {
                if (k == 2) {
                    if (p + o + 8 > n)
                        break;
                    w = rle_load64(s + p + o);
                    if (!rle_coco_valid8(w))
                        break;
                    t = w - 0x3030303030303030ULL;
                    o2 = o;
                }
                u = t >> (8 * (o - o2));
                b0 = u & 0x3f;
                b1c = (u >> 8) & 0x3f;
                b2c = (u >> 16) & 0x3f;
                more = b0 >> 5;
                more2 = more & (b1c >> 5);
                bits = (b0 & 0x1f) | (((b1c & 0x1f) << 5) & (0 - more))
                       | (((b2c & 0x1f) << 10) & (0 - more2));
                c[k] = RLE_SIGNED(bits, (uint64_t)0x10 << (5 * (more + more2)));
                bad |= more2 & (b2c >> 5);
                o += 1 + (unsigned)(more + more2);
            }
            if (k < 4)
                break;
            c[0] += b2;
            c[1] += b1;
            c[2] += c[0];
            c[3] += c[1];
            sum = c[0] + c[1] + c[2] + c[3];
            bad |= (uint64_t)((c[0] - 1) | (c[1] - 1) | (c[2] - 1) | (c[3] - 1)) >> 63;
            if (bad || sum > left)
                break;
            out[2 * nr] = odd ? pos : pos + c[0];
            out[2 * nr + 1] = c[odd ? 0 : 1];
            out[2 * nr + 2] = pos + c[0] + c[1] + (odd ? 0 : c[2]);
            out[2 * nr + 3] = c[odd ? 2 : 3];
            last_end = out[2 * nr + 2] + out[2 * nr + 3];
            nr += 2;
            b2 = c[2];
            b1 = c[3];
            p += o;
            m += 4;
        }
        pos += sum;
        left -= sum;
    }
    st->pos = pos;
    st->back2 = b2;
    st->back1 = b1;
    st->nruns = nr;
    st->m = m;
    st->last_end = last_end;
    return p;
}

#undef RLE_SIGNED

#endif /* RLE_COCO_READ_H */
