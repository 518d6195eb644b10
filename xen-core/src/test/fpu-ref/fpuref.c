// SPDX-License-Identifier: Apache-2.0
/*
 * Reference vector generator for dev.domus.xen.cpu.fpu.Fpu.
 *
 * Runs every RISC-V F/D instruction the Fpu implements with explicit static rounding modes (inline asm) on
 * edge-biased pseudo-random operands and prints one line per execution:
 *
 *     <mnemonic> <rm> <operand>... <result> <fflags>
 *
 * all numbers in lower-case hex without leading zeros. Floating operands/results are raw IEEE bits (32 or 64),
 * integer operands/results are full 64-bit register values, fclass/compare results are the integer written to rd.
 * Operations without a rounding mode are printed with rm 0. Output is deterministic for a given seed (argv[1]).
 * With "-" as the only argument it instead completes "<mnemonic> <rm> <operands...>" lines read from stdin, which
 * is how hand-written edge cases (FpuTest) were checked against the same reference.
 *
 * Meant to be cross-compiled (riscv64-linux-gnu-gcc -static -O1) and run under qemu-riscv64, whose softfloat is
 * an independent, exact implementation; see ./generate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------- random operands */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void) {
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rndn(uint64_t n) { return rnd() % n; }

static int rnds(int lo, int hi) { return lo + (int)rndn((uint64_t)(hi - lo + 1)); }

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint64_t d2u(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static double u2d(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

static const uint32_t SPEC_S[] = {
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00001, 0x7fffffff,
    0x7f800001, 0xff800001, 0x7fbfffff, 0x7fa00000, 0x3f800000, 0xbf800000, 0x00000001, 0x80000001,
    0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff, 0x3f000000, 0x40000000,
    0x4f000000, 0xcf000000, 0x4f800000, 0x5f000000, 0xdf000000, 0x5f800000, 0x3effffff, 0x3fc00000,
    0x00400000, 0x7f000000, 0x00800001, 0x34000000, 0x3f7fffff, 0x3f800001, 0x00000002, 0x00ffffff,
};
static const uint64_t SPEC_D[] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x7ff0000000000000ULL, 0xfff0000000000000ULL,
    0x7ff8000000000000ULL, 0xfff8000000000000ULL, 0x7ff8000000000001ULL, 0x7fffffffffffffffULL,
    0x7ff0000000000001ULL, 0xfff0000000000001ULL, 0x7ff7ffffffffffffULL, 0x7ff4000000000000ULL,
    0x3ff0000000000000ULL, 0xbff0000000000000ULL, 0x0000000000000001ULL, 0x8000000000000001ULL,
    0x000fffffffffffffULL, 0x800fffffffffffffULL, 0x0010000000000000ULL, 0x8010000000000000ULL,
    0x7fefffffffffffffULL, 0xffefffffffffffffULL, 0x3fe0000000000000ULL, 0x4000000000000000ULL,
    0x41e0000000000000ULL, 0xc1e0000000000000ULL, 0x41f0000000000000ULL, 0x43e0000000000000ULL,
    0xc3e0000000000000ULL, 0x43f0000000000000ULL, 0x3fdfffffffffffffULL, 0x3ff8000000000000ULL,
    0x0008000000000000ULL, 0x7fe0000000000000ULL, 0x0010000000000001ULL, 0x3cb0000000000000ULL,
    0x3fefffffffffffffULL, 0x3ff0000000000001ULL, 0x0000000000000002ULL, 0x001fffffffffffffULL,
    0x41dfffffffc00000ULL, 0x41efffffffe00000ULL, 0xc1e0000000200000ULL, 0x380fffffe0000000ULL,
    0x3810000000000000ULL, 0x47efffffe0000000ULL, 0x36a0000000000000ULL, 0x369fffffffffffffULL,
};
#define NSPEC_S (sizeof SPEC_S / sizeof SPEC_S[0])
#define NSPEC_D (sizeof SPEC_D / sizeof SPEC_D[0])

/* Mantissa patterns that stress rounding: zero, all ones, single bits, long runs, trailing zeros. */
static uint64_t mant(int bits) {
    uint64_t all = (1ULL << bits) - 1;
    switch (rndn(9)) {
    case 0: return 0;
    case 1: return all;
    case 2: return 1ULL << rndn(bits);
    case 3: return all ^ (1ULL << rndn(bits));
    case 4: return rnd() & all & ~((1ULL << rndn(bits)) - 1); /* trailing zeros: exact-ish products */
    case 5: return (rnd() & all) >> rndn(bits);              /* leading zeros */
    case 6: return all & ~((1ULL << rndn(bits)) - 1);         /* run of ones */
    default: return rnd() & all;
    }
}

static uint32_t expS(void) {
    switch (rndn(7)) {
    case 0: return (uint32_t)rndn(256);
    case 1: return (uint32_t)rndn(4);
    case 2: return (uint32_t)rnds(250, 254);
    case 3: return (uint32_t)rnds(118, 136);
    default: return (uint32_t)rnds(1, 254);
    }
}

static uint64_t expD(void) {
    switch (rndn(7)) {
    case 0: return rndn(2048);
    case 1: return rndn(4);
    case 2: return (uint64_t)rnds(2042, 2046);
    case 3: return (uint64_t)rnds(1010, 1040);
    default: return (uint64_t)rnds(1, 2046);
    }
}

static uint32_t genS(void) {
    uint64_t k = rndn(100);
    if (k < 8) return (uint32_t)rnd();
    if (k < 20) return SPEC_S[rndn(NSPEC_S)];
    return (uint32_t)(rnd() & 1) << 31 | expS() << 23 | (uint32_t)mant(23);
}

static uint64_t genD(void) {
    uint64_t k = rndn(100);
    if (k < 8) return rnd();
    if (k < 20) return SPEC_D[rndn(NSPEC_D)];
    return (rnd() & 1) << 63 | expD() << 52 | mant(52);
}

static uint32_t withExpS(int e, uint32_t like) {
    if (e < 0) e = (int)rndn(3);
    if (e > 254) e = 254 - (int)rndn(3);
    return (uint32_t)(rnd() & 1) << 31 | (uint32_t)e << 23 | (like & 0x7fffff);
}

static uint64_t withExpD(int e, uint64_t like) {
    if (e < 0) e = (int)rndn(3);
    if (e > 2046) e = 2046 - (int)rndn(3);
    return (rnd() & 1) << 63 | (uint64_t)e << 52 | (like & 0xfffffffffffffULL);
}

/* op classes used to bias the second/third operand */
enum { G_ADD, G_MUL, G_DIV, G_SQRT, G_OTHER };

static uint32_t secondS(uint32_t a, int g) {
    int ea = (int)(a >> 23 & 0xff);
    switch (rndn(10)) {
    case 0: return a ^ 0x80000000u;
    case 1: return (a ^ (uint32_t)(rnd() & 1) << 31) + (uint32_t)rnds(-4, 4);
    case 2: return withExpS(ea, (uint32_t)mant(23));
    case 3: return withExpS(ea + rnds(-30, 30), (uint32_t)mant(23));
    case 4: case 5:
        if (g == G_MUL) return withExpS(rnds(250, 256) + 127 - ea + rnds(-2, 2), (uint32_t)mant(23));
        if (g == G_DIV) return withExpS(ea + 127 - rnds(250, 256), (uint32_t)mant(23));
        return withExpS(ea + rnds(-26, 26), (uint32_t)mant(23));
    case 6: case 7:
        if (g == G_MUL) return withExpS(rnds(-25, 2) + 127 - ea, (uint32_t)mant(23));
        if (g == G_DIV) return withExpS(ea + 127 - rnds(-25, 2), (uint32_t)mant(23));
        return withExpS(ea + rnds(-2, 2), (uint32_t)mant(23));
    default: return genS();
    }
}

static uint64_t secondD(uint64_t a, int g) {
    int ea = (int)(a >> 52 & 0x7ff);
    switch (rndn(10)) {
    case 0: return a ^ 0x8000000000000000ULL;
    case 1: return (a ^ (rnd() & 1) << 63) + (uint64_t)(int64_t)rnds(-4, 4);
    case 2: return withExpD(ea, mant(52));
    case 3: return withExpD(ea + rnds(-60, 60), mant(52));
    case 4: case 5:
        if (g == G_MUL) return withExpD(rnds(2042, 2048) + 1023 - ea + rnds(-2, 2), mant(52));
        if (g == G_DIV) return withExpD(ea + 1023 - rnds(2042, 2048), mant(52));
        return withExpD(ea + rnds(-55, 55), mant(52));
    case 6: case 7:
        if (g == G_MUL) return withExpD(rnds(-54, 2) + 1023 - ea, mant(52));
        if (g == G_DIV) return withExpD(ea + 1023 - rnds(-54, 2), mant(52));
        return withExpD(ea + rnds(-2, 2), mant(52));
    default: return genD();
    }
}

/* Addend for fused ops: often close to -(a*b) for massive cancellation, or far below it for sticky bits. */
static uint32_t thirdS(uint32_t a, uint32_t b) {
    double p = (double)u2f(a) * (double)u2f(b);
    uint32_t pr = f2u((float)p);
    int ep = (int)(pr >> 23 & 0xff);
    switch (rndn(8)) {
    case 0: case 1: return (pr ^ (uint32_t)(rnd() & 1) << 31) + (uint32_t)rnds(-3, 3);
    case 2: return withExpS(ep + rnds(-30, 30), (uint32_t)mant(23));
    case 3: return withExpS(ep - rnds(20, 60), (uint32_t)mant(23));
    case 4: return withExpS(ep + rnds(20, 60), (uint32_t)mant(23));
    default: return genS();
    }
}

static uint64_t thirdD(uint64_t a, uint64_t b) {
    double p = u2d(a) * u2d(b);
    uint64_t pr = d2u(p);
    int ep = (int)(pr >> 52 & 0x7ff);
    switch (rndn(8)) {
    case 0: case 1: return (pr ^ (rnd() & 1) << 63) + (uint64_t)(int64_t)rnds(-3, 3);
    case 2: return withExpD(ep + rnds(-60, 60), mant(52));
    case 3: return withExpD(ep - rnds(50, 120), mant(52));
    case 4: return withExpD(ep + rnds(50, 120), mant(52));
    default: return genD();
    }
}

/* Floating operands for float->int conversions: near integers, halves, and the W/WU/L/LU limits. */
static double cvtKey(void) {
    static const double keys[] = {
        0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 3.5, 2147483647.0, 2147483647.5, 2147483648.0, 2147483648.5,
        2147483649.0, 4294967295.0, 4294967295.5, 4294967296.0, 9007199254740992.0, 9223372036854775808.0,
        18446744073709551616.0, 1e-30, 123456789.5,
    };
    double v = rndn(2) ? keys[rndn(sizeof keys / sizeof keys[0])] : (double)rnds(-4000, 4000) / 4.0;
    return (rnd() & 1) ? -v : v;
}

static uint32_t cvtOperandS(void) {
    switch (rndn(4)) {
    case 0: return genS();
    case 1: return f2u((float)cvtKey()) + (uint32_t)rnds(-3, 3);
    case 2: return (uint32_t)(rnd() & 1) << 31 | (uint32_t)rnds(120, 192) << 23 | (uint32_t)mant(23);
    default: return f2u((float)cvtKey());
    }
}

static uint64_t cvtOperandD(void) {
    switch (rndn(4)) {
    case 0: return genD();
    case 1: return d2u(cvtKey()) + (uint64_t)(int64_t)rnds(-3, 3);
    case 2: return (rnd() & 1) << 63 | (uint64_t)rnds(1016, 1088) << 52 | mant(52);
    default: return d2u(cvtKey());
    }
}

/* Integer register values for int->float conversions, biased to rounding boundaries of 24 and 53 bits. */
static uint64_t roundingPattern(int p, int nmax) {
    int n = rnds(p + 1, nmax);
    int r = n - p;
    uint64_t top = 1ULL << (p - 1) | (rnd() & ((1ULL << (p - 1)) - 1));
    uint64_t half = 1ULL << (r - 1);
    uint64_t lows[] = {0, half, half - 1, half + 1, (1ULL << r) - 1, rnd() & ((1ULL << r) - 1)};
    return top << r | lows[rndn(6)];
}

static uint64_t genInt(void) {
    static const uint64_t spec[] = {
        0, 1, ~0ULL, 0x7fffffff, 0x80000000, 0xffffffff, 0xffffffff80000000ULL, 0x100000000ULL,
        0x7fffffffffffffffULL, 0x8000000000000000ULL, 0x1000001, 0x1000003, 0x20000000000001ULL,
        0x20000000000003ULL, 0x7fffff80, 0xffffff80, 0xfffffc0000000000ULL, 0x7ffffe0000000000ULL,
    };
    uint64_t v;
    switch (rndn(8)) {
    case 0: return rnd();
    case 1: return spec[rndn(sizeof spec / sizeof spec[0])];
    case 2: v = (1ULL << rndn(64)) + (uint64_t)(int64_t)rnds(-3, 3); break;
    case 3: v = roundingPattern(rndn(2) ? 24 : 53, 64); break;
    case 4: v = roundingPattern(24, 32); break;
    case 5: return (rnd() & 0xffffffff00000000ULL) | (uint32_t)roundingPattern(24, 32); /* W: high half ignored */
    default: v = rnd() >> rndn(64); break;
    }
    return (rnd() & 1) ? -v : v;
}

/* Doubles for fcvt.s.d: around float's overflow and underflow, and halfway patterns at float precision. */
static uint64_t genDforS(void) {
    uint64_t s = (rnd() & 1) << 63;
    switch (rndn(4)) {
    case 0: return genD();
    case 1: return s | (uint64_t)rnds(1023 - 155, 1023 - 122) << 52 | mant(52);
    case 2: return s | (uint64_t)rnds(1023 + 125, 1023 + 129) << 52 | mant(52);
    default: {
        uint64_t lows[] = {0, 1ULL << 28, (1ULL << 28) - 1, (1ULL << 28) + 1, (1ULL << 29) - 1};
        return s | expD() << 52 | mant(23) << 29 | lows[rndn(5)];
    }
    }
}

/*
 * Operands whose exact result lands within a few ulps of a boundary: the smallest normal (tininess after rounding),
 * the largest finite value (overflow by rounding) and the smallest subnormals (rounding to zero). Computed in
 * binary128 (long double on riscv64), which is plenty to aim within an ulp of binary64. o[2] is the addend for
 * fused ops (or just a spare operand for the others).
 */
static long double target(int dbl) {
    long double t;
    switch (rndn(4)) {
    case 0: case 1: t = dbl ? 0x1p-1022L : 0x1p-126L; break;
    case 2: t = dbl ? 0x1.fffffffffffffp1023L : 0x1.fffffep127L; break;
    default: t = (dbl ? 0x1p-1074L : 0x1p-149L) * (long double)(1 + rndn(3)) / 2; break;
    }
    /* Off by a random real amount of up to 8 ulps, so results do not sit exactly on the grid. */
    return t * (1 + (long double)rnds(-(1 << 19), 1 << 19) * (dbl ? 0x1p-69L : 0x1p-40L));
}

static uint64_t nudge(uint64_t bits) { return bits + (uint64_t)(int64_t)rnds(-2, 2); }

static void boundaryS(int g, int nin, int negC, uint64_t *o) {
    long double t = target(0);
    uint32_t b = (uint32_t)(rnd() & 1) << 31 | (uint32_t)rnds(110, 144) << 23 | (uint32_t)mant(23);
    long double bv = u2f(b);
    uint32_t sa = (uint32_t)(rnd() & 1) << 31;
    if (nin == 3 && rndn(2)) { /* fused: a*b ~ t/2, c ~ t - a*b (negated for the msub forms) */
        uint32_t a = nudge(f2u((float)(t / 2 / bv)));
        long double p = (long double)u2f(a) * bv;
        o[0] = a;
        o[1] = b;
        o[2] = nudge(f2u((float)(t - p))) ^ (uint32_t)negC << 31;
        return;
    }
    o[1] = b;
    o[0] = sa ^ nudge(f2u((float)(g == G_DIV ? t * bv : t / bv)));
    o[2] = f2u((float)t);
}

static void boundaryD(int g, int nin, int negC, uint64_t *o) {
    long double t = target(1);
    uint64_t b = (rnd() & 1) << 63 | (uint64_t)rnds(1000, 1046) << 52 | mant(52);
    long double bv = u2d(b);
    uint64_t sa = (rnd() & 1) << 63;
    if (nin == 3 && rndn(2)) {
        uint64_t a = nudge(d2u((double)(t / 2 / bv)));
        long double p = (long double)u2d(a) * bv;
        o[0] = a;
        o[1] = b;
        o[2] = nudge(d2u((double)(t - p))) ^ (uint64_t)negC << 63;
        return;
    }
    o[1] = b;
    o[0] = sa ^ nudge(d2u((double)(g == G_DIV ? t * bv : t / bv)));
    o[2] = d2u((double)t);
}

/* sqrt: mostly positive operands, some perfect squares (exact results). */
static uint32_t sqrtS(void) {
    if (rndn(5) == 0) {
        float m = (float)(rnd() & 0xfff) * (rndn(2) ? 1.0f : 0x1p-20f);
        return f2u(m * m);
    }
    uint32_t a = genS();
    return rndn(6) ? a & 0x7fffffff : a;
}

static uint64_t sqrtD(void) {
    if (rndn(5) == 0) {
        double m = (double)(rnd() & 0x3ffffff) * (rndn(2) ? 1.0 : 0x1p-600);
        return d2u(m * m);
    }
    uint64_t a = genD();
    return rndn(6) ? a & 0x7fffffffffffffffULL : a;
}

/* ------------------------------------------------------------------------------------------- instructions */

typedef struct { uint64_t r, fl; } res_t;

#define CLR() asm volatile("fsflags zero")
#define GETF(f) asm volatile("frflags %0" : "=r"(f))
/* One asm statement per static rounding mode; T is the template up to the rm operand. */
#define SW5(T, ...)                                                  \
    switch (rm) {                                                    \
    case 0: asm volatile(T "rne" __VA_ARGS__); break;                \
    case 1: asm volatile(T "rtz" __VA_ARGS__); break;                \
    case 2: asm volatile(T "rdn" __VA_ARGS__); break;                \
    case 3: asm volatile(T "rup" __VA_ARGS__); break;                \
    default: asm volatile(T "rmm" __VA_ARGS__); break;               \
    }

#define LD_S(i) u2f((uint32_t)o[i])
#define LD_D(i) u2d(o[i])

#define FN2(name, insn, FT, LD, ST)                                                   \
    static res_t name(const uint64_t *o, int rm) {                                    \
        FT a = LD(0), b = LD(1), r; uint64_t f; CLR();                               \
        SW5(insn " %0, %1, %2, ", : "=f"(r) : "f"(a), "f"(b)); GETF(f);             \
        return (res_t){ST(r), f};                                                     \
    }
#define FN1(name, insn, FT, LD, ST)                                                   \
    static res_t name(const uint64_t *o, int rm) {                                    \
        FT a = LD(0), r; uint64_t f; CLR();                                           \
        SW5(insn " %0, %1, ", : "=f"(r) : "f"(a)); GETF(f);                          \
        return (res_t){ST(r), f};                                                     \
    }
#define FN3(name, insn, FT, LD, ST)                                                   \
    static res_t name(const uint64_t *o, int rm) {                                    \
        FT a = LD(0), b = LD(1), c = LD(2), r; uint64_t f; CLR();                     \
        SW5(insn " %0, %1, %2, %3, ", : "=f"(r) : "f"(a), "f"(b), "f"(c)); GETF(f); \
        return (res_t){ST(r), f};                                                     \
    }
#define FN2N(name, insn, FT, LD, ST) /* no rounding mode, float result */             \
    static res_t name(const uint64_t *o, int rm) {                                    \
        FT a = LD(0), b = LD(1), r; uint64_t f; (void)rm; CLR();                      \
        asm volatile(insn " %0, %1, %2" : "=f"(r) : "f"(a), "f"(b)); GETF(f);       \
        return (res_t){ST(r), f};                                                     \
    }
#define FN2X(name, insn, FT, LD) /* no rounding mode, integer result */               \
    static res_t name(const uint64_t *o, int rm) {                                    \
        FT a = LD(0), b = LD(1); uint64_t x, f; (void)rm; CLR();                      \
        asm volatile(insn " %0, %1, %2" : "=r"(x) : "f"(a), "f"(b)); GETF(f);       \
        return (res_t){x, f};                                                         \
    }
#define FN1X(name, insn, FT, LD)                                                      \
    static res_t name(const uint64_t *o, int rm) {                                    \
        FT a = LD(0); uint64_t x, f; (void)rm; CLR();                                 \
        asm volatile(insn " %0, %1" : "=r"(x) : "f"(a)); GETF(f);                    \
        return (res_t){x, f};                                                         \
    }
#define FNFX(name, insn, FT, LD) /* float -> integer register, with rm */             \
    static res_t name(const uint64_t *o, int rm) {                                    \
        FT a = LD(0); uint64_t x, f; CLR();                                           \
        SW5(insn " %0, %1, ", : "=r"(x) : "f"(a)); GETF(f);                          \
        return (res_t){x, f};                                                         \
    }
#define FNXF(name, insn, FT, ST) /* integer register -> float, with rm */             \
    static res_t name(const uint64_t *o, int rm) {                                    \
        uint64_t x = o[0], f; FT r; CLR();                                            \
        SW5(insn " %0, %1, ", : "=f"(r) : "r"(x)); GETF(f);                          \
        return (res_t){ST(r), f};                                                     \
    }
#define FNXFN(name, insn, FT, ST) /* integer register -> float, exact, no rm */       \
    static res_t name(const uint64_t *o, int rm) {                                    \
        uint64_t x = o[0], f; FT r; (void)rm; CLR();                                  \
        asm volatile(insn " %0, %1" : "=f"(r) : "r"(x)); GETF(f);                    \
        return (res_t){ST(r), f};                                                     \
    }

#define ST_S(r) ((uint64_t)f2u(r))
#define ST_D(r) d2u(r)

FN2(fadd_s, "fadd.s", float, LD_S, ST_S)
FN2(fsub_s, "fsub.s", float, LD_S, ST_S)
FN2(fmul_s, "fmul.s", float, LD_S, ST_S)
FN2(fdiv_s, "fdiv.s", float, LD_S, ST_S)
FN1(fsqrt_s, "fsqrt.s", float, LD_S, ST_S)
FN3(fmadd_s, "fmadd.s", float, LD_S, ST_S)
FN3(fmsub_s, "fmsub.s", float, LD_S, ST_S)
FN3(fnmsub_s, "fnmsub.s", float, LD_S, ST_S)
FN3(fnmadd_s, "fnmadd.s", float, LD_S, ST_S)
FN2N(fmin_s, "fmin.s", float, LD_S, ST_S)
FN2N(fmax_s, "fmax.s", float, LD_S, ST_S)
FN2X(feq_s, "feq.s", float, LD_S)
FN2X(flt_s, "flt.s", float, LD_S)
FN2X(fle_s, "fle.s", float, LD_S)
FN1X(fclass_s, "fclass.s", float, LD_S)
FNFX(fcvt_w_s, "fcvt.w.s", float, LD_S)
FNFX(fcvt_wu_s, "fcvt.wu.s", float, LD_S)
FNFX(fcvt_l_s, "fcvt.l.s", float, LD_S)
FNFX(fcvt_lu_s, "fcvt.lu.s", float, LD_S)
FNXF(fcvt_s_w, "fcvt.s.w", float, ST_S)
FNXF(fcvt_s_wu, "fcvt.s.wu", float, ST_S)
FNXF(fcvt_s_l, "fcvt.s.l", float, ST_S)
FNXF(fcvt_s_lu, "fcvt.s.lu", float, ST_S)

FN2(fadd_d, "fadd.d", double, LD_D, ST_D)
FN2(fsub_d, "fsub.d", double, LD_D, ST_D)
FN2(fmul_d, "fmul.d", double, LD_D, ST_D)
FN2(fdiv_d, "fdiv.d", double, LD_D, ST_D)
FN1(fsqrt_d, "fsqrt.d", double, LD_D, ST_D)
FN3(fmadd_d, "fmadd.d", double, LD_D, ST_D)
FN3(fmsub_d, "fmsub.d", double, LD_D, ST_D)
FN3(fnmsub_d, "fnmsub.d", double, LD_D, ST_D)
FN3(fnmadd_d, "fnmadd.d", double, LD_D, ST_D)
FN2N(fmin_d, "fmin.d", double, LD_D, ST_D)
FN2N(fmax_d, "fmax.d", double, LD_D, ST_D)
FN2X(feq_d, "feq.d", double, LD_D)
FN2X(flt_d, "flt.d", double, LD_D)
FN2X(fle_d, "fle.d", double, LD_D)
FN1X(fclass_d, "fclass.d", double, LD_D)
FNFX(fcvt_w_d, "fcvt.w.d", double, LD_D)
FNFX(fcvt_wu_d, "fcvt.wu.d", double, LD_D)
FNFX(fcvt_l_d, "fcvt.l.d", double, LD_D)
FNFX(fcvt_lu_d, "fcvt.lu.d", double, LD_D)
FNXFN(fcvt_d_w, "fcvt.d.w", double, ST_D)
FNXFN(fcvt_d_wu, "fcvt.d.wu", double, ST_D)
FNXF(fcvt_d_l, "fcvt.d.l", double, ST_D)
FNXF(fcvt_d_lu, "fcvt.d.lu", double, ST_D)

static res_t fcvt_s_d(const uint64_t *o, int rm) {
    double a = LD_D(0);
    float r;
    uint64_t f;
    CLR();
    SW5("fcvt.s.d %0, %1, ", : "=f"(r) : "f"(a));
    GETF(f);
    return (res_t){ST_S(r), f};
}

static res_t fcvt_d_s(const uint64_t *o, int rm) {
    float a = LD_S(0);
    double r;
    uint64_t f;
    (void)rm;
    CLR();
    asm volatile("fcvt.d.s %0, %1" : "=f"(r) : "f"(a));
    GETF(f);
    return (res_t){ST_D(r), f};
}

/* ------------------------------------------------------------------------------------------- driver */

enum { A_S, A_D, A_S_CVT, A_D_CVT, A_INT, A_D_FOR_S }; /* operand generators */

typedef struct {
    const char *name;
    res_t (*fn)(const uint64_t *, int);
    int nin;    /* number of operands */
    int gen;    /* operand generator */
    int g;      /* G_ADD, G_MUL, G_DIV, G_OTHER: bias of the second operand */
    int rms;    /* 5: all static modes, 1: no rounding mode */
    int tuples; /* operand tuples; each runs under every mode */
} op_t;

#define ARITH 2000
#define CVT 700
#define NORM 1500

static const op_t OPS[] = {
    {"fadd.s", fadd_s, 2, A_S, G_ADD, 5, ARITH},
    {"fsub.s", fsub_s, 2, A_S, G_ADD, 5, ARITH},
    {"fmul.s", fmul_s, 2, A_S, G_MUL, 5, ARITH},
    {"fdiv.s", fdiv_s, 2, A_S, G_DIV, 5, ARITH},
    {"fsqrt.s", fsqrt_s, 1, A_S, G_SQRT, 5, ARITH},
    {"fmadd.s", fmadd_s, 3, A_S, G_MUL, 5, ARITH},
    {"fmsub.s", fmsub_s, 3, A_S, G_MUL, 5, ARITH},
    {"fnmsub.s", fnmsub_s, 3, A_S, G_MUL, 5, ARITH},
    {"fnmadd.s", fnmadd_s, 3, A_S, G_MUL, 5, ARITH},
    {"fmin.s", fmin_s, 2, A_S, G_ADD, 1, NORM},
    {"fmax.s", fmax_s, 2, A_S, G_ADD, 1, NORM},
    {"feq.s", feq_s, 2, A_S, G_ADD, 1, NORM},
    {"flt.s", flt_s, 2, A_S, G_ADD, 1, NORM},
    {"fle.s", fle_s, 2, A_S, G_ADD, 1, NORM},
    {"fclass.s", fclass_s, 1, A_S, G_OTHER, 1, NORM},
    {"fcvt.w.s", fcvt_w_s, 1, A_S_CVT, G_OTHER, 5, CVT},
    {"fcvt.wu.s", fcvt_wu_s, 1, A_S_CVT, G_OTHER, 5, CVT},
    {"fcvt.l.s", fcvt_l_s, 1, A_S_CVT, G_OTHER, 5, CVT},
    {"fcvt.lu.s", fcvt_lu_s, 1, A_S_CVT, G_OTHER, 5, CVT},
    {"fcvt.s.w", fcvt_s_w, 1, A_INT, G_OTHER, 5, CVT},
    {"fcvt.s.wu", fcvt_s_wu, 1, A_INT, G_OTHER, 5, CVT},
    {"fcvt.s.l", fcvt_s_l, 1, A_INT, G_OTHER, 5, CVT},
    {"fcvt.s.lu", fcvt_s_lu, 1, A_INT, G_OTHER, 5, CVT},
    {"fcvt.s.d", fcvt_s_d, 1, A_D_FOR_S, G_OTHER, 5, CVT},
    {"fcvt.d.s", fcvt_d_s, 1, A_S, G_OTHER, 1, NORM},

    {"fadd.d", fadd_d, 2, A_D, G_ADD, 5, ARITH},
    {"fsub.d", fsub_d, 2, A_D, G_ADD, 5, ARITH},
    {"fmul.d", fmul_d, 2, A_D, G_MUL, 5, ARITH},
    {"fdiv.d", fdiv_d, 2, A_D, G_DIV, 5, ARITH},
    {"fsqrt.d", fsqrt_d, 1, A_D, G_SQRT, 5, ARITH},
    {"fmadd.d", fmadd_d, 3, A_D, G_MUL, 5, ARITH},
    {"fmsub.d", fmsub_d, 3, A_D, G_MUL, 5, ARITH},
    {"fnmsub.d", fnmsub_d, 3, A_D, G_MUL, 5, ARITH},
    {"fnmadd.d", fnmadd_d, 3, A_D, G_MUL, 5, ARITH},
    {"fmin.d", fmin_d, 2, A_D, G_ADD, 1, NORM},
    {"fmax.d", fmax_d, 2, A_D, G_ADD, 1, NORM},
    {"feq.d", feq_d, 2, A_D, G_ADD, 1, NORM},
    {"flt.d", flt_d, 2, A_D, G_ADD, 1, NORM},
    {"fle.d", fle_d, 2, A_D, G_ADD, 1, NORM},
    {"fclass.d", fclass_d, 1, A_D, G_OTHER, 1, NORM},
    {"fcvt.w.d", fcvt_w_d, 1, A_D_CVT, G_OTHER, 5, CVT},
    {"fcvt.wu.d", fcvt_wu_d, 1, A_D_CVT, G_OTHER, 5, CVT},
    {"fcvt.l.d", fcvt_l_d, 1, A_D_CVT, G_OTHER, 5, CVT},
    {"fcvt.lu.d", fcvt_lu_d, 1, A_D_CVT, G_OTHER, 5, CVT},
    {"fcvt.d.w", fcvt_d_w, 1, A_INT, G_OTHER, 1, CVT},
    {"fcvt.d.wu", fcvt_d_wu, 1, A_INT, G_OTHER, 1, CVT},
    {"fcvt.d.l", fcvt_d_l, 1, A_INT, G_OTHER, 5, CVT},
    {"fcvt.d.lu", fcvt_d_lu, 1, A_INT, G_OTHER, 5, CVT},
};

static void operands(const op_t *op, uint64_t *o) {
    switch (op->gen) {
    case A_S:
        if (op->g == G_SQRT) {
            o[0] = sqrtS();
            break;
        }
        if ((op->g == G_MUL || op->g == G_DIV) && rndn(6) == 0) {
            boundaryS(op->g, op->nin, strstr(op->name, "msub") != NULL, o);
            break;
        }
        o[0] = genS();
        if (op->nin > 1) o[1] = rndn(4) ? secondS((uint32_t)o[0], op->g) : genS();
        if (op->nin > 2) o[2] = rndn(4) ? thirdS((uint32_t)o[0], (uint32_t)o[1]) : genS();
        break;
    case A_D:
        if (op->g == G_SQRT) {
            o[0] = sqrtD();
            break;
        }
        if ((op->g == G_MUL || op->g == G_DIV) && rndn(6) == 0) {
            boundaryD(op->g, op->nin, strstr(op->name, "msub") != NULL, o);
            break;
        }
        o[0] = genD();
        if (op->nin > 1) o[1] = rndn(4) ? secondD(o[0], op->g) : genD();
        if (op->nin > 2) o[2] = rndn(4) ? thirdD(o[0], o[1]) : genD();
        break;
    case A_S_CVT: o[0] = cvtOperandS(); break;
    case A_D_CVT: o[0] = cvtOperandD(); break;
    case A_INT: o[0] = genInt(); break;
    default: o[0] = genDforS(); break;
    }
}

static void emit(const op_t *op, const uint64_t *o, int rm) {
    res_t r = op->fn(o, rm);
    printf("%s %d", op->name, rm);
    for (int k = 0; k < op->nin; k++) printf(" %llx", (unsigned long long)o[k]);
    printf(" %llx %llx\n", (unsigned long long)r.r, (unsigned long long)r.fl);
}

/* "fpuref -": read "<mnemonic> <rm> <operands...>" lines (hex operands) from stdin and complete them. */
static int fromStdin(void) {
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char name[32];
        int rm, used;
        if (line[0] == '#' || sscanf(line, "%31s %d%n", name, &rm, &used) != 2) continue;
        const op_t *op = NULL;
        for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
            if (strcmp(OPS[i].name, name) == 0) op = &OPS[i];
        if (op == NULL) {
            fprintf(stderr, "unknown mnemonic %s\n", name);
            return 1;
        }
        uint64_t o[3] = {0, 0, 0};
        char *p = line + used;
        for (int k = 0; k < op->nin; k++) o[k] = strtoull(p, &p, 16);
        emit(op, o, rm);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "-") == 0) return fromStdin();
    if (argc > 1) rng_state = strtoull(argv[1], NULL, 0) | 1;
    double scale = argc > 2 ? strtod(argv[2], NULL) : 1.0;
    printf("# Generated by xen-core/src/test/fpu-ref/generate (fpuref.c under qemu-riscv64); do not edit.\n");
    printf("# <mnemonic> <rm> <operands...> <result> <fflags>, hex; seed %#llx, scale %g\n",
           (unsigned long long)rng_state, scale);
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        const op_t *op = &OPS[i];
        int n = (int)(op->tuples * scale);
        for (int t = 0; t < n; t++) {
            uint64_t o[3];
            operands(op, o);
            for (int rm = 0; rm < op->rms; rm++) emit(op, o, rm);
        }
    }
    return 0;
}
