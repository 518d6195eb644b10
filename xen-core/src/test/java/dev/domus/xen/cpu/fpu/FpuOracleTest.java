// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * Random operands in the normal range (no overflow or underflow possible) checked against exact {@link BigDecimal}
 * arithmetic and a rounding oracle written independently of {@link SoftFloat}. This mostly exercises the fast
 * paths, which the reference vectors (edge-biased) reach less often; it needs no external tool.
 */
class FpuOracleTest {

    private static final int TUPLES = 1500;
    private static final RoundingMode[] JAVA_RM = {
        RoundingMode.HALF_EVEN, RoundingMode.DOWN, RoundingMode.FLOOR, RoundingMode.CEILING, RoundingMode.HALF_UP,
    };

    private final SplittableRandom random = new SplittableRandom(0x5eed_f00dL);
    private final Fpu fpu = new Fpu();
    private final List<String> mismatches = new ArrayList<>();
    private int checked;

    @Test
    void binary64ArithmeticIsCorrectlyRounded() {
        for (int t = 0; t < TUPLES; t++) {
            long a = randomD(300);
            long b = random.nextInt(4) == 0 ? near(a) : randomD(300);
            long c = random.nextInt(3) == 0 ? nearProductD(a, b) : randomD(300);
            double x = d(a);
            double y = d(b);
            double z = d(c);
            BigDecimal ea = bd(x);
            BigDecimal eb = bd(y);
            BigDecimal ec = bd(z);
            BigDecimal prod = ea.multiply(eb);
            for (int rm = 0; rm < 5; rm++) {
                int m = rm;
                expectD("fadd.d", m, new long[] {a, b}, x + y, exact(ea.add(eb)), () -> fpu.addD(a, b, m));
                expectD("fsub.d", m, new long[] {a, b}, x - y, exact(ea.subtract(eb)), () -> fpu.subD(a, b, m));
                expectD("fmul.d", m, new long[] {a, b}, x * y, exact(prod), () -> fpu.mulD(a, b, m));
                expectD("fdiv.d", m, new long[] {a, b}, x / y, quotient(ea, eb), () -> fpu.divD(a, b, m));
                long sa = a & Long.MAX_VALUE;
                expectD("fsqrt.d", m, new long[] {sa}, Math.sqrt(d(sa)), root(bd(d(sa))), () -> fpu.sqrtD(sa, m));
                expectD("fmadd.d", m, new long[] {a, b, c}, Math.fma(x, y, z), exact(prod.add(ec)),
                        () -> fpu.fmaddD(a, b, c, m));
                expectD("fmsub.d", m, new long[] {a, b, c}, Math.fma(x, y, -z), exact(prod.subtract(ec)),
                        () -> fpu.fmsubD(a, b, c, m));
                expectD("fnmsub.d", m, new long[] {a, b, c}, Math.fma(-x, y, z), exact(ec.subtract(prod)),
                        () -> fpu.fnmsubD(a, b, c, m));
                expectD("fnmadd.d", m, new long[] {a, b, c}, Math.fma(-x, y, -z), exact(prod.add(ec).negate()),
                        () -> fpu.fnmaddD(a, b, c, m));
            }
        }
        report();
    }

    @Test
    void binary32ArithmeticIsCorrectlyRounded() {
        for (int t = 0; t < TUPLES; t++) {
            int a = randomS(30);
            int b = random.nextInt(4) == 0 ? near(a) : randomS(30);
            int c = random.nextInt(3) == 0 ? nearProductS(a, b) : randomS(30);
            double x = Float.intBitsToFloat(a);
            double y = Float.intBitsToFloat(b);
            double z = Float.intBitsToFloat(c);
            BigDecimal ea = bd(x);
            BigDecimal eb = bd(y);
            BigDecimal ec = bd(z);
            BigDecimal prod = ea.multiply(eb);
            for (int rm = 0; rm < 5; rm++) {
                int m = rm;
                expectS("fadd.s", m, new long[] {a, b}, x + y, exact(ea.add(eb)), () -> fpu.addS(a, b, m));
                expectS("fsub.s", m, new long[] {a, b}, x - y, exact(ea.subtract(eb)), () -> fpu.subS(a, b, m));
                expectS("fmul.s", m, new long[] {a, b}, x * y, exact(prod), () -> fpu.mulS(a, b, m));
                expectS("fdiv.s", m, new long[] {a, b}, x / y, quotient(ea, eb), () -> fpu.divS(a, b, m));
                int sa = a & Integer.MAX_VALUE;
                double sx = Float.intBitsToFloat(sa);
                expectS("fsqrt.s", m, new long[] {sa}, Math.sqrt(sx), root(bd(sx)), () -> fpu.sqrtS(sa, m));
                expectS("fmadd.s", m, new long[] {a, b, c}, x * y + z, exact(prod.add(ec)),
                        () -> fpu.fmaddS(a, b, c, m));
                expectS("fmsub.s", m, new long[] {a, b, c}, x * y - z, exact(prod.subtract(ec)),
                        () -> fpu.fmsubS(a, b, c, m));
                expectS("fnmsub.s", m, new long[] {a, b, c}, z - x * y, exact(ec.subtract(prod)),
                        () -> fpu.fnmsubS(a, b, c, m));
                expectS("fnmadd.s", m, new long[] {a, b, c}, -(x * y) - z, exact(prod.add(ec).negate()),
                        () -> fpu.fnmaddS(a, b, c, m));
                long wide = randomD(120);
                expectS("fcvt.s.d", m, new long[] {wide}, d(wide), exact(bd(d(wide))), () -> fpu.cvtSD(wide, m));
            }
        }
        report();
    }

    @Test
    void conversionsAreCorrectlyRounded() {
        for (int t = 0; t < TUPLES * 4; t++) {
            long v = randomInt();
            BigDecimal signed = new BigDecimal(v);
            BigDecimal unsigned = new BigDecimal(new BigInteger(Long.toUnsignedString(v)));
            BigDecimal w = new BigDecimal((int) v);
            BigDecimal wu = new BigDecimal(v & 0xffffffffL);
            long f = random.nextBoolean() ? randomD(70) : smallFraction();
            int fs = Float.floatToRawIntBits((float) d(f));
            for (int rm = 0; rm < 5; rm++) {
                int m = rm;
                expectS("fcvt.s.w", m, new long[] {v}, (float) (int) v, exact(w), () -> fpu.cvtSW(v, m));
                expectS("fcvt.s.wu", m, new long[] {v}, (float) (v & 0xffffffffL), exact(wu), () -> fpu.cvtSWu(v, m));
                expectS("fcvt.s.l", m, new long[] {v}, (float) v, exact(signed), () -> fpu.cvtSL(v, m));
                expectS("fcvt.s.lu", m, new long[] {v}, unsigned.doubleValue(), exact(unsigned),
                        () -> fpu.cvtSLu(v, m));
                expectD("fcvt.d.l", m, new long[] {v}, (double) v, exact(signed), () -> fpu.cvtDL(v, m));
                expectD("fcvt.d.lu", m, new long[] {v}, unsigned.doubleValue(), exact(unsigned),
                        () -> fpu.cvtDLu(v, m));
                for (int kind = 0; kind < 4; kind++) {
                    int k = kind;
                    String[] names = {"w", "wu", "l", "lu"};
                    expectInt("fcvt." + names[k] + ".d", m, f, bd(d(f)), k, () -> switch (k) {
                        case 0 -> fpu.cvtWD(f, m);
                        case 1 -> fpu.cvtWuD(f, m);
                        case 2 -> fpu.cvtLD(f, m);
                        default -> fpu.cvtLuD(f, m);
                    });
                    expectInt("fcvt." + names[k] + ".s", m, fs, bd(Float.intBitsToFloat(fs)), k, () -> switch (k) {
                        case 0 -> fpu.cvtWS(fs, m);
                        case 1 -> fpu.cvtWuS(fs, m);
                        case 2 -> fpu.cvtLS(fs, m);
                        default -> fpu.cvtLuS(fs, m);
                    });
                }
            }
        }
        report();
    }

    // ------------------------------------------------------------------------------------------------ oracle

    interface LongOp {
        long run();
    }

    /** sign(candidate - exact value). */
    private static ToIntFunction<BigDecimal> exact(BigDecimal v) {
        return c -> c.compareTo(v);
    }

    private static ToIntFunction<BigDecimal> quotient(BigDecimal a, BigDecimal b) {
        return c -> c.multiply(b).compareTo(a) * b.signum();
    }

    /** Only non-negative candidates are ever asked about. */
    private static ToIntFunction<BigDecimal> root(BigDecimal a) {
        return c -> c.signum() < 0 ? -1 : c.multiply(c).compareTo(a);
    }

    /**
     * Correctly rounds the value described by {@code cmp} to the format, starting from a nearby guess. Returns the
     * result as a double (binary32 results are exactly representable) and whether it is inexact (in {@code nx[0]}).
     * Exact zeros of a sum (cancellation of nonzero operands) are +0, or -0 when rounding down; integer zeros are +0.
     */
    private static double round(double guess, ToIntFunction<BigDecimal> cmp, int rm, boolean single, boolean[] nx,
            boolean sum) {
        nx[0] = false;
        if (cmp.applyAsInt(BigDecimal.ZERO) == 0) {
            return sum && rm == Fpu.RDN ? -0.0 : 0.0;
        }
        double c = single ? (float) guess : guess;
        int s = cmp.applyAsInt(bd(c));
        if (s == 0) {
            return c;
        }
        double lo;
        double hi;
        if (s > 0) {
            hi = c;
            lo = step(c, false, single);
            while ((s = cmp.applyAsInt(bd(lo))) > 0) {
                hi = lo;
                lo = step(lo, false, single);
            }
            if (s == 0) {
                return lo;
            }
        } else {
            lo = c;
            hi = step(c, true, single);
            while ((s = cmp.applyAsInt(bd(hi))) < 0) {
                lo = hi;
                hi = step(hi, true, single);
            }
            if (s == 0) {
                return hi;
            }
        }
        nx[0] = true;
        boolean positive = lo >= 0;
        return switch (rm) {
            case Fpu.RTZ -> positive ? lo : hi;
            case Fpu.RDN -> lo;
            case Fpu.RUP -> hi;
            default -> {
                int m = cmp.applyAsInt(bd(lo).add(bd(hi)).divide(BigDecimal.TWO));
                if (m != 0) {
                    yield m < 0 ? hi : lo;
                }
                if (rm == Fpu.RMM) {
                    yield positive ? hi : lo;
                }
                long loBits = single ? Float.floatToRawIntBits((float) lo) : Double.doubleToRawLongBits(lo);
                yield (loBits & 1) == 0 ? lo : hi;
            }
        };
    }

    private static double step(double v, boolean up, boolean single) {
        if (single) {
            return up ? Math.nextUp((float) v) : Math.nextDown((float) v);
        }
        return up ? Math.nextUp(v) : Math.nextDown(v);
    }

    private void expectD(String op, int rm, long[] in, double guess, ToIntFunction<BigDecimal> cmp, LongOp actual) {
        boolean[] nx = new boolean[1];
        long want = Double.doubleToRawLongBits(round(guess, cmp, rm, false, nx, !op.startsWith("fcvt")));
        compare(op, rm, in, want, nx[0] ? Fpu.NX : 0, actual);
    }

    private void expectS(String op, int rm, long[] in, double guess, ToIntFunction<BigDecimal> cmp, IntOp actual) {
        boolean[] nx = new boolean[1];
        long want = Float.floatToRawIntBits((float) round(guess, cmp, rm, true, nx, !op.startsWith("fcvt")))
                & 0xffffffffL;
        compare(op, rm, in, want, nx[0] ? Fpu.NX : 0, () -> actual.run() & 0xffffffffL);
    }

    interface IntOp {
        int run();
    }

    /** float -> integer: BigDecimal rounding, then the RISC-V saturation rules for out-of-range results. */
    private void expectInt(String op, int rm, long operand, BigDecimal v, int kind, LongOp actual) {
        BigInteger r = v.setScale(0, JAVA_RM[rm]).toBigIntegerExact();
        BigInteger min = switch (kind) {
            case 0 -> BigInteger.valueOf(Integer.MIN_VALUE);
            case 2 -> BigInteger.valueOf(Long.MIN_VALUE);
            default -> BigInteger.ZERO;
        };
        BigInteger max = switch (kind) {
            case 0 -> BigInteger.valueOf(Integer.MAX_VALUE);
            case 1 -> BigInteger.valueOf(0xffffffffL);
            case 2 -> BigInteger.valueOf(Long.MAX_VALUE);
            default -> BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
        };
        long want;
        int flags;
        if (r.compareTo(min) < 0 || r.compareTo(max) > 0) {
            flags = Fpu.NV;
            want = (r.signum() < 0 ? min : max).longValue();
        } else {
            flags = new BigDecimal(r).compareTo(v) != 0 ? Fpu.NX : 0;
            want = r.longValue();
        }
        if (kind < 2) {
            want = (int) want; // RV64 sign-extends 32-bit results
        }
        compare(op, rm, new long[] {operand}, want, flags, actual);
    }

    private void compare(String op, int rm, long[] in, long want, int wantFlags, LongOp actual) {
        fpu.setFlags(0);
        long got = actual.run();
        checked++;
        if ((got != want || fpu.flags() != wantFlags) && mismatches.size() < 20) {
            StringBuilder sb = new StringBuilder(op).append(" rm=").append(FpuOps.RM_NAMES[rm]);
            for (long v : in) {
                sb.append(' ').append(FpuOps.describe(op, v, true));
            }
            mismatches.add(sb.append(": expected ").append(FpuOps.describe(op, want, false)).append(' ')
                    .append(FpuOps.flagNames(wantFlags)).append(", got ").append(FpuOps.describe(op, got, false))
                    .append(' ').append(FpuOps.flagNames(fpu.flags())).toString());
        }
    }

    private void report() {
        assertThat(checked).isPositive();
        assertThat(mismatches).as("%d checks, first mismatches", checked).isEmpty();
    }

    // ------------------------------------------------------------------------------------------------ operands

    private static double d(long bits) {
        return Double.longBitsToDouble(bits);
    }

    private static BigDecimal bd(double v) {
        return new BigDecimal(v);
    }

    /** Significand patterns that stress rounding: random, runs of ones, trailing zeros, single bits. */
    private long mantissa(int bits) {
        long all = (1L << bits) - 1;
        return switch (random.nextInt(6)) {
            case 0 -> all;
            case 1 -> 1L << random.nextInt(bits);
            case 2 -> random.nextLong() & all & -(1L << random.nextInt(bits));
            case 3 -> all & -(1L << random.nextInt(bits));
            default -> random.nextLong() & all;
        };
    }

    private long randomD(int expRange) {
        long exp = 1023 + random.nextInt(-expRange, expRange + 1);
        return (random.nextBoolean() ? Long.MIN_VALUE : 0) | exp << 52 | mantissa(52);
    }

    private int randomS(int expRange) {
        int exp = 127 + random.nextInt(-expRange, expRange + 1);
        return (random.nextBoolean() ? Integer.MIN_VALUE : 0) | exp << 23 | (int) mantissa(23);
    }

    /** The same magnitude a few ulps away, either sign: cancellation in add/sub. */
    private long near(long a) {
        return (a ^ (random.nextBoolean() ? Long.MIN_VALUE : 0)) + random.nextInt(-3, 4);
    }

    private int near(int a) {
        return (a ^ (random.nextBoolean() ? Integer.MIN_VALUE : 0)) + random.nextInt(-3, 4);
    }

    /** An addend a few ulps from +-(a*b): massive cancellation in the fused ops. */
    private long nearProductD(long a, long b) {
        return near(Double.doubleToRawLongBits(d(a) * d(b)));
    }

    private int nearProductS(int a, int b) {
        return near(Float.floatToRawIntBits(Float.intBitsToFloat(a) * Float.intBitsToFloat(b)));
    }

    private long randomInt() {
        long v = switch (random.nextInt(4)) {
            case 0 -> random.nextLong();
            case 1 -> random.nextLong() >>> random.nextInt(64);
            case 2 -> (1L << random.nextInt(64)) + random.nextInt(-3, 4);
            default -> {
                int p = random.nextBoolean() ? 24 : 53;
                int shift = random.nextInt(1, 64 - p + 1);
                long top = (1L << (p - 1)) | (random.nextLong() & ((1L << (p - 1)) - 1));
                long half = 1L << (shift - 1);
                yield (top << shift) | new long[] {0, half, half - 1, half + 1}[random.nextInt(4)];
            }
        };
        return random.nextBoolean() ? -v : v;
    }

    /** Values near small integers and halves, where float -> integer rounding decisions happen. */
    private long smallFraction() {
        double v = random.nextInt(-4000, 4001) / 4.0 + (random.nextBoolean() ? 0 : random.nextInt(-2, 3) * 0x1p-40);
        return Double.doubleToRawLongBits(v);
    }
}
