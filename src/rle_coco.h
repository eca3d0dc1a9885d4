/*
 * COCO's compressed counts (pycocotools' rleToString and rleFrString): the writer, and
 * the reading of one count that every reader of the strings shares.
 *
 * A count (or its difference from the count two before) is written 5 bits per character,
 * lowest first, 0x20 set while more characters follow, the last character's bit 4 its sign,
 * and 48 added to every character.  rle_coco_runs writes the counts of runs as a string
 * grows, a batch at a time; its loop holds only the case of nearly every run of a small,
 * even mask (both counts one character), and everything else goes out of line so that it
 * does not take the loop's registers.
 */
#ifndef RLE_COCO_H
#define RLE_COCO_H

#include <stdint.h>
#include <stddef.h>
#include "rle_base.h"

#define RLE_COCO_MAX_CHARS 13 /* 64 bits and a sign, 5 bits per character */

/* Write x and return the characters used.  out needs room for 2 characters even when 1
   is used: the two that nearly every count needs are written before any branch, and
   whether a character follows is one comparison (x outside [-16, 15] or [-512, 511]), with
   no bit-length instruction (slow on some CPUs). */
RLE_INLINE int rle_coco_put(char *out, int64_t x) {
    uint64_t u = (uint64_t)x;
    int more0 = (u + 16) >= 32, more1 = (u + 512) >= 1024, n = 3, k;
    out[0] = (char)(48 + ((x & 0x1f) | (more0 << 5)));
    out[1] = (char)(48 + (((x >> 5) & 0x1f) | (more1 << 5)));
    if (!more1)
        return 1 + more0;
    /* n characters hold x when it lies in [-2**(5n - 1), 2**(5n - 1)); 13 hold any int64. */
    while (n < RLE_COCO_MAX_CHARS && u + (1ULL << (5 * n - 1)) >= (1ULL << (5 * n)))
        n++;
    for (k = 2; k < n; k++)
        out[k] = (char)(48 + (((x >> (5 * k)) & 0x1f) | (k < n - 1 ? 0x20 : 0)));
    return n;
}

/* Write a, then b; return the end of what was written. */
RLE_NOINLINE char *rle_coco_put2(char *out, int64_t a, int64_t b) {
    out += rle_coco_put(out, a);
    return out + rle_coco_put(out, b);
}

/* Where the string stands between batches of runs. */
typedef struct {
    int64_t runs;        /* runs written */
    int64_t end;         /* where the last run written ended */
    int64_t prev_gap;    /* the gap two counts before the next one (0 while counts are raw) */
    int64_t prev_length; /* the length two counts before the next one */
} RleCocoState;

/* Write the two counts of the run (start, length) after those in st, and move st past it
   (all but st->runs). */
RLE_ALWAYS_INLINE char *rle_coco_run(char *out, int64_t start, int64_t length,
                                     RleCocoState *st) {
    int64_t gap = start - st->end, dg = gap - st->prev_gap, dl = length - st->prev_length;
    if ((((uint64_t)dg + 16) | ((uint64_t)dl + 16)) < 32) { /* both in [-16, 15] */
        out[0] = (char)(48 + (dg & 0x1f));
        out[1] = (char)(48 + (dl & 0x1f));
        out += 2;
    } else {
        out = rle_coco_put2(out, dg, dl);
    }
    st->prev_gap = gap;
    st->prev_length = length;
    st->end = start + length;
    return out;
}

/* Write the counts of n runs ((start, length) pairs: sorted, disjoint, not touching, after
   those written so far) at out, which has room for 2 * n * RLE_COCO_MAX_CHARS characters,
   and return the end of what was written.  Count 2r is gap r and count 2r + 1 length r, so
   the difference to the count two before is to the previous gap or length; counts 0 to 2
   are written as they are (as if after a gap and a length of 0). */
static char *rle_coco_runs(char *out, const int64_t *runs, ptrdiff_t n, RleCocoState *st) {
    const int64_t *r = runs, *const stop = runs + 2 * n;
    RleCocoState s = *st; /* in a local: the char stores could alias *st */
    if (s.runs == 0 && r < stop) { /* the first run, out of the loop: count 2 is raw too */
        out = rle_coco_run(out, r[0], r[1], &s);
        s.prev_gap = 0;
        r += 2;
    }
    for (; r < stop; r += 2)
        out = rle_coco_run(out, r[0], r[1], &s);
    s.runs += n;
    *st = s;
    return out;
}

/* What rle_coco_read_count found. */
enum { RLE_COUNT_OK = 0, RLE_COUNT_TRUNCATED, RLE_COUNT_NOT_NUMBER, RLE_COUNT_OVERFLOW };

/* One count as written, character by character from s[*p], into *x; *p moves past what
   was read (not past a bad character).  RLE_COUNT_TRUNCATED if the string ends inside it,
   RLE_COUNT_NOT_NUMBER at a character outside '0'..'o', RLE_COUNT_OVERFLOW past 64 bits. */
RLE_ALWAYS_INLINE int rle_coco_read_count(const uint8_t *s, ptrdiff_t n, ptrdiff_t *p,
                                          int64_t *x) {
    uint64_t ux = 0;
    int c, k = 0, more = 1;
    while (more) {
        if (*p >= n)
            return RLE_COUNT_TRUNCATED;
        c = (int)s[*p] - 48;
        if (c < 0 || c > 63)
            return RLE_COUNT_NOT_NUMBER;
        if (k >= 13) /* 13 groups hold 65 bits: more is not a 64-bit count */
            return RLE_COUNT_OVERFLOW;
        ux |= (uint64_t)(c & 0x1f) << (5 * k);
        more = c & 0x20;
        (*p)++;
        k++;
        if (!more && (c & 0x10) && 5 * k < 64)
            ux |= ~(uint64_t)0 << (5 * k); /* the sign: a negative difference */
    }
    *x = (int64_t)ux;
    return RLE_COUNT_OK;
}

/* Count m from what was written, x (from the fourth on, a difference from count m - 2,
   which is back2 >= 0); below 0 if it cannot be a count: -2 if it overflows, else -1.
   back2 + x is above INT64_MAX (as unsigned) only if it overflows (x > 0) or is negative
   (x < 0): one branch, rarely taken, whatever x's sign. */
RLE_INLINE int64_t rle_coco_undo(int64_t x, int64_t back2, int64_t m) {
    uint64_t u;
    if (m < 3)
        return x >= 0 ? x : -1;
    u = (uint64_t)back2 + (uint64_t)x;
    if (u > (uint64_t)INT64_MAX)
        return x > 0 ? -2 : -1;
    return (int64_t)u;
}

#endif /* RLE_COCO_H */
