// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

import static dev.domus.xen.cpu.fpu.Fpu.NX;
import static dev.domus.xen.cpu.fpu.Fpu.OF;
import static dev.domus.xen.cpu.fpu.Fpu.RDN;
import static dev.domus.xen.cpu.fpu.Fpu.RMM;
import static dev.domus.xen.cpu.fpu.Fpu.RNE;
import static dev.domus.xen.cpu.fpu.Fpu.RTZ;
import static dev.domus.xen.cpu.fpu.Fpu.RUP;
import static dev.domus.xen.cpu.fpu.Fpu.UF;

/**
 * Exact integer arithmetic behind {@link Fpu}: the slow paths that the hardware-double fast paths fall back to, and
 * the single rounding step every result goes through. Owns the flag accumulator so rounding can raise flags without
 * returning a second value.
 *
 * <p>Intermediate values use one convention throughout: {@code value = sig * 2^(e - 62)} with {@code sig} a positive
 * long whose most significant bit is at position 62 once normalized, and whose bit 0 is "sticky" (jammed): it is set
 * when any nonzero bits were shifted out below it. The exact cores keep at least two bits between the lowest rounding
 * position of either format and the sticky bit, so rounding the jammed value gives the same result and the same
 * inexact/underflow decision as rounding the exact value.
 */
final class SoftFloat {

    /** Accumulated IEEE exception flags in RISC-V fflags layout. */
    int flags;

    static final long FRAC_D = (1L << 52) - 1;
    static final long SIGN_D = 1L << 63;
    static final long INF_D = 0x7ff0000000000000L;
    static final int SIGN_S = 0x80000000;
    static final int INF_S = 0x7f800000;

    // ---------------------------------------------------------------------------------------------- rounding

    /** Rounds {@code (-1)^neg * sig * 2^(e-62)} (sig normalized: bit 62 is the top bit) to binary32. */
    int roundPackS(boolean neg, int e, long sig, int rm) {
        return (int) roundPack(neg, e, sig, rm, 24, -126, 127, 31);
    }

    /** Rounds {@code (-1)^neg * sig * 2^(e-62)} (sig normalized: bit 62 is the top bit) to binary64. */
    long roundPackD(boolean neg, int e, long sig, int rm) {
        return roundPack(neg, e, sig, rm, 53, -1022, 1023, 63);
    }

    /** As {@link #roundPackS} for any nonzero sig (top bit anywhere, bit 63 included as unsigned). */
    int normRoundPackS(boolean neg, int e, long sig, int rm) {
        int lz = Long.numberOfLeadingZeros(sig);
        if (lz == 0) {
            return roundPackS(neg, e + 1, shiftRightJam(sig, 1), rm);
        }
        return roundPackS(neg, e - (lz - 1), sig << (lz - 1), rm);
    }

    /** As {@link #roundPackD} for any nonzero sig (top bit anywhere, bit 63 included as unsigned). */
    long normRoundPackD(boolean neg, int e, long sig, int rm) {
        int lz = Long.numberOfLeadingZeros(sig);
        if (lz == 0) {
            return roundPackD(neg, e + 1, shiftRightJam(sig, 1), rm);
        }
        return roundPackD(neg, e - (lz - 1), sig << (lz - 1), rm);
    }

    /**
     * The one rounding step. {@code prec} is the significand width including the hidden bit, {@code emin/emax} the
     * unbiased exponent range of normal numbers, {@code signPos} the sign bit position of the packed format.
     * Tininess is detected after rounding (as RISC-V requires): the value is tiny when rounding it to {@code prec}
     * bits with an unbounded exponent still gives a magnitude below 2^emin. UF is raised only when tiny and inexact.
     */
    private long roundPack(boolean neg, int e, long sig, int rm, int prec, int emin, int emax, int signPos) {
        final int sh = 63 - prec;
        final long mask = (1L << sh) - 1;
        final long half = 1L << (sh - 1);
        final long inc = switch (rm) {
            case RNE, RMM -> half;
            case RTZ -> 0;
            case RDN -> neg ? mask : 0;
            default -> neg ? 0 : mask;
        };
        final long signBit = neg ? 1L << signPos : 0;
        if (e < emin) {
            // Only a value in the binade just below 2^emin can round up (unbounded exponent) to 2^emin.
            boolean tiny = e < emin - 1 || ((sig + inc) >>> sh) >>> prec == 0;
            sig = shiftRightJam(sig, emin - e);
            long rb = sig & mask;
            if (rb != 0) {
                flags |= tiny ? NX | UF : NX;
            }
            long m = (sig + inc) >>> sh;
            if (rb == half && rm == RNE) {
                m &= ~1L;
            }
            // m < 2^(prec-1) is a subnormal; m == 2^(prec-1) lands exactly on exponent field 1 (smallest normal).
            return signBit | m;
        }
        long rb = sig & mask;
        long m = (sig + inc) >>> sh; // unsigned: sig + inc may pass 2^63
        if (rb == half && rm == RNE) {
            m &= ~1L;
        }
        if (m >>> prec != 0) {
            m >>>= 1;
            e++;
        }
        if (e > emax) {
            flags |= OF | NX;
            boolean toInf = rm == RNE || rm == RMM || (rm == RUP && !neg) || (rm == RDN && neg);
            long infBits = ((1L << (signPos - prec + 1)) - 1) << (prec - 1);
            return signBit | (toInf ? infBits : infBits - 1);
        }
        if (rb != 0) {
            flags |= NX;
        }
        // The hidden bit of m adds the missing 1 to the biased exponent field.
        return signBit | (((long) (e + emax - 1) << (prec - 1)) + m);
    }

    /** Shifts right by {@code d >= 0}, OR-ing every bit shifted out into bit 0. */
    static long shiftRightJam(long x, int d) {
        if (d == 0) {
            return x;
        }
        if (d >= 63) {
            return x != 0 ? 1 : 0;
        }
        return (x >>> d) | ((x << (64 - d)) != 0 ? 1 : 0);
    }

    // ---------------------------------------------------------------------------------------------- unpacking

    /** Unbiased exponent of the leading one of a finite nonzero double (subnormals normalized). */
    static int expD(long a) {
        int be = (int) (a >>> 52) & 0x7ff;
        return be != 0 ? be - 1023 : -1011 - Long.numberOfLeadingZeros(a & FRAC_D);
    }

    /** Significand of a finite nonzero double with its leading one at bit 52 (subnormals normalized). */
    static long sigD(long a) {
        long f = a & FRAC_D;
        if ((a & INF_D) != 0) {
            return f | (1L << 52);
        }
        return f << (Long.numberOfLeadingZeros(f) - 11);
    }

    /**
     * Rounds a double {@code x} (finite, nonzero, normal) to binary32, where the exact value differs from {@code x}
     * by less than half an ulp of {@code x} in the direction {@code magDir} (+1: larger magnitude, -1: smaller, 0:
     * exact). binary32 rounds at least 29 bits above the double's last bit, so replacing the exact value by
     * {@code sig +- one sticky unit} can not move it across a rounding boundary or midpoint.
     */
    int packFromDoubleS(double x, int magDir, int rm) {
        long bits = Double.doubleToRawLongBits(x);
        int e = (int) ((bits >>> 52) & 0x7ff) - 1023;
        long sig = ((bits & FRAC_D) | (1L << 52)) << 10;
        if (magDir > 0) {
            sig |= 1;
        } else if (magDir < 0) {
            sig -= 1;
            if (sig >>> 62 == 0) { // x was a power of two: renormalize
                sig <<= 1;
                e--;
            }
        }
        return roundPackS(bits < 0, e, sig, rm);
    }

    // ---------------------------------------------------------------------------------------------- exact cores

    /** Correctly rounded a + b for finite nonzero doubles. */
    long addD(long a, long b, int rm) {
        int ea = expD(a);
        int eb = expD(b);
        long ma = sigD(a) << 9; // top bit 61: one bit of headroom for the carry
        long mb = sigD(b) << 9;
        if (ea < eb || (ea == eb && ma < mb)) {
            long t = a;
            a = b;
            b = t;
            int te = ea;
            ea = eb;
            eb = te;
            t = ma;
            ma = mb;
            mb = t;
        }
        boolean neg = a < 0;
        mb = shiftRightJam(mb, ea - eb);
        long m;
        if ((a ^ b) >= 0) {
            m = ma + mb;
        } else {
            m = ma - mb;
            if (m == 0) {
                return rm == RDN ? SIGN_D : 0;
            }
        }
        return normRoundPackD(neg, ea + 1, m, rm);
    }

    /** Correctly rounded product of finite nonzero doubles, with the given result sign. */
    long mulD(boolean neg, long a, long b, int rm) {
        long ma = sigD(a);
        long mb = sigD(b);
        // ma * mb < 2^106, value = P * 2^(ea + eb - 104); keep P >> 42 (jammed) so value = sig * 2^(ea + eb - 62).
        long hi = Math.multiplyHigh(ma, mb);
        long lo = ma * mb;
        long sig = (hi << 22) | (lo >>> 42) | ((lo & ((1L << 42) - 1)) != 0 ? 1 : 0);
        return normRoundPackD(neg, expD(a) + expD(b), sig, rm);
    }

    /** Correctly rounded quotient of finite nonzero doubles, with the given result sign. */
    long divD(boolean neg, long a, long b, int rm) {
        int e = expD(a) - expD(b);
        long ma = sigD(a);
        long mb = sigD(b);
        if (ma < mb) {
            ma <<= 1;
            e--;
        }
        // Schoolbook division, 10 quotient bits per step (the remainder stays below 2^53, so r << 10 fits).
        long q = 1;
        long r = ma - mb;
        for (int i = 0; i < 6; i++) {
            r <<= 10;
            long d = r / mb;
            q = (q << 10) | d;
            r -= d * mb;
        }
        // q: 61 quotient bits, top bit at 60.
        return roundPackD(neg, e, (q << 2) | (r != 0 ? 1 : 0), rm);
    }

    /**
     * Correctly rounded {@code (-1)^negP * a * b + (-1)^negC * c} with a single rounding, for finite nonzero a, b,
     * c (only their magnitudes are used). The exact product and the aligned addend live in 128-bit integers.
     */
    long fmaD(boolean negP, long a, long b, boolean negC, long c, int rm) {
        long ma = sigD(a);
        long mb = sigD(b);
        long pHi = Math.multiplyHigh(ma, mb);
        long pLo = ma * mb;
        int ep = expD(a) + expD(b);
        // Put the product's top bit at 125 (bit 126 takes a carry): P = ma*mb has its top bit at 104 or 105.
        int s;
        if (pHi >>> 41 != 0) {
            s = 20;
            ep++;
        } else {
            s = 21;
        }
        pHi = (pHi << s) | (pLo >>> (64 - s));
        pLo <<= s;
        // Addend with its top bit at 125 too: mc << 73.
        long cHi = sigD(c) << 9;
        long cLo = 0;
        int ec = expD(c);

        boolean pBigger = ep > ec || (ep == ec && (Long.compareUnsigned(pHi, cHi) > 0
                || (pHi == cHi && Long.compareUnsigned(pLo, cLo) >= 0)));
        long xHi;
        long xLo;
        long yHi;
        long yLo;
        int e;
        int d;
        boolean neg;
        if (pBigger) {
            xHi = pHi;
            xLo = pLo;
            yHi = cHi;
            yLo = cLo;
            e = ep;
            d = ep - ec;
            neg = negP;
        } else {
            xHi = cHi;
            xLo = cLo;
            yHi = pHi;
            yLo = pLo;
            e = ec;
            d = ec - ep;
            neg = negC;
        }
        // y >>= d with jamming, 128-bit.
        if (d != 0) {
            if (d >= 128) {
                yLo = (yHi | yLo) != 0 ? 1 : 0;
                yHi = 0;
            } else if (d >= 64) {
                boolean sticky = yLo != 0 || (d > 64 && (yHi << (128 - d)) != 0);
                yLo = (d == 64 ? yHi : yHi >>> (d - 64)) | (sticky ? 1 : 0);
                yHi = 0;
            } else {
                boolean sticky = (yLo << (64 - d)) != 0;
                yLo = (yLo >>> d) | (yHi << (64 - d)) | (sticky ? 1 : 0);
                yHi >>>= d;
            }
        }
        long rHi;
        long rLo;
        if (negP == negC) {
            rLo = xLo + yLo;
            rHi = xHi + yHi + (Long.compareUnsigned(rLo, xLo) < 0 ? 1 : 0);
        } else {
            rLo = xLo - yLo;
            rHi = xHi - yHi - (Long.compareUnsigned(xLo, yLo) < 0 ? 1 : 0);
            if ((rHi | rLo) == 0) {
                return rm == RDN ? SIGN_D : 0;
            }
        }
        // value = R * 2^(e - 125); squeeze R into 64 bits (jammed) and let normRoundPack place the top bit.
        if (rHi == 0) {
            return normRoundPackD(neg, e - 63, rLo, rm);
        }
        int n = 64 - Long.numberOfLeadingZeros(rHi); // 1..63
        long sig = (rHi << (64 - n)) | (rLo >>> n) | ((rLo << (64 - n)) != 0 ? 1 : 0);
        return normRoundPackD(neg, e + n - 63, sig, rm);
    }

    // ---------------------------------------------------------------------------------------------- conversions

    static final int W = 0;
    static final int WU = 1;
    static final int L = 2;
    static final int LU = 3;

    /**
     * fcvt.{w,wu,l,lu}.d: the double with bits {@code a} to an integer register value. Out of range and NaN inputs
     * saturate and raise NV only; in-range inexact results raise NX. 32-bit results are sign-extended.
     */
    long toInt(long a, int rm, int kind) {
        if ((a & ~SIGN_D) > INF_D) {
            flags |= Fpu.NV;
            return switch (kind) {
                case W -> Integer.MAX_VALUE;
                case L -> Long.MAX_VALUE;
                default -> -1L;
            };
        }
        boolean neg = a < 0;
        if ((a & ~SIGN_D) == 0) {
            return 0;
        }
        if ((a & INF_D) == INF_D) {
            return saturate(kind, neg);
        }
        int e = expD(a);
        long m = sigD(a);
        long mag;
        boolean inexact = false;
        if (e >= 64) {
            return saturate(kind, neg);
        } else if (e >= 52) {
            mag = m << (e - 52); // exact, < 2^64 unsigned
        } else {
            int k = 52 - e; // number of fraction bits
            long ip;
            long frac; // fraction as 0.64 fixed point
            if (k >= 64) {
                ip = 0;
                frac = k == 64 ? m : 1; // k > 64: below 2^-11, any nonzero stand-in below one half will do
            } else {
                ip = m >>> k;
                frac = m << (64 - k);
            }
            boolean up = switch (rm) {
                case RNE -> frac < 0 && (frac != Long.MIN_VALUE || (ip & 1) != 0);
                case RTZ -> false;
                case RDN -> neg && frac != 0;
                case RUP -> !neg && frac != 0;
                default -> frac < 0; // RMM: fraction >= one half
            };
            mag = ip + (up ? 1 : 0);
            inexact = frac != 0;
        }
        boolean ok;
        long result;
        switch (kind) {
            case W -> {
                ok = Long.compareUnsigned(mag, neg ? 1L << 31 : (1L << 31) - 1) <= 0;
                result = (int) (neg ? -mag : mag);
            }
            case WU -> {
                ok = neg ? mag == 0 : Long.compareUnsigned(mag, 0xffffffffL) <= 0;
                result = (int) mag;
            }
            case L -> {
                ok = Long.compareUnsigned(mag, neg ? 1L << 63 : Long.MAX_VALUE) <= 0;
                result = neg ? -mag : mag;
            }
            default -> {
                ok = !neg || mag == 0;
                result = mag;
            }
        }
        if (!ok) {
            return saturate(kind, neg);
        }
        if (inexact) {
            flags |= NX;
        }
        return result;
    }

    private long saturate(int kind, boolean neg) {
        flags |= Fpu.NV;
        return switch (kind) {
            case W -> neg ? Integer.MIN_VALUE : Integer.MAX_VALUE;
            case WU -> neg ? 0 : -1L;
            case L -> neg ? Long.MIN_VALUE : Long.MAX_VALUE;
            default -> neg ? 0 : -1L;
        };
    }

    /** Sign and magnitude (unsigned) of an integer register value read as the given kind. */
    static long intMagnitude(long v, int kind) {
        return switch (kind) {
            case W -> Math.abs((long) (int) v);
            case WU -> v & 0xffffffffL;
            case L -> v < 0 ? -v : v; // Long.MIN_VALUE stays 2^63 read unsigned
            default -> v;
        };
    }

    static boolean intNegative(long v, int kind) {
        return switch (kind) {
            case W -> (int) v < 0;
            case L -> v < 0;
            default -> false;
        };
    }

    /** fcvt.s.{w,wu,l,lu}. */
    int fromIntS(long v, int kind, int rm) {
        long mag = intMagnitude(v, kind);
        if (mag == 0) {
            return 0;
        }
        return normRoundPackS(intNegative(v, kind), 62, mag, rm);
    }

    /** fcvt.d.{w,wu,l,lu}. */
    long fromIntD(long v, int kind, int rm) {
        long mag = intMagnitude(v, kind);
        if (mag == 0) {
            return 0;
        }
        return normRoundPackD(intNegative(v, kind), 62, mag, rm);
    }

    /** fcvt.s.d for a finite nonzero double. */
    int doubleToS(long a, int rm) {
        return roundPackS(a < 0, expD(a), sigD(a) << 10, rm);
    }
}
