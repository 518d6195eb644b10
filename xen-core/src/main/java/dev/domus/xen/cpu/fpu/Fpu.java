// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

/** TEMPORARY stand-in (RNE only, approximate flags) until the exact FPU lands from its branch. */
public final class Fpu {
    public static final int NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16;
    private int flags;
    public int flags() { return flags; }
    public void setFlags(int f) { flags = f & 31; }
    private static float fs(int a) { return Float.intBitsToFloat(a); }
    private static int is(float a) { return Float.isNaN(a) ? 0x7fc00000 : Float.floatToRawIntBits(a); }
    private static double fd(long a) { return Double.longBitsToDouble(a); }
    private static long id(double a) { return Double.isNaN(a) ? 0x7ff8000000000000L : Double.doubleToRawLongBits(a); }
    public int addS(int a, int b, int rm) { return is(fs(a) + fs(b)); }
    public int subS(int a, int b, int rm) { return is(fs(a) - fs(b)); }
    public int mulS(int a, int b, int rm) { return is(fs(a) * fs(b)); }
    public int divS(int a, int b, int rm) { return is(fs(a) / fs(b)); }
    public int sqrtS(int a, int rm) { return is((float) Math.sqrt(fs(a))); }
    public int fmaddS(int a, int b, int c, int rm) { return is(Math.fma(fs(a), fs(b), fs(c))); }
    public int fmsubS(int a, int b, int c, int rm) { return is(Math.fma(fs(a), fs(b), -fs(c))); }
    public int fnmsubS(int a, int b, int c, int rm) { return is(Math.fma(-fs(a), fs(b), fs(c))); }
    public int fnmaddS(int a, int b, int c, int rm) { return is(Math.fma(-fs(a), fs(b), -fs(c))); }
    public int minS(int a, int b) { return is(Math.min(fs(a), fs(b))); }
    public int maxS(int a, int b) { return is(Math.max(fs(a), fs(b))); }
    public boolean feqS(int a, int b) { return fs(a) == fs(b); }
    public boolean fltS(int a, int b) { return fs(a) < fs(b); }
    public boolean fleS(int a, int b) { return fs(a) <= fs(b); }
    public int classS(int a) { return classD(id(fs(a))); }
    public long cvtWS(int a, int rm) { return (int) fs(a); }
    public long cvtWUS(int a, int rm) { return (int) (long) fs(a); }
    public long cvtLS(int a, int rm) { return (long) fs(a); }
    public long cvtLUS(int a, int rm) { return (long) fs(a); }
    public int cvtSW(long a, int rm) { return is((float) (int) a); }
    public int cvtSWU(long a, int rm) { return is((float) (a & 0xffffffffL)); }
    public int cvtSL(long a, int rm) { return is((float) a); }
    public int cvtSLU(long a, int rm) { return is((float) a); }
    public long addD(long a, long b, int rm) { return id(fd(a) + fd(b)); }
    public long subD(long a, long b, int rm) { return id(fd(a) - fd(b)); }
    public long mulD(long a, long b, int rm) { return id(fd(a) * fd(b)); }
    public long divD(long a, long b, int rm) { return id(fd(a) / fd(b)); }
    public long sqrtD(long a, int rm) { return id(Math.sqrt(fd(a))); }
    public long fmaddD(long a, long b, long c, int rm) { return id(Math.fma(fd(a), fd(b), fd(c))); }
    public long fmsubD(long a, long b, long c, int rm) { return id(Math.fma(fd(a), fd(b), -fd(c))); }
    public long fnmsubD(long a, long b, long c, int rm) { return id(Math.fma(-fd(a), fd(b), fd(c))); }
    public long fnmaddD(long a, long b, long c, int rm) { return id(Math.fma(-fd(a), fd(b), -fd(c))); }
    public long minD(long a, long b) { return id(Math.min(fd(a), fd(b))); }
    public long maxD(long a, long b) { return id(Math.max(fd(a), fd(b))); }
    public boolean feqD(long a, long b) { return fd(a) == fd(b); }
    public boolean fltD(long a, long b) { return fd(a) < fd(b); }
    public boolean fleD(long a, long b) { return fd(a) <= fd(b); }
    public int classD(long a) { return 0; }
    public long cvtWD(long a, int rm) { return (int) fd(a); }
    public long cvtWUD(long a, int rm) { return (int) (long) fd(a); }
    public long cvtLD(long a, int rm) { return (long) fd(a); }
    public long cvtLUD(long a, int rm) { return (long) fd(a); }
    public long cvtDW(long a, int rm) { return id((int) a); }
    public long cvtDWU(long a, int rm) { return id(a & 0xffffffffL); }
    public long cvtDL(long a, int rm) { return id(a); }
    public long cvtDLU(long a, int rm) { return id(a); }
    public int cvtSD(long a, int rm) { return is((float) fd(a)); }
    public long cvtDS(int a) { return id(fs(a)); }
}
