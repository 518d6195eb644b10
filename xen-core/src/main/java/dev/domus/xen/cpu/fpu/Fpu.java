// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

import static dev.domus.xen.cpu.fpu.SoftFloat.INF_D;
import static dev.domus.xen.cpu.fpu.SoftFloat.INF_S;
import static dev.domus.xen.cpu.fpu.SoftFloat.SIGN_D;
import static dev.domus.xen.cpu.fpu.SoftFloat.SIGN_S;

/**
 * Bit-exact RISC-V F and D arithmetic: every result is correctly rounded in the requested mode and raises exactly the
 * fflags a RISC-V hart would. One instance per vCPU; not thread-safe.
 *
 * <p>Operands and results are raw IEEE 754 bits: {@code int} for binary32, {@code long} for binary64 (NaN-boxing is
 * the caller's business). Every NaN result is the canonical NaN. Rounding modes are the static encodings
 * {@link #RNE} to {@link #RMM}; the caller resolves DYN and rejects reserved encodings. Flags are OR-ed into an
 * accumulator read with {@link #flags()}.
 *
 * <p>Common cases run on Java float/double arithmetic (correctly rounded to nearest-even) and use exact error terms
 * (TwoSum, {@link Math#fma} residuals) to find the inexact flag and the direction for the other rounding modes.
 * binary32 results that need more care are computed in double together with the sign of their exact error and then
 * rounded once by {@link SoftFloat}; binary64 operations near overflow, underflow or special values, and all binary64
 * fused multiply-adds, take the exact integer paths of {@link SoftFloat}. No path allocates.
 */
public final class Fpu {

    /** Inexact. */
    public static final int NX = 1;
    /** Underflow (tiny after rounding and inexact). */
    public static final int UF = 2;
    /** Overflow. */
    public static final int OF = 4;
    /** Divide by zero. */
    public static final int DZ = 8;
    /** Invalid operation. */
    public static final int NV = 16;

    /** Round to nearest, ties to even. */
    public static final int RNE = 0;
    /** Round towards zero. */
    public static final int RTZ = 1;
    /** Round down (towards negative infinity). */
    public static final int RDN = 2;
    /** Round up (towards positive infinity). */
    public static final int RUP = 3;
    /** Round to nearest, ties to max magnitude. */
    public static final int RMM = 4;

    /** The canonical binary32 NaN. */
    public static final int CANONICAL_NAN_S = 0x7fc00000;
    /** The canonical binary64 NaN. */
    public static final long CANONICAL_NAN_D = 0x7ff8000000000000L;

    private static final int MIN_NORMAL_S_BITS = 0x00800000;

    private final SoftFloat soft = new SoftFloat();

    /** Accumulated exception flags (fflags layout: NV DZ OF UF NX from bit 4 down to bit 0). */
    public int flags() {
        return soft.flags;
    }

    /** Replaces the accumulated exception flags (bits above 4 are ignored). */
    public void setFlags(int flags) {
        soft.flags = flags & 0x1f;
    }

    // ============================================================================================== binary32

    /** fadd.s: a + b. */
    public int addS(int a, int b, int rm) {
        if (rm == RNE) {
            float x = Float.intBitsToFloat(a);
            float y = Float.intBitsToFloat(b);
            float s = x + y;
            if (Math.abs(s) <= Float.MAX_VALUE) {
                // TwoSum: err is the exact rounding error (a sum never underflows: tiny sums are exact).
                float bv = s - x;
                float err = (x - (s - bv)) + (y - bv);
                if (err != 0) {
                    if (!(Math.abs(err) <= Float.MAX_VALUE)) {
                        return addSlowS(a, b, rm);
                    }
                    soft.flags |= NX;
                }
                return Float.floatToRawIntBits(s);
            }
        }
        return addSlowS(a, b, rm);
    }

    /** fsub.s: a - b. */
    public int subS(int a, int b, int rm) {
        return addS(a, b ^ SIGN_S, rm);
    }

    private int addSlowS(int a, int b, int rm) {
        double x = Float.intBitsToFloat(a);
        double y = Float.intBitsToFloat(b);
        double s = x + y;
        if (Double.isNaN(s)) {
            return nanResultS(a, b);
        }
        if (Double.isInfinite(s)) {
            return Float.floatToRawIntBits((float) s); // an infinite operand: exact
        }
        if (s == 0) {
            return zeroSumS(a < 0, b < 0, rm);
        }
        double bv = s - x;
        double err = (x - (s - bv)) + (y - bv);
        return soft.packFromDoubleS(s, magDir(s, err), rm);
    }

    /** fmul.s: a * b. */
    public int mulS(int a, int b, int rm) {
        double p = (double) Float.intBitsToFloat(a) * (double) Float.intBitsToFloat(b); // exact: 48-bit product
        if (rm == RNE) {
            float f = (float) p;
            int fb = Float.floatToRawIntBits(f) & ~SIGN_S;
            if (fb > MIN_NORMAL_S_BITS && fb < INF_S) {
                if (f != p) {
                    soft.flags |= NX;
                }
                return Float.floatToRawIntBits(f);
            }
        }
        if (Double.isNaN(p)) {
            return nanResultS(a, b);
        }
        if (p == 0 || Double.isInfinite(p)) {
            return Float.floatToRawIntBits((float) p);
        }
        return soft.packFromDoubleS(p, 0, rm);
    }

    /** fdiv.s: a / b (DZ for finite nonzero / zero). */
    public int divS(int a, int b, int rm) {
        float x = Float.intBitsToFloat(a);
        float y = Float.intBitsToFloat(b);
        if (rm == RNE) {
            float q = x / y;
            int qb = Float.floatToRawIntBits(q) & ~SIGN_S;
            if (qb > MIN_NORMAL_S_BITS && qb < INF_S) {
                // x - q*y is exact in double (at most ~50 significant bits).
                if (Math.fma(-(double) q, y, x) != 0) {
                    soft.flags |= NX;
                }
                return Float.floatToRawIntBits(q);
            }
        }
        if (isNaNS(a) || isNaNS(b)) {
            return nanResultS(a, b);
        }
        int sign = (a ^ b) & SIGN_S;
        int ma = a & ~SIGN_S;
        int mb = b & ~SIGN_S;
        if (ma == INF_S) {
            return mb == INF_S ? invalidS() : sign | INF_S;
        }
        if (mb == INF_S) {
            return sign;
        }
        if (mb == 0) {
            if (ma == 0) {
                return invalidS();
            }
            soft.flags |= DZ;
            return sign | INF_S;
        }
        if (ma == 0) {
            return sign;
        }
        double q = (double) x / (double) y;
        double r = Math.fma(-q, y, x); // exact: x/y = q + r/y
        int dir = r == 0 ? 0 : ((r > 0) == (x > 0) ? 1 : -1);
        return soft.packFromDoubleS(q, dir, rm);
    }

    /** fsqrt.s (NV for negative operands other than -0). */
    public int sqrtS(int a, int rm) {
        if (a > 0 && a < INF_S) {
            double x = Float.intBitsToFloat(a);
            double d = Math.sqrt(x);
            if (rm == RNE) {
                // Rounding sqrt to double then to float is innocuous (53 >= 2*24 + 2).
                float f = (float) d;
                double fd = f;
                if (fd * fd != x) {
                    soft.flags |= NX;
                }
                return Float.floatToRawIntBits(f);
            }
            double r = Math.fma(-d, d, x); // exact residual
            return soft.packFromDoubleS(d, r > 0 ? 1 : r < 0 ? -1 : 0, rm);
        }
        if (isNaNS(a)) {
            return nanResultS(a, a);
        }
        if ((a & ~SIGN_S) == 0 || a == INF_S) {
            return a;
        }
        return invalidS(); // negative
    }

    /** a*b + c with one rounding (fmadd.s). */
    public int fmaddS(int a, int b, int c, int rm) {
        return fmaS(a, b, c, rm);
    }

    /** a*b - c with one rounding (fmsub.s). */
    public int fmsubS(int a, int b, int c, int rm) {
        return fmaS(a, b, c ^ SIGN_S, rm);
    }

    /** -(a*b) + c with one rounding (fnmsub.s). */
    public int fnmsubS(int a, int b, int c, int rm) {
        return fmaS(a ^ SIGN_S, b, c, rm);
    }

    /** -(a*b) - c with one rounding (fnmadd.s). */
    public int fnmaddS(int a, int b, int c, int rm) {
        return fmaS(a ^ SIGN_S, b, c ^ SIGN_S, rm);
    }

    private int fmaS(int a, int b, int c, int rm) {
        if (isNaNS(a) || isNaNS(b) || isNaNS(c)) {
            return nanResultFmaS(a, b, c);
        }
        double z = Float.intBitsToFloat(c);
        double p = (double) Float.intBitsToFloat(a) * (double) Float.intBitsToFloat(b); // exact
        if (Double.isNaN(p)) {
            return invalidS(); // inf * 0
        }
        if (Double.isInfinite(p)) {
            if (Double.isInfinite(z) && (p > 0) != (z > 0)) {
                return invalidS();
            }
            return Float.floatToRawIntBits((float) p);
        }
        if (Double.isInfinite(z)) {
            return c;
        }
        double s = p + z;
        if (s == 0) {
            return zeroSumS(Double.doubleToRawLongBits(p) < 0, c < 0, rm);
        }
        double bv = s - p;
        double err = (p - (s - bv)) + (z - bv); // exact: p + z == s + err
        return soft.packFromDoubleS(s, magDir(s, err), rm);
    }

    /** fmin.s (RISC-V 2.2+: -0 < +0, a single NaN operand yields the other, NV for any sNaN). */
    public int minS(int a, int b) {
        boolean an = isNaNS(a);
        boolean bn = isNaNS(b);
        if (an || bn) {
            return minMaxNaNS(a, b, an, bn);
        }
        return orderKeyS(a) <= orderKeyS(b) ? a : b;
    }

    /** fmax.s (RISC-V 2.2+: -0 < +0, a single NaN operand yields the other, NV for any sNaN). */
    public int maxS(int a, int b) {
        boolean an = isNaNS(a);
        boolean bn = isNaNS(b);
        if (an || bn) {
            return minMaxNaNS(a, b, an, bn);
        }
        return orderKeyS(a) >= orderKeyS(b) ? a : b;
    }

    /** feq.s: quiet comparison, NV only for signaling NaNs. */
    public boolean feqS(int a, int b) {
        if (isNaNS(a) || isNaNS(b)) {
            if (isSNaNS(a) || isSNaNS(b)) {
                soft.flags |= NV;
            }
            return false;
        }
        return Float.intBitsToFloat(a) == Float.intBitsToFloat(b);
    }

    /** flt.s: signaling comparison, NV for any NaN. */
    public boolean fltS(int a, int b) {
        if (isNaNS(a) || isNaNS(b)) {
            soft.flags |= NV;
            return false;
        }
        return Float.intBitsToFloat(a) < Float.intBitsToFloat(b);
    }

    /** fle.s: signaling comparison, NV for any NaN. */
    public boolean fleS(int a, int b) {
        if (isNaNS(a) || isNaNS(b)) {
            soft.flags |= NV;
            return false;
        }
        return Float.intBitsToFloat(a) <= Float.intBitsToFloat(b);
    }

    /** fclass.s: one-hot 10-bit mask. */
    public static int classifyS(int a) {
        boolean neg = a < 0;
        int exp = (a >>> 23) & 0xff;
        int frac = a & 0x7fffff;
        if (exp == 0xff) {
            if (frac == 0) {
                return neg ? 1 : 1 << 7;
            }
            return (frac & 0x400000) != 0 ? 1 << 9 : 1 << 8;
        }
        if (exp == 0) {
            if (frac == 0) {
                return neg ? 1 << 3 : 1 << 4;
            }
            return neg ? 1 << 2 : 1 << 5;
        }
        return neg ? 1 << 1 : 1 << 6;
    }

    /** fcvt.w.s: result sign-extended from 32 bits. */
    public long cvtWS(int a, int rm) {
        return soft.toInt(sToDBits(a), rm, SoftFloat.W);
    }

    /** fcvt.wu.s: result sign-extended from 32 bits, as RV64 writes it. */
    public long cvtWuS(int a, int rm) {
        return soft.toInt(sToDBits(a), rm, SoftFloat.WU);
    }

    /** fcvt.l.s. */
    public long cvtLS(int a, int rm) {
        return soft.toInt(sToDBits(a), rm, SoftFloat.L);
    }

    /** fcvt.lu.s. */
    public long cvtLuS(int a, int rm) {
        return soft.toInt(sToDBits(a), rm, SoftFloat.LU);
    }

    /** fcvt.s.w: converts the low 32 bits of {@code x} as a signed integer. */
    public int cvtSW(long x, int rm) {
        return soft.fromIntS(x, SoftFloat.W, rm);
    }

    /** fcvt.s.wu: converts the low 32 bits of {@code x} as an unsigned integer. */
    public int cvtSWu(long x, int rm) {
        return soft.fromIntS(x, SoftFloat.WU, rm);
    }

    /** fcvt.s.l. */
    public int cvtSL(long x, int rm) {
        return soft.fromIntS(x, SoftFloat.L, rm);
    }

    /** fcvt.s.lu: {@code x} read as unsigned. */
    public int cvtSLu(long x, int rm) {
        return soft.fromIntS(x, SoftFloat.LU, rm);
    }

    /** fcvt.s.d. */
    public int cvtSD(long a, int rm) {
        long mag = a & ~SIGN_D;
        if (mag > INF_D) {
            if (isSNaND(a)) {
                soft.flags |= NV;
            }
            return CANONICAL_NAN_S;
        }
        int sign = (int) (a >>> 32) & SIGN_S;
        if (mag == INF_D) {
            return sign | INF_S;
        }
        if (mag == 0) {
            return sign;
        }
        return soft.doubleToS(a, rm);
    }

    // ============================================================================================== binary64

    /** fadd.d: a + b. */
    public long addD(long a, long b, int rm) {
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        double s = x + y;
        if (Math.abs(s) <= Double.MAX_VALUE) {
            double bv = s - x;
            double err = (x - (s - bv)) + (y - bv);
            if (err == 0) {
                // Exact; Java's zero sign is right in every mode but RDN.
                if (s != 0 || rm != RDN) {
                    return Double.doubleToRawLongBits(s);
                }
            } else if (rm != RMM && Math.abs(err) <= Double.MAX_VALUE) {
                // An inexact sum is at least 2^-1021 in magnitude: stepping one ulp stays normal.
                return finishD(s, magDir(s, err), rm);
            }
        }
        return addSlowD(a, b, rm);
    }

    /** fsub.d: a - b. */
    public long subD(long a, long b, int rm) {
        return addD(a, b ^ SIGN_D, rm);
    }

    private long addSlowD(long a, long b, int rm) {
        if (isNaND(a) || isNaND(b)) {
            return nanResultD(a, b);
        }
        long ma = a & ~SIGN_D;
        long mb = b & ~SIGN_D;
        if (ma == INF_D) {
            return mb == INF_D && (a ^ b) < 0 ? invalidD() : a;
        }
        if (mb == INF_D) {
            return b;
        }
        if (ma == 0) {
            return mb == 0 ? zeroSumD(a < 0, b < 0, rm) : b;
        }
        if (mb == 0) {
            return a;
        }
        return soft.addD(a, b, rm);
    }

    /** fmul.d: a * b. */
    public long mulD(long a, long b, int rm) {
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        double p = x * y;
        int pe = (int) (Double.doubleToRawLongBits(p) >>> 52) & 0x7ff;
        // |p| >= 2^-967: the product's rounding error is exactly representable.
        if (pe >= 56 && pe <= 2046) {
            double err = Math.fma(x, y, -p);
            if (err == 0 || rm != RMM) {
                return finishD(p, magDir(p, err), rm);
            }
        }
        if (isNaND(a) || isNaND(b)) {
            return nanResultD(a, b);
        }
        long ma = a & ~SIGN_D;
        long mb = b & ~SIGN_D;
        long sign = (a ^ b) & SIGN_D;
        if (ma == INF_D || mb == INF_D) {
            return ma == 0 || mb == 0 ? invalidD() : sign | INF_D;
        }
        if (ma == 0 || mb == 0) {
            return sign;
        }
        return soft.mulD(sign != 0, a, b, rm);
    }

    /** fdiv.d: a / b (DZ for finite nonzero / zero). */
    public long divD(long a, long b, int rm) {
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        double q = x / y;
        int qe = (int) (Double.doubleToRawLongBits(q) >>> 52) & 0x7ff;
        int xe = (int) (a >>> 52) & 0x7ff;
        int ye = (int) (b >>> 52) & 0x7ff;
        // Normal operands, x >= 2^-967 and q normal away from the edges: x - q*y is exactly representable.
        // A quotient is never exactly halfway between two doubles, so RMM behaves as RNE.
        if (qe >= 2 && qe <= 2046 && xe >= 56 && xe <= 2046 && ye >= 1 && ye <= 2046) {
            double r = Math.fma(-q, y, x);
            return finishD(q, r == 0 ? 0 : ((r > 0) == (x > 0) ? 1 : -1), rm);
        }
        if (isNaND(a) || isNaND(b)) {
            return nanResultD(a, b);
        }
        long ma = a & ~SIGN_D;
        long mb = b & ~SIGN_D;
        long sign = (a ^ b) & SIGN_D;
        if (ma == INF_D) {
            return mb == INF_D ? invalidD() : sign | INF_D;
        }
        if (mb == INF_D) {
            return sign;
        }
        if (mb == 0) {
            if (ma == 0) {
                return invalidD();
            }
            soft.flags |= DZ;
            return sign | INF_D;
        }
        if (ma == 0) {
            return sign;
        }
        return soft.divD(sign != 0, a, b, rm);
    }

    /** fsqrt.d (NV for negative operands other than -0). */
    public long sqrtD(long a, int rm) {
        if (a > 0 && a < INF_D) {
            double x = Double.longBitsToDouble(a);
            // Scale tiny inputs by an even power of two so the residual x - q*q stays exactly representable.
            boolean small = a < (100L << 52);
            if (small) {
                x *= 0x1p200;
            }
            double q = Math.sqrt(x);
            double r = Math.fma(-q, q, x);
            if (small) {
                q *= 0x1p-100; // exact: q >= 2^-437 before scaling
            }
            // A square root is never exactly halfway between two doubles, so RMM behaves as RNE.
            return finishD(q, r > 0 ? 1 : r < 0 ? -1 : 0, rm);
        }
        if (isNaND(a)) {
            return nanResultD(a, a);
        }
        if ((a & ~SIGN_D) == 0 || a == INF_D) {
            return a;
        }
        return invalidD();
    }

    /** a*b + c with one rounding (fmadd.d). */
    public long fmaddD(long a, long b, long c, int rm) {
        return fmaD(a, b, c, rm);
    }

    /** a*b - c with one rounding (fmsub.d). */
    public long fmsubD(long a, long b, long c, int rm) {
        return fmaD(a, b, c ^ SIGN_D, rm);
    }

    /** -(a*b) + c with one rounding (fnmsub.d). */
    public long fnmsubD(long a, long b, long c, int rm) {
        return fmaD(a ^ SIGN_D, b, c, rm);
    }

    /** -(a*b) - c with one rounding (fnmadd.d). */
    public long fnmaddD(long a, long b, long c, int rm) {
        return fmaD(a ^ SIGN_D, b, c ^ SIGN_D, rm);
    }

    private long fmaD(long a, long b, long c, int rm) {
        int ea = (int) (a >>> 52) & 0x7ff;
        int eb = (int) (b >>> 52) & 0x7ff;
        // Normal factors with |a*b| >= 2^-946: the product's error term and every residual below are exact.
        if (ea != 0 && eb != 0 && ea != 0x7ff && eb != 0x7ff && ea + eb >= 1100) {
            double x = Double.longBitsToDouble(a);
            double y = Double.longBitsToDouble(b);
            double z = Double.longBitsToDouble(c);
            double r = Math.fma(x, y, z);
            int er = (int) (Double.doubleToRawLongBits(r) >>> 52) & 0x7ff;
            if (er >= 2 && er <= 2046) {
                int dir = fmaDirection(x, y, z, r);
                // An fma can be exactly halfway between two doubles: inexact RMM results take the exact path.
                if (dir == 0 || (dir != UNKNOWN && rm != RMM)) {
                    return finishD(r, dir, rm);
                }
            }
        }
        long ma = a & ~SIGN_D;
        long mb = b & ~SIGN_D;
        long mc = c & ~SIGN_D;
        if (ma > INF_D || mb > INF_D || mc > INF_D) {
            return nanResultFmaD(a, b, c);
        }
        long pSign = (a ^ b) & SIGN_D;
        if (ma == INF_D || mb == INF_D) {
            if (ma == 0 || mb == 0) {
                return invalidD();
            }
            if (mc == INF_D && (c & SIGN_D) != pSign) {
                return invalidD();
            }
            return pSign | INF_D;
        }
        if (mc == INF_D) {
            return c;
        }
        if (ma == 0 || mb == 0) {
            return mc == 0 ? zeroSumD(pSign != 0, c < 0, rm) : c;
        }
        if (mc == 0) {
            return soft.mulD(pSign != 0, a, b, rm);
        }
        return soft.fmaD(pSign != 0, a, b, c < 0, c, rm);
    }

    /** fmin.d (RISC-V 2.2+: -0 < +0, a single NaN operand yields the other, NV for any sNaN). */
    public long minD(long a, long b) {
        boolean an = isNaND(a);
        boolean bn = isNaND(b);
        if (an || bn) {
            return minMaxNaND(a, b, an, bn);
        }
        return orderKeyD(a) <= orderKeyD(b) ? a : b;
    }

    /** fmax.d (RISC-V 2.2+: -0 < +0, a single NaN operand yields the other, NV for any sNaN). */
    public long maxD(long a, long b) {
        boolean an = isNaND(a);
        boolean bn = isNaND(b);
        if (an || bn) {
            return minMaxNaND(a, b, an, bn);
        }
        return orderKeyD(a) >= orderKeyD(b) ? a : b;
    }

    /** feq.d: quiet comparison, NV only for signaling NaNs. */
    public boolean feqD(long a, long b) {
        if (isNaND(a) || isNaND(b)) {
            if (isSNaND(a) || isSNaND(b)) {
                soft.flags |= NV;
            }
            return false;
        }
        return Double.longBitsToDouble(a) == Double.longBitsToDouble(b);
    }

    /** flt.d: signaling comparison, NV for any NaN. */
    public boolean fltD(long a, long b) {
        if (isNaND(a) || isNaND(b)) {
            soft.flags |= NV;
            return false;
        }
        return Double.longBitsToDouble(a) < Double.longBitsToDouble(b);
    }

    /** fle.d: signaling comparison, NV for any NaN. */
    public boolean fleD(long a, long b) {
        if (isNaND(a) || isNaND(b)) {
            soft.flags |= NV;
            return false;
        }
        return Double.longBitsToDouble(a) <= Double.longBitsToDouble(b);
    }

    /** fclass.d: one-hot 10-bit mask. */
    public static int classifyD(long a) {
        boolean neg = a < 0;
        int exp = (int) (a >>> 52) & 0x7ff;
        long frac = a & SoftFloat.FRAC_D;
        if (exp == 0x7ff) {
            if (frac == 0) {
                return neg ? 1 : 1 << 7;
            }
            return (frac & (1L << 51)) != 0 ? 1 << 9 : 1 << 8;
        }
        if (exp == 0) {
            if (frac == 0) {
                return neg ? 1 << 3 : 1 << 4;
            }
            return neg ? 1 << 2 : 1 << 5;
        }
        return neg ? 1 << 1 : 1 << 6;
    }

    /** fcvt.w.d: result sign-extended from 32 bits. */
    public long cvtWD(long a, int rm) {
        return soft.toInt(a, rm, SoftFloat.W);
    }

    /** fcvt.wu.d: result sign-extended from 32 bits, as RV64 writes it. */
    public long cvtWuD(long a, int rm) {
        return soft.toInt(a, rm, SoftFloat.WU);
    }

    /** fcvt.l.d. */
    public long cvtLD(long a, int rm) {
        return soft.toInt(a, rm, SoftFloat.L);
    }

    /** fcvt.lu.d. */
    public long cvtLuD(long a, int rm) {
        return soft.toInt(a, rm, SoftFloat.LU);
    }

    /** fcvt.d.w: exact; {@code rm} is accepted for symmetry and ignored. */
    public long cvtDW(long x, int rm) {
        return Double.doubleToRawLongBits((int) x);
    }

    /** fcvt.d.wu: exact; {@code rm} is accepted for symmetry and ignored. */
    public long cvtDWu(long x, int rm) {
        return Double.doubleToRawLongBits(x & 0xffffffffL);
    }

    /** fcvt.d.l. */
    public long cvtDL(long x, int rm) {
        return soft.fromIntD(x, SoftFloat.L, rm);
    }

    /** fcvt.d.lu: {@code x} read as unsigned. */
    public long cvtDLu(long x, int rm) {
        return soft.fromIntD(x, SoftFloat.LU, rm);
    }

    /** fcvt.d.s: exact; signaling NaNs raise NV, every NaN becomes the canonical NaN. */
    public long cvtDS(int a) {
        if (isNaNS(a)) {
            if (isSNaNS(a)) {
                soft.flags |= NV;
            }
            return CANONICAL_NAN_D;
        }
        return Double.doubleToRawLongBits(Float.intBitsToFloat(a));
    }

    // ============================================================================================== helpers

    static boolean isNaNS(int a) {
        return (a & ~SIGN_S) > INF_S;
    }

    static boolean isSNaNS(int a) {
        return isNaNS(a) && (a & 0x00400000) == 0;
    }

    static boolean isNaND(long a) {
        return (a & ~SIGN_D) > INF_D;
    }

    static boolean isSNaND(long a) {
        return isNaND(a) && (a & 0x0008000000000000L) == 0;
    }

    /** Maps non-NaN bits to ints ordered like the values, with -0 below +0. */
    private static int orderKeyS(int a) {
        return a ^ ((a >> 31) & 0x7fffffff);
    }

    private static long orderKeyD(long a) {
        return a ^ ((a >> 63) & Long.MAX_VALUE);
    }

    /** Direction of the exact value {@code x + err} relative to {@code x} in magnitude: +1 larger, -1 smaller. */
    private static int magDir(double x, double err) {
        if (err == 0) {
            return 0;
        }
        return (err > 0) == (x > 0) ? 1 : -1;
    }

    /**
     * Finishes a fast-path binary64 result: {@code q} is the round-to-nearest-even result (finite, normal, not next
     * to the subnormal range) and {@code magDir} says where the exact value lies. The exact value must not be a
     * midpoint unless {@code magDir == 0} or the mode is not RMM (callers guarantee it). Directed modes step q by one
     * ulp when it lies on the wrong side.
     */
    private long finishD(double q, int magDir, int rm) {
        long bits = Double.doubleToRawLongBits(q);
        if (magDir == 0) {
            return bits;
        }
        soft.flags |= NX;
        boolean neg = bits < 0;
        if (magDir > 0) {
            if ((rm == RUP && !neg) || (rm == RDN && neg)) {
                bits++;
                if ((bits & ~SIGN_D) == INF_D) {
                    soft.flags |= OF;
                }
            }
        } else if (rm == RTZ || (rm == RDN && !neg) || (rm == RUP && neg)) {
            bits--;
        }
        return bits;
    }

    private static final int UNKNOWN = 2;

    /**
     * Where {@code x*y + z} lies relative to {@code r = fma(x, y, z)} (as {@link #magDir}), or {@link #UNKNOWN}.
     * Either {@code w = r - z} is exact, and then the residual is {@code x*y - w}, one correctly rounded fma whose
     * sign is exact; or {@code d = p - r} and {@code g = d + z} are exact ({@code p = x*y} rounded, {@code e} its
     * exact error), and then the residual is {@code e + g}. Each exactness claim is checked with TwoSum; the
     * caller guarantees |x*y| >= 2^-946, so no residual is too small to keep its sign.
     */
    private static int fmaDirection(double x, double y, double z, double r) {
        double w = r - z;
        if (twoSumError(r, -z, w) == 0) {
            return magDir(r, Math.fma(x, y, -w));
        }
        double p = x * y;
        if (Math.abs(p) <= Double.MAX_VALUE) {
            double d = p - r;
            if (twoSumError(p, -r, d) == 0) {
                double g = d + z;
                if (twoSumError(d, z, g) == 0) {
                    return magDir(r, Math.fma(x, y, -p) + g);
                }
            }
        }
        return UNKNOWN;
    }

    /** Exact error of {@code s = a + b} (Knuth's TwoSum); NaN if an intermediate overflowed. */
    private static double twoSumError(double a, double b, double s) {
        double bv = s - a;
        return (a - (s - bv)) + (b - bv);
    }

    /** Result sign of an exact zero sum of two addends with the given signs. */
    private static boolean zeroSumNegative(boolean na, boolean nb, int rm) {
        return rm == RDN ? na || nb : na && nb;
    }

    private static int zeroSumS(boolean na, boolean nb, int rm) {
        return zeroSumNegative(na, nb, rm) ? SIGN_S : 0;
    }

    private static long zeroSumD(boolean na, boolean nb, int rm) {
        return zeroSumNegative(na, nb, rm) ? SIGN_D : 0;
    }

    private int invalidS() {
        soft.flags |= NV;
        return CANONICAL_NAN_S;
    }

    private long invalidD() {
        soft.flags |= NV;
        return CANONICAL_NAN_D;
    }

    /** A NaN result of a two-operand op: invalid if an operand is signaling or neither operand is a NaN. */
    private int nanResultS(int a, int b) {
        if (isSNaNS(a) || isSNaNS(b) || (!isNaNS(a) && !isNaNS(b))) {
            soft.flags |= NV;
        }
        return CANONICAL_NAN_S;
    }

    private long nanResultD(long a, long b) {
        if (isSNaND(a) || isSNaND(b) || (!isNaND(a) && !isNaND(b))) {
            soft.flags |= NV;
        }
        return CANONICAL_NAN_D;
    }

    /** A NaN operand of a fused op: invalid for a signaling NaN, and for inf * 0 even when c is a quiet NaN. */
    private int nanResultFmaS(int a, int b, int c) {
        int ma = a & ~SIGN_S;
        int mb = b & ~SIGN_S;
        if (isSNaNS(a) || isSNaNS(b) || isSNaNS(c) || (ma == INF_S && mb == 0) || (ma == 0 && mb == INF_S)) {
            soft.flags |= NV;
        }
        return CANONICAL_NAN_S;
    }

    private long nanResultFmaD(long a, long b, long c) {
        long ma = a & ~SIGN_D;
        long mb = b & ~SIGN_D;
        if (isSNaND(a) || isSNaND(b) || isSNaND(c) || (ma == INF_D && mb == 0) || (ma == 0 && mb == INF_D)) {
            soft.flags |= NV;
        }
        return CANONICAL_NAN_D;
    }

    private int minMaxNaNS(int a, int b, boolean an, boolean bn) {
        if (isSNaNS(a) || isSNaNS(b)) {
            soft.flags |= NV;
        }
        if (an && bn) {
            return CANONICAL_NAN_S;
        }
        return an ? b : a;
    }

    private long minMaxNaND(long a, long b, boolean an, boolean bn) {
        if (isSNaND(a) || isSNaND(b)) {
            soft.flags |= NV;
        }
        if (an && bn) {
            return CANONICAL_NAN_D;
        }
        return an ? b : a;
    }

    /** binary32 bits to the binary64 bits of the same value (NaNs stay NaNs). */
    private static long sToDBits(int a) {
        return Double.doubleToRawLongBits(Float.intBitsToFloat(a));
    }
}
