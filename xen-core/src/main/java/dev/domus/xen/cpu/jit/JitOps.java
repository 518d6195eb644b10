// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

/** RISC-V arithmetic with edge cases (division by zero, overflow) that generated code calls; all tiny, all inlined. */
final class JitOps {
    private JitOps() {
    }

    static long mulhsu(long a, long b) {
        return Math.multiplyHigh(a, b) + (b < 0 ? a : 0);
    }

    static long div(long a, long b) {
        return b == 0 ? -1L : (a == Long.MIN_VALUE && b == -1) ? a : a / b;
    }

    static long divu(long a, long b) {
        return b == 0 ? -1L : Long.divideUnsigned(a, b);
    }

    static long rem(long a, long b) {
        return b == 0 ? a : (a == Long.MIN_VALUE && b == -1) ? 0 : a % b;
    }

    static long remu(long a, long b) {
        return b == 0 ? a : Long.remainderUnsigned(a, b);
    }

    static long divw(long x, long y) {
        int a = (int) x;
        int b = (int) y;
        return b == 0 ? -1 : (a == Integer.MIN_VALUE && b == -1) ? a : a / b;
    }

    static long divuw(long x, long y) {
        int b = (int) y;
        return b == 0 ? -1 : Integer.divideUnsigned((int) x, b);
    }

    static long remw(long x, long y) {
        int a = (int) x;
        int b = (int) y;
        return b == 0 ? a : (a == Integer.MIN_VALUE && b == -1) ? 0 : a % b;
    }

    static long remuw(long x, long y) {
        int b = (int) y;
        return b == 0 ? (int) x : Integer.remainderUnsigned((int) x, b);
    }
}
