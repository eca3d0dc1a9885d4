/*
 * The plain-pair reader of rlecodec's text parser.
 *
 * Almost all run-length text is "start length" pairs of short decimal numbers, each number
 * followed by one space.  rle_usual_pairs reads such pairs and stores the usual ones (past
 * a gap after the previous run, not empty, inside the mask) as runs; it hands every other
 * pair back to the caller, returns when its room for runs is full (the caller may make
 * more), and stops where the text is anything else, so that the caller's general path can
 * read the rest and word any error.
 *
 * Spaces are found 64 bytes at a time from the start of a pair, and a pair's two ends come
 * from them together: reading a pair does not wait for the end of the one before it.  The
 * two numbers are converted together: on x86 CPUs with SSSE3 one shuffle lines both up in
 * a vector register and three multiply-adds make their values; elsewhere each goes through
 * a 64-bit word (SWAR).  SSSE3 is not part of the x86-64 baseline that wheels are built
 * for, so the reader is chosen once at run time (rle_parse_select).  A block whose numbers
 * all have at most 7 digits (nearly every block of a mask under 10 million pixels) is told
 * apart by its space mask alone, and its pairs go to the vector path without the per-pair
 * digit-count checks.  On x86-64 CPUs with AVX-512 VBMI2 a third reader lists the spaces
 * of four blocks at a time (compress) and reads their pairs in one loop, four pairs to a
 * 512-bit register.
 */
#ifndef RLE_PARSE_H
#define RLE_PARSE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include "rle_bytes.h"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86)) && !defined(__clang__)
#define RLE_SSSE3_READER 1
#define RLE_TARGET_SSSE3
#include <intrin.h>
#include <tmmintrin.h>
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define RLE_SSSE3_READER 1
#define RLE_TARGET_SSSE3 __attribute__((target("ssse3")))
#include <cpuid.h>
#include <tmmintrin.h>
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define RLE_AVX512_READER 1
#define RLE_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi,bmi2,popcnt,ssse3")))
#include <immintrin.h>
#endif

/* The multiply-adds that turn digits (one a byte, first highest) into a number: pairs of
   digits (10 a + b), then of those (100 a + b), then of those (10000 a + b). */
#define RLE_MADD_TENS 0x010A
#define RLE_MADD_HUNDREDS 0x00010064
#define RLE_MADD_TEN_THOUSANDS 0x00012710

#define RLE_PLAIN_MAX_DIGITS 15 /* a plain number is read with at most two 8-byte loads */
#define RLE_ASCII_ZEROS 0x3030303030303030ULL

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

/* 10 ** k for k < 8. */
static const uint64_t rle_pow10[8] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
                                      1000000ULL, 10000000ULL};

/* The value of 8 decimal digits held one per byte (0-9), first digit lowest. */
RLE_INLINE uint64_t rle_swar8(uint64_t x) {
    x = x * 10 + (x >> 8);
    return (((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)))
            + (((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
}

/* How many ASCII digits begin the 8 bytes at p (0 to 8), with the bytes XOR '0' in *x (first
   byte lowest): a byte that is not a digit gets its high bit flagged (a carry only leaks
   upward from a byte that is flagged anyway, so the lowest flag is exact). */
RLE_INLINE int rle_leading_digits8(const uint8_t *p, uint64_t *x) {
    uint64_t w = rle_load64(p) ^ RLE_ASCII_ZEROS;
    uint64_t flags = ((w + 0x7676767676767676ULL) | w) & 0x8080808080808080ULL;
    *x = w;
    return flags ? rle_ctz64(flags) >> 3 : 8;
}

/* The value of 1 to 15 ASCII digits at p (16 bytes there must be readable). */
RLE_INLINE uint64_t rle_digits_value(const uint8_t *p, ptrdiff_t ndig) {
    uint64_t x = rle_load64(p) ^ RLE_ASCII_ZEROS;
    if (ndig <= 2) /* most lengths: no multiply chain */
        return ndig == 1 ? (x & 0xF) : (x & 0xF) * 10 + ((x >> 8) & 0xF);
    if (ndig <= 8)
        return rle_swar8(x << (64 - 8 * ndig));
    return rle_swar8(x) * rle_pow10[ndig - 8]
           + rle_swar8((rle_load64(p + 8) ^ RLE_ASCII_ZEROS) << (128 - 8 * ndig));
}

RLE_NOINLINE uint64_t rle_digits_value_outline(const uint8_t *p, ptrdiff_t ndig) {
    return rle_digits_value(p, ndig);
}

/* Where the usual pairs go, and what makes a pair usual. */
typedef struct {
    int64_t *out;     /* the next free (start, length) slot */
    int64_t *out_end; /* the end of the room: a block is read only while 16 pairs fit */
    int64_t base;     /* subtracted from every start */
    int64_t limit;    /* a usual run ends at or before this; -1 makes no pair usual */
    int64_t prev_end; /* end of the last run stored */
} RleUsual;

#ifdef RLE_SSSE3_READER
/* Shuffles that put a pair's digits (start at byte 0, its n1 digits, a space, the length's
   n2 digits) right-aligned into bytes 0-7 and 8-15, first digit highest; 0x80 makes the
   padding bytes zero.  Row 8 * (n1 - 1) + (n2 - 1). */
#define RLE_SHUF_LO(j, n1) ((j) >= 8 - (n1) ? (j) - 8 + (n1) : 0x80)
#define RLE_SHUF_HI(j, n1, n2) ((j) >= 8 - (n2) ? (n1) + 1 + (j) - 8 + (n2) : 0x80)
#define RLE_ROW(n1, n2)                                                                  \
    {RLE_SHUF_LO(0, n1),     RLE_SHUF_LO(1, n1),     RLE_SHUF_LO(2, n1),                  \
     RLE_SHUF_LO(3, n1),     RLE_SHUF_LO(4, n1),     RLE_SHUF_LO(5, n1),                  \
     RLE_SHUF_LO(6, n1),     RLE_SHUF_LO(7, n1),     RLE_SHUF_HI(0, n1, n2),              \
     RLE_SHUF_HI(1, n1, n2), RLE_SHUF_HI(2, n1, n2), RLE_SHUF_HI(3, n1, n2),              \
     RLE_SHUF_HI(4, n1, n2), RLE_SHUF_HI(5, n1, n2), RLE_SHUF_HI(6, n1, n2),              \
     RLE_SHUF_HI(7, n1, n2)}
#define RLE_ROWS(n1)                                                                        \
    RLE_ROW(n1, 1), RLE_ROW(n1, 2), RLE_ROW(n1, 3), RLE_ROW(n1, 4), RLE_ROW(n1, 5),          \
        RLE_ROW(n1, 6), RLE_ROW(n1, 7), RLE_ROW(n1, 8)
static const uint8_t rle_pair_shuffles[64][16] = {RLE_ROWS(1), RLE_ROWS(2), RLE_ROWS(3),
                                                  RLE_ROWS(4), RLE_ROWS(5), RLE_ROWS(6),
                                                  RLE_ROWS(7), RLE_ROWS(8)};
#undef RLE_ROWS
#undef RLE_ROW
#undef RLE_SHUF_HI
#undef RLE_SHUF_LO

/* The start (n1 digits at p) and length (n2 digits after one space) of a pair that fits in
   the 16 bytes at p (n1, n2 <= 8, n1 + 1 + n2 <= 16). */
RLE_TARGET_SSSE3 static inline void rle_pair_ssse3(const uint8_t *p, ptrdiff_t n1, ptrdiff_t n2,
                                                   uint64_t *start, uint64_t *length) {
    __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)p), _mm_set1_epi8('0'));
    x = _mm_shuffle_epi8(
        x, _mm_loadu_si128((const __m128i *)rle_pair_shuffles[8 * (n1 - 1) + (n2 - 1)]));
    x = _mm_maddubs_epi16(x, _mm_set1_epi16(RLE_MADD_TENS));
    x = _mm_madd_epi16(x, _mm_set1_epi32(RLE_MADD_HUNDREDS));
    x = _mm_madd_epi16(_mm_packs_epi32(x, x), _mm_set1_epi32(RLE_MADD_TEN_THOUSANDS));
    *start = (uint32_t)_mm_cvtsi128_si32(x);
    *length = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x, 4));
}
#endif

/* What the reader stopped at. */
enum {
    RLE_PAIRS_END = 0,   /* the text stops being plain pairs, or fewer than 94 bytes remain */
    RLE_PAIRS_OTHER = 1, /* a plain pair that is not usual */
    RLE_PAIRS_FULL = 2   /* no room for another block's pairs (at most 16) */
};

/* What one block's pairs came to (rle_block_pairs). */
enum {
    RLE_BLOCK_DONE = 0,  /* its whole pairs are stored */
    RLE_BLOCK_OTHER = 1, /* as RLE_PAIRS_OTHER */
    RLE_BLOCK_ODD = 2    /* a token that is empty or too long for a plain number */
};

/* Where a reading loop stands: the next free run slot and the end of the last run (kept
   in locals by the loops: the stores of runs could alias the RleUsual). */
typedef struct {
    int64_t *out;
    int64_t prev_end;
} RleRunCursor;

/* Read the pair whose first byte is p[t] and whose numbers end at the spaces p[c1] and
   p[c2], and store it if usual: RLE_BLOCK_DONE; else RLE_BLOCK_OTHER (its numbers in
   pair[]) or RLE_BLOCK_ODD.  Unchecked (checked == 0, SSSE3 only), both numbers must have
   1 to 7 digits. */
RLE_ALWAYS_INLINE int rle_take_pair(const uint8_t *p, uint32_t t, uint32_t c1, uint32_t c2,
                                    RleRunCursor *rc, int64_t base, int64_t limit,
                                    uint64_t pair[2], int ssse3, int checked) {
    uint32_t n1 = c1 - t, n2 = c2 - c1 - 1;
    uint64_t start, length;
    int64_t first;
#ifdef RLE_SSSE3_READER
    /* (Checked: n1 - 1 < 8, n2 - 1 < 8 and n1 + n2 <= 15, in one branch.) */
    if (ssse3 && (!checked || ((((n1 - 1) | (n2 - 1)) >> 3) | ((n1 + n2) >> 4)) == 0)) {
        rle_pair_ssse3(p + t, n1, n2, &start, &length);
    } else
#endif
    {
        if (n1 - 1 >= RLE_PLAIN_MAX_DIGITS || n2 - 1 >= RLE_PLAIN_MAX_DIGITS)
            return RLE_BLOCK_ODD;
        if (ssse3) {
            /* Rare next to the vector path: kept out of line, so that its constants do
               not take the loop's registers. */
            start = rle_digits_value_outline(p + t, n1);
            length = rle_digits_value_outline(p + c1 + 1, n2);
        } else {
            start = rle_digits_value(p + t, n1);
            length = rle_digits_value(p + c1 + 1, n2);
        }
    }
    first = (int64_t)start - base;
    /* Plain numbers have at most 15 digits: no sum here can overflow, and all terms are
       evaluated (one branch). */
    if (!((first > rc->prev_end) & ((int64_t)length > 0)
          & (first + (int64_t)length <= limit))) {
        pair[0] = start;
        pair[1] = length;
        return RLE_BLOCK_OTHER;
    }
    rc->out[0] = first;
    rc->out[1] = (int64_t)length;
    rc->out += 2;
    rc->prev_end = first + (int64_t)length;
    return RLE_BLOCK_DONE;
}

/* Store the usual pairs of the block at blk (a pair's first byte) whose spaces are
   `spaces` (at least two), and set *used to the bytes they take.  Unchecked (checked == 0,
   SSSE3 only), every pair must have numbers of 1 to 7 digits. */
RLE_ALWAYS_INLINE int rle_block_pairs(const uint8_t *blk, uint64_t spaces, uint32_t *used,
                                      RleUsual *u, uint64_t pair[2], uint32_t *c2_out,
                                      int ssse3, int checked) {
    /* Offsets in the block: the pair's first byte, the spaces after its numbers. */
    uint32_t t = 0, c1, c2;
    const int64_t base = u->base, limit = u->limit;
    RleRunCursor rc;
    int status;
    rc.out = u->out;
    rc.prev_end = u->prev_end;
    do {
        c1 = (uint32_t)rle_ctz64(spaces);
        spaces &= spaces - 1;
        c2 = (uint32_t)rle_ctz64(spaces);
        spaces &= spaces - 1;
        status = rle_take_pair(blk, t, c1, c2, &rc, base, limit, pair, ssse3, checked);
        if (status != RLE_BLOCK_DONE) {
            *c2_out = c2;
            break;
        }
        t = c2 + 1;
    } while (spaces & (spaces - 1));
    *used = t;
    u->out = rc.out;
    u->prev_end = rc.prev_end;
    return status;
}

/* Whether every pair of a block with these spaces has numbers of 1 to 7 digits: no space
   first, no two spaces together, no 8 bytes without a space (the block's last token, which
   is read with the next block, counts too: a cheaper test, and nearly always as short). */
RLE_INLINE int rle_block_is_short(uint64_t spaces) {
    uint64_t runs = ~spaces; /* bit k: p[k] is not a space */
    runs &= runs >> 1;
    runs &= runs >> 2;
    runs &= runs >> 4; /* bit k: neither are the 7 bytes after it */
    return !(runs | (spaces & ((spaces >> 1) | 1)));
}

/* The reader: with *pos at the start of a pair, store usual pairs and move *pos past them.
   At RLE_PAIRS_OTHER the pair's numbers are in pair[0] (start) and pair[1] (length) and the
   next pair's first byte in *next; at RLE_PAIRS_END the general path takes over at *pos. */
RLE_ALWAYS_INLINE int rle_usual_pairs_body(const uint8_t *s, ptrdiff_t n, ptrdiff_t *pos,
                                           RleUsual *u, uint64_t pair[2], ptrdiff_t *next,
                                           int ssse3) {
    ptrdiff_t ts = *pos;
    uint32_t t, c2;
    uint64_t spaces, other;
    int status = RLE_PAIRS_END, block;
    /* A token of the block starts before blk + 64 and is read with two 8-byte loads. */
    while (ts + 64 + 2 * RLE_PLAIN_MAX_DIGITS <= n) {
        if (u->out_end - u->out < 2 * 16) { /* a pair takes at least 4 bytes */
            status = RLE_PAIRS_FULL;
            break;
        }
        spaces = rle_spaces64(s + ts, &other);
        if (other) /* only tokens ending before the first odd byte are plain */
            spaces &= (other & (~other + 1)) - 1;
        if (!(spaces & (spaces - 1)))
            break; /* not one whole pair in 64 bytes: not plain */
        if (ssse3 && rle_block_is_short(spaces))
            block = rle_block_pairs(s + ts, spaces, &t, u, pair, &c2, 1, 0);
        else
            block = rle_block_pairs(s + ts, spaces, &t, u, pair, &c2, ssse3, 1);
        if (block == RLE_BLOCK_OTHER) {
            *next = ts + c2 + 1;
            status = RLE_PAIRS_OTHER;
        }
        ts += t;
        if (block != RLE_BLOCK_DONE)
            break;
    }
    *pos = ts;
    return status;
}

typedef int (*RleUsualPairsFn)(const uint8_t *, ptrdiff_t, ptrdiff_t *, RleUsual *,
                               uint64_t *, ptrdiff_t *);

static int rle_usual_pairs_swar(const uint8_t *s, ptrdiff_t n, ptrdiff_t *pos, RleUsual *u,
                                uint64_t pair[2], ptrdiff_t *next) {
    return rle_usual_pairs_body(s, n, pos, u, pair, next, 0);
}

#ifdef RLE_SSSE3_READER
RLE_TARGET_SSSE3 static int rle_usual_pairs_ssse3(const uint8_t *s, ptrdiff_t n, ptrdiff_t *pos,
                                                  RleUsual *u, uint64_t pair[2],
                                                  ptrdiff_t *next) {
    return rle_usual_pairs_body(s, n, pos, u, pair, next, 1);
}

#ifdef RLE_AVX512_READER
/* 0, 1, ..., 63: a byte's offset in a block. */
static const uint8_t rle_byte_offsets[64] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

/* The 16 bytes at a, b, c and d as the four 128-bit lanes of one register. */
RLE_TARGET_AVX512 static inline __m512i rle_lanes4(const uint8_t *a, const uint8_t *b,
                                                   const uint8_t *c, const uint8_t *d) {
    __m512i x = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)a));
    x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)b), 1);
    x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)c), 2);
    return _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)d), 3);
}

/* Four pairs at once, their numbers of 1 to 7 digits: pair k starts at p[t[k]] and has
   its shuffle row row[k] (see rle_pair_ssse3), one pair per 128-bit lane.  Stored, and 1
   returned, only if all four are usual; else nothing is stored (the caller reads them one
   by one, which tells why). */
RLE_TARGET_AVX512 static inline int rle_four_pairs_avx512(const uint8_t *p,
                                                          const uint32_t t[4],
                                                          const uint32_t row[4],
                                                          RleRunCursor *rc, int64_t base,
                                                          int64_t limit) {
    const __m512i starts = _mm512_set_epi64(0, base, 0, base, 0, base, 0, base);
    const __m512i dwords = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 13, 12, 9, 8, 5, 4, 1, 0);
    __m512i x, shuffles, v, swapped, ends, before;
    __mmask8 ok;
    x = rle_lanes4(p + t[0], p + t[1], p + t[2], p + t[3]);
    shuffles = rle_lanes4(rle_pair_shuffles[row[0]], rle_pair_shuffles[row[1]],
                          rle_pair_shuffles[row[2]], rle_pair_shuffles[row[3]]);
    x = _mm512_shuffle_epi8(_mm512_sub_epi8(x, _mm512_set1_epi8('0')), shuffles);
    x = _mm512_maddubs_epi16(x, _mm512_set1_epi16(RLE_MADD_TENS));
    x = _mm512_madd_epi16(x, _mm512_set1_epi32(RLE_MADD_HUNDREDS));
    x = _mm512_madd_epi16(_mm512_packs_epi32(x, x), _mm512_set1_epi32(RLE_MADD_TEN_THOUSANDS));
    /* Lane k's start and length (its dwords 0 and 1) as (first, length) int64 pairs. */
    v = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(_mm512_permutexvar_epi32(dwords, x)));
    v = _mm512_sub_epi64(v, starts);
    swapped = _mm512_shuffle_epi32(v, (_MM_PERM_ENUM)0x4E); /* (length, first) pairs */
    ends = _mm512_add_epi64(v, swapped);                    /* each pair's end, twice */
    before = _mm512_alignr_epi64(ends, _mm512_set1_epi64(rc->prev_end), 6);
    ok = _mm512_cmpgt_epi64_mask(v, before)
         & _mm512_cmpgt_epi64_mask(swapped, _mm512_setzero_si512())
         & _mm512_cmple_epi64_mask(ends, _mm512_set1_epi64(limit));
    if ((ok & 0x55) != 0x55)
        return 0;
    _mm512_storeu_si512((void *)rc->out, v);
    rc->out += 8;
    rc->prev_end = _mm_cvtsi128_si64(_mm512_extracti32x4_epi32(ends, 3));
    return 1;
}

/* The reader for CPUs with AVX-512 VBMI2: the spaces of a chunk of up to four blocks are
   listed first (one compare and one compress a block), then its pairs read from the list,
   so that the loop over pairs ends once a chunk, not once a block: the count of pairs in
   a block varies, and the end of each block's loop was a mispredicted branch.  Positions
   in a chunk of 256 bytes fit in a byte.  Four pairs whose numbers have 1 to 7 digits are
   converted and checked together, a pair per 128-bit lane (rle_four_pairs_avx512); any
   other pair goes through rle_take_pair.  Digit counts are checked for every pair (a
   token may span two blocks). */
#define RLE_CHUNK_BLOCKS 4
RLE_TARGET_AVX512 static int rle_usual_pairs_avx512(const uint8_t *s, ptrdiff_t n,
                                                    ptrdiff_t *pos, RleUsual *u,
                                                    uint64_t pair[2], ptrdiff_t *next) {
    ptrdiff_t ts = *pos, blocks, b;
    uint8_t at[64 * RLE_CHUNK_BLOCKS + 64]; /* a block's list is stored as 64 bytes */
    const __m512i offsets = _mm512_loadu_si512((const void *)rle_byte_offsets);
    const __m512i space = _mm512_set1_epi8(' '), zero = _mm512_set1_epi8('0');
    const __m512i ten = _mm512_set1_epi8(10);
    uint64_t spaces, other;
    uint32_t count, i, t, c2 = 0, four_t[4], row[4], n1, n2, wide, k;
    int status = RLE_PAIRS_END, taken, odd_byte;
    const int64_t base = u->base, limit = u->limit;
    const uint8_t *chunk;
    RleRunCursor rc;
    for (;;) {
        /* A token of the chunk starts before its end and is read with two 8-byte loads. */
        blocks = (n - ts - 2 * RLE_PLAIN_MAX_DIGITS) / 64;
        if (blocks < 1)
            break;
        if (blocks > RLE_CHUNK_BLOCKS)
            blocks = RLE_CHUNK_BLOCKS;
        if (u->out_end - u->out < 2 * 16 * blocks) { /* a pair takes at least 4 bytes */
            status = RLE_PAIRS_FULL;
            break;
        }
        count = 0;
        odd_byte = 0;
        for (b = 0; b < blocks && !odd_byte; b++) {
            __m512i x = _mm512_loadu_si512((const void *)(s + ts + 64 * b));
            spaces = _mm512_cmpeq_epi8_mask(x, space);
            other = ~(spaces | _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, zero), ten));
            if (other) { /* only tokens ending before the first odd byte are plain */
                spaces &= (other & (~other + 1)) - 1;
                odd_byte = 1;
            }
            _mm512_storeu_si512((void *)(at + count), _mm512_maskz_compress_epi8(
                spaces, _mm512_add_epi8(offsets, _mm512_set1_epi8((char)(64 * b)))));
            count += (uint32_t)_mm_popcnt_u64(spaces);
        }
        if (count < 2)
            break; /* not one whole pair: not plain */
        chunk = s + ts;
        rc.out = u->out;
        rc.prev_end = u->prev_end;
        t = 0;
        taken = RLE_BLOCK_DONE;
        for (i = 0; i + 1 < count;) {
            if (i + 7 < count) {
                /* Four pairs whose numbers all have 1 to 7 digits go to the vector path
                   together: n - 1 of every number OR-ed stays below 7 (a cheap test that
                   also turns away a few such groups, 4 and 5 digits for one: 3 | 4 = 7,
                   which are then read one by one). */
                wide = 0;
                for (k = 0; k < 4; k++) {
                    four_t[k] = k ? at[i + 2 * k - 1] + 1u : t;
                    n1 = at[i + 2 * k] - four_t[k];
                    n2 = at[i + 2 * k + 1] - at[i + 2 * k] - 1;
                    row[k] = 8 * (n1 - 1) + (n2 - 1);
                    wide |= (n1 - 1) | (n2 - 1);
                }
                if (wide < 7 && rle_four_pairs_avx512(chunk, four_t, row, &rc, base, limit)) {
                    t = at[i + 7] + 1u;
                    i += 8;
                    continue;
                }
            }
            c2 = at[i + 1];
            taken = rle_take_pair(chunk, t, at[i], c2, &rc, base, limit, pair, 1, 1);
            if (taken != RLE_BLOCK_DONE)
                break;
            t = c2 + 1;
            i += 2;
        }
        u->out = rc.out;
        u->prev_end = rc.prev_end;
        if (taken == RLE_BLOCK_OTHER) {
            *next = ts + c2 + 1;
            status = RLE_PAIRS_OTHER;
        }
        ts += t;
        if (taken != RLE_BLOCK_DONE || odd_byte)
            break;
    }
    *pos = ts;
    return status;
}

static int rle_cpu_has_avx512vbmi2(void) {
    __builtin_cpu_init();
    /* (Every extension the reader's target attribute lets the compiler use.) */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
           && __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("popcnt")
           && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")
           && __builtin_cpu_supports("ssse3");
}
#endif

static int rle_cpu_has_ssse3(void) {
#if defined(_MSC_VER) && !defined(__clang__)
    int regs[4];
    __cpuid(regs, 1);
    return (regs[2] >> 9) & 1;
#else
    unsigned int a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && ((c >> 9) & 1);
#endif
}
#endif

/* The reader in use: set once, by rle_parse_select at import, and only read afterwards. */
static RleUsualPairsFn rle_usual_pairs = rle_usual_pairs_swar;

/* Choose the reader: the best the CPU has ("avx512", then "ssse3", else "swar"), unless
   RLECODEC_PARSER names a lesser one (tests use that to check each).  Returns the name of
   the one chosen. */
static const char *rle_parse_select(void) {
    const char *want = getenv("RLECODEC_PARSER");
    rle_usual_pairs = rle_usual_pairs_swar;
#ifdef RLE_AVX512_READER
    if ((want == NULL || strcmp(want, "avx512") == 0) && rle_cpu_has_avx512vbmi2()) {
        rle_usual_pairs = rle_usual_pairs_avx512;
        return "avx512";
    }
#endif
#ifdef RLE_SSSE3_READER
    if ((want == NULL || strcmp(want, "swar") != 0) && rle_cpu_has_ssse3()) {
        rle_usual_pairs = rle_usual_pairs_ssse3;
        return "ssse3";
    }
#else
    (void)want;
#endif
    return "swar";
}

#endif /* RLE_PARSE_H */
