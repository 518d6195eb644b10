// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.fpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hand-picked edge cases per instruction. Each row reads {@code mnemonic rm operands... -> result flags}; operands and
 * results are hex register values, rm is a mode name or {@code *} (same result in every mode), flags are
 * comma-separated names or {@code -}. Every row was also checked against QEMU with {@code fpuref -}.
 */
class FpuTest {

    static final String[] CASES = {
        // ---- fadd/fsub: signed zeros, infinities, NaNs, overflow per mode, halfway cases
        "fadd.s RNE 3f800000 bf800000 -> 0 -",
        "fadd.s RTZ 3f800000 bf800000 -> 0 -",
        "fadd.s RUP 3f800000 bf800000 -> 0 -",
        "fadd.s RMM 3f800000 bf800000 -> 0 -",
        "fadd.s RDN 3f800000 bf800000 -> 80000000 -",
        "fadd.s * 80000000 80000000 -> 80000000 -",
        "fadd.s RNE 80000000 0 -> 0 -",
        "fadd.s RDN 80000000 0 -> 80000000 -",
        "fsub.s RNE 3f800000 3f800000 -> 0 -",
        "fsub.s RDN 3f800000 3f800000 -> 80000000 -",
        "fsub.s * 80000000 0 -> 80000000 -",
        "fadd.s * 7f800000 ff800000 -> 7fc00000 NV",
        "fsub.s * 7f800000 7f800000 -> 7fc00000 NV",
        "fadd.s * 7f800000 ff7fffff -> 7f800000 -",
        "fadd.s * 7f800001 3f800000 -> 7fc00000 NV",
        "fadd.s * ffc00001 3f800000 -> 7fc00000 -",
        "fadd.s * 7fc00000 7f800001 -> 7fc00000 NV",
        "fadd.s RNE 7f7fffff 7f7fffff -> 7f800000 NX,OF",
        "fadd.s RTZ 7f7fffff 7f7fffff -> 7f7fffff NX,OF",
        "fadd.s RDN 7f7fffff 7f7fffff -> 7f7fffff NX,OF",
        "fadd.s RUP 7f7fffff 7f7fffff -> 7f800000 NX,OF",
        "fadd.s RMM 7f7fffff 7f7fffff -> 7f800000 NX,OF",
        "fadd.s RDN ff7fffff ff7fffff -> ff800000 NX,OF",
        "fadd.s RUP ff7fffff ff7fffff -> ff7fffff NX,OF",
        "fadd.s RNE 3f800000 33800000 -> 3f800000 NX",
        "fadd.s RMM 3f800000 33800000 -> 3f800001 NX",
        "fadd.s RUP 3f800000 33800000 -> 3f800001 NX",
        "fadd.s RTZ 3f800000 33800000 -> 3f800000 NX",
        "fadd.s RNE 3f800001 33800000 -> 3f800002 NX",
        "fadd.s RMM 3f800001 33800000 -> 3f800002 NX",
        "fadd.s RTZ 3f800001 33800000 -> 3f800001 NX",
        "fadd.s RNE bf800000 b3800000 -> bf800000 NX",
        "fadd.s RMM bf800000 b3800000 -> bf800001 NX",
        "fadd.s RDN bf800000 b3800000 -> bf800001 NX",
        "fadd.s RUP bf800000 b3800000 -> bf800000 NX",
        "fadd.s * 1 1 -> 2 -",
        "fadd.s * 807fffff 1 -> 807ffffe -",
        "fadd.s * 7fffff 1 -> 800000 -",
        "fsub.s * 3f800000 33800000 -> 3f7fffff -",
        "fsub.s RNE 3f800000 33000000 -> 3f800000 NX",
        "fsub.s RTZ 3f800000 33000000 -> 3f7fffff NX",
        "fadd.d RNE 3ff0000000000000 3ca0000000000000 -> 3ff0000000000000 NX",
        "fadd.d RMM 3ff0000000000000 3ca0000000000000 -> 3ff0000000000001 NX",
        "fadd.d RUP 3ff0000000000000 3ca0000000000000 -> 3ff0000000000001 NX",
        "fadd.d RDN 3ff0000000000000 bff0000000000000 -> 8000000000000000 -",
        "fadd.d RNE 3ff0000000000000 bff0000000000000 -> 0 -",
        "fadd.d RNE 7fefffffffffffff 7fefffffffffffff -> 7ff0000000000000 NX,OF",
        "fadd.d RTZ 7fefffffffffffff 7fefffffffffffff -> 7fefffffffffffff NX,OF",
        "fadd.d RNE 7fefffffffffffff 7c90000000000000 -> 7ff0000000000000 NX,OF",
        "fadd.d RTZ 7fefffffffffffff 7c90000000000000 -> 7fefffffffffffff NX",
        "fadd.d RNE 7fefffffffffffff 7c8fffffffffffff -> 7fefffffffffffff NX",
        "fadd.d RUP 7fefffffffffffff 1 -> 7ff0000000000000 NX,OF",
        "fadd.d RDN ffefffffffffffff 8000000000000001 -> fff0000000000000 NX,OF",
        "fadd.d * 7ff0000000000001 0 -> 7ff8000000000000 NV",
        "fadd.d * fff0000000000000 7ff0000000000000 -> 7ff8000000000000 NV",
        "fadd.d RNE 8000000000000001 1 -> 0 -",
        "fadd.d RDN 8000000000000001 1 -> 8000000000000000 -",
        "fsub.d RDN 1 1 -> 8000000000000000 -",
        "fsub.d RNE 10000000000000 1 -> fffffffffffff -",

        // ---- fmul: inf*0, tininess after rounding, underflow to zero, overflow per mode
        "fmul.s * 7f800000 0 -> 7fc00000 NV",
        "fmul.s * 80000000 3f800000 -> 80000000 -",
        "fmul.s * ff800000 bf800000 -> 7f800000 -",
        "fmul.s * 800000 3f000000 -> 400000 -",
        "fmul.s RNE 800001 3f000000 -> 400000 NX,UF",
        "fmul.s RUP 800001 3f000000 -> 400001 NX,UF",
        "fmul.s RMM 800001 3f000000 -> 400001 NX,UF",
        "fmul.s RNE 3f7fffff 800000 -> 800000 NX,UF",
        "fmul.s RTZ 3f7fffff 800000 -> 7fffff NX,UF",
        "fmul.s RNE 7fffff 3f800001 -> 800000 NX",
        "fmul.s RUP 7fffff 3f800001 -> 800000 NX",
        "fmul.s RMM 7fffff 3f800001 -> 800000 NX",
        "fmul.s RTZ 7fffff 3f800001 -> 7fffff NX,UF",
        "fmul.s RDN 7fffff 3f800001 -> 7fffff NX,UF",
        "fmul.s RNE 1 3e800000 -> 0 NX,UF",
        "fmul.s RUP 1 3e800000 -> 1 NX,UF",
        "fmul.s RDN 80000001 3e800000 -> 80000001 NX,UF",
        "fmul.s RNE 1 3f000000 -> 0 NX,UF",
        "fmul.s RMM 1 3f000000 -> 1 NX,UF",
        "fmul.s RNE 3 3f000000 -> 2 NX,UF",
        "fmul.s RNE 7f7fffff 40000000 -> 7f800000 NX,OF",
        "fmul.s RTZ 7f7fffff 40000000 -> 7f7fffff NX,OF",
        "fmul.s RDN 7f7fffff 40000000 -> 7f7fffff NX,OF",
        "fmul.s RUP 7f7fffff 40000000 -> 7f800000 NX,OF",
        "fmul.s RDN ff7fffff 40000000 -> ff800000 NX,OF",
        "fmul.s RUP ff7fffff 40000000 -> ff7fffff NX,OF",
        "fmul.d RNE 1 3fe0000000000000 -> 0 NX,UF",
        "fmul.d RMM 1 3fe0000000000000 -> 1 NX,UF",
        "fmul.d RNE 3fefffffffffffff 10000000000000 -> 10000000000000 NX,UF",
        "fmul.d RNE fffffffffffff 3ff0000000000001 -> 10000000000000 NX",
        "fmul.d RTZ fffffffffffff 3ff0000000000001 -> fffffffffffff NX,UF",
        "fmul.d RTZ 7fefffffffffffff 4000000000000000 -> 7fefffffffffffff NX,OF",
        "fmul.d RNE 7fefffffffffffff 4000000000000000 -> 7ff0000000000000 NX,OF",
        "fmul.d RNE 3ff0000000000001 3ff0000000000001 -> 3ff0000000000002 NX",
        "fmul.d RUP 3ff0000000000001 3ff0000000000001 -> 3ff0000000000003 NX",
        "fmul.d * fff0000000000000 8000000000000000 -> 7ff8000000000000 NV",

        // ---- fdiv: divide by zero, invalid, inexact per mode
        "fdiv.s * 3f800000 0 -> 7f800000 DZ",
        "fdiv.s * bf800000 0 -> ff800000 DZ",
        "fdiv.s * 3f800000 80000000 -> ff800000 DZ",
        "fdiv.s * 0 0 -> 7fc00000 NV",
        "fdiv.s * 7f800000 ff800000 -> 7fc00000 NV",
        "fdiv.s * 7f800000 0 -> 7f800000 -",
        "fdiv.s * 0 7f800000 -> 0 -",
        "fdiv.s * 80000000 3f800000 -> 80000000 -",
        "fdiv.s * 3f800000 ff800000 -> 80000000 -",
        "fdiv.s * 40400000 40000000 -> 3fc00000 -",
        "fdiv.s RNE 3f800000 40400000 -> 3eaaaaab NX",
        "fdiv.s RTZ 3f800000 40400000 -> 3eaaaaaa NX",
        "fdiv.s RDN 3f800000 40400000 -> 3eaaaaaa NX",
        "fdiv.s RUP 3f800000 40400000 -> 3eaaaaab NX",
        "fdiv.s RMM 3f800000 40400000 -> 3eaaaaab NX",
        "fdiv.s RDN bf800000 40400000 -> beaaaaab NX",
        "fdiv.s RNE 7f7fffff 3f000000 -> 7f800000 NX,OF",
        "fdiv.s RTZ 7f7fffff 3f000000 -> 7f7fffff NX,OF",
        "fdiv.s RNE 1 40000000 -> 0 NX,UF",
        "fdiv.s RNE 800000 40000000 -> 400000 -",
        "fdiv.d RNE 3ff0000000000000 4008000000000000 -> 3fd5555555555555 NX",
        "fdiv.d RUP 3ff0000000000000 4008000000000000 -> 3fd5555555555556 NX",
        "fdiv.d RTZ bff0000000000000 4008000000000000 -> bfd5555555555555 NX",
        "fdiv.d * 3ff0000000000000 0 -> 7ff0000000000000 DZ",
        "fdiv.d * 7ff8000000000000 0 -> 7ff8000000000000 -",
        "fdiv.d RNE 1 4000000000000000 -> 0 NX,UF",
        "fdiv.d RUP 1 4000000000000000 -> 1 NX,UF",
        "fdiv.d RNE 7fefffffffffffff 3fe0000000000000 -> 7ff0000000000000 NX,OF",
        "fdiv.d * 10000000000000 4000000000000000 -> 8000000000000 -",

        // ---- fsqrt
        "fsqrt.s * 40800000 -> 40000000 -",
        "fsqrt.s RNE 40000000 -> 3fb504f3 NX",
        "fsqrt.s RUP 40000000 -> 3fb504f4 NX",
        "fsqrt.s RTZ 40000000 -> 3fb504f3 NX",
        "fsqrt.s * bf800000 -> 7fc00000 NV",
        "fsqrt.s * 80000000 -> 80000000 -",
        "fsqrt.s * 0 -> 0 -",
        "fsqrt.s * ff800000 -> 7fc00000 NV",
        "fsqrt.s * 7f800000 -> 7f800000 -",
        "fsqrt.s * 7f800001 -> 7fc00000 NV",
        "fsqrt.s * ffc00000 -> 7fc00000 -",
        "fsqrt.s * 80000001 -> 7fc00000 NV",
        "fsqrt.s RNE 1 -> 1a3504f3 NX",
        "fsqrt.s RUP 1 -> 1a3504f4 NX",
        "fsqrt.d RNE 4000000000000000 -> 3ff6a09e667f3bcd NX",
        "fsqrt.d RUP 4000000000000000 -> 3ff6a09e667f3bcd NX",
        "fsqrt.d RDN 4000000000000000 -> 3ff6a09e667f3bcc NX",
        "fsqrt.d * 1 -> 1e60000000000000 -",
        "fsqrt.d * 4 -> 1e70000000000000 -",
        "fsqrt.d * 8000000000000000 -> 8000000000000000 -",
        "fsqrt.d * bff0000000000000 -> 7ff8000000000000 NV",
        "fsqrt.d RNE 7fefffffffffffff -> 5fefffffffffffff NX",
        "fsqrt.d RUP 7fefffffffffffff -> 5ff0000000000000 NX",

        // ---- fused multiply-add: one rounding, zero signs, inf*0 + qNaN
        "fmadd.s * 0 7f800000 7fc00000 -> 7fc00000 NV",
        "fmadd.s * 7f800000 0 3f800000 -> 7fc00000 NV",
        "fmadd.s * 7f800000 3f800000 ff800000 -> 7fc00000 NV",
        "fmadd.s * 7f800000 3f800000 7f800000 -> 7f800000 -",
        "fmadd.s * 3f800000 3f800000 7fc00000 -> 7fc00000 -",
        "fmadd.s * 3f800000 3f800000 7f800001 -> 7fc00000 NV",
        "fmadd.s * 3f800000 3f800000 ff800000 -> ff800000 -",
        "fmadd.s RNE 3f800000 3f800000 bf800000 -> 0 -",
        "fmadd.s RDN 3f800000 3f800000 bf800000 -> 80000000 -",
        "fmadd.s * 80000000 3f800000 80000000 -> 80000000 -",
        "fmadd.s RNE 0 bf800000 0 -> 0 -",
        "fmadd.s RDN 0 bf800000 0 -> 80000000 -",
        "fmadd.s * 0 3f800000 1 -> 1 -",
        "fmadd.s * 3f800800 3f800800 bf800000 -> 3a000400 -",
        "fmadd.s RNE 3f800000 3f800000 1 -> 3f800000 NX",
        "fmadd.s RUP 3f800000 3f800000 1 -> 3f800001 NX",
        "fmadd.s RTZ 3f800000 3f800000 80000001 -> 3f7fffff NX",
        "fmadd.s RNE 7f7fffff 40000000 ff7fffff -> 7f7fffff -",
        "fmadd.s RNE 1 3f000000 0 -> 0 NX,UF",
        "fmsub.s RNE 3f800000 3f800000 3f800000 -> 0 -",
        "fmsub.s RDN 3f800000 3f800000 3f800000 -> 80000000 -",
        "fnmsub.s RNE 3f800000 3f800000 3f800000 -> 0 -",
        "fnmsub.s RDN 3f800000 3f800000 3f800000 -> 80000000 -",
        "fnmadd.s * 3f800000 3f800000 3f800000 -> c0000000 -",
        "fnmadd.s * 0 3f800000 0 -> 80000000 -",
        "fnmsub.s RNE 0 3f800000 0 -> 0 -",
        "fnmsub.s RDN 0 3f800000 0 -> 80000000 -",
        "fmsub.s RNE 0 3f800000 0 -> 0 -",
        "fmsub.s RDN 0 3f800000 0 -> 80000000 -",
        "fnmadd.s RUP 7f7fffff 40000000 0 -> ff7fffff NX,OF",
        "fmadd.d * 3ff0000002000000 3ff0000002000000 bff0000000000000 -> 3e50000001000000 -",
        "fmadd.d * 7fefffffffffffff 4000000000000000 ffefffffffffffff -> 7fefffffffffffff -",
        "fmadd.d RNE 3ff0000000000000 3ff0000000000000 19b0000000000000 -> 3ff0000000000000 NX",
        "fmadd.d RUP 3ff0000000000000 3ff0000000000000 19b0000000000000 -> 3ff0000000000001 NX",
        "fmsub.d RTZ 3ff0000000000000 3ff0000000000000 19b0000000000000 -> 3fefffffffffffff NX",
        "fmsub.d RNE 3ff0000000000000 3ff0000000000000 19b0000000000000 -> 3ff0000000000000 NX",
        "fmadd.d * 0 7ff0000000000000 7ff8000000000000 -> 7ff8000000000000 NV",
        "fmadd.d RNE 3ff0000000000000 3ff0000000000000 bff0000000000000 -> 0 -",
        "fmadd.d RDN 3ff0000000000000 3ff0000000000000 bff0000000000000 -> 8000000000000000 -",
        "fmadd.d RNE 1 3fe0000000000000 8000000000000000 -> 0 NX,UF",
        "fmadd.d RNE 10000000000000 3fefffffffffffff 1 -> 10000000000000 NX",
        "fnmadd.d RNE 10000000000000 3fefffffffffffff 8000000000000001 -> 800ffffffffffffe NX,UF",

        // ---- fmin/fmax: -0 < +0, one NaN returns the other, sNaN raises NV
        "fmin.s RNE 80000000 0 -> 80000000 -",
        "fmin.s RNE 0 80000000 -> 80000000 -",
        "fmax.s RNE 80000000 0 -> 0 -",
        "fmax.s RNE 0 80000000 -> 0 -",
        "fmin.s RNE 7fc00000 3f800000 -> 3f800000 -",
        "fmax.s RNE 3f800000 ffc00000 -> 3f800000 -",
        "fmin.s RNE 7f800001 3f800000 -> 3f800000 NV",
        "fmax.s RNE 3f800000 7fa00000 -> 3f800000 NV",
        "fmin.s RNE 7fc00000 7fc00001 -> 7fc00000 -",
        "fmax.s RNE 7f800001 7fc00000 -> 7fc00000 NV",
        "fmin.s RNE ff800000 7f800000 -> ff800000 -",
        "fmax.s RNE ff800000 7f800000 -> 7f800000 -",
        "fmin.s RNE bf800000 c0000000 -> c0000000 -",
        "fmax.s RNE 1 2 -> 2 -",
        "fmin.d RNE 8000000000000000 0 -> 8000000000000000 -",
        "fmax.d RNE 8000000000000000 0 -> 0 -",
        "fmin.d RNE 7ff0000000000001 3ff0000000000000 -> 3ff0000000000000 NV",
        "fmax.d RNE fff8000000000000 7ff8000000000000 -> 7ff8000000000000 -",
        "fmax.d RNE bff0000000000000 8000000000000001 -> 8000000000000001 -",

        // ---- feq (quiet), flt/fle (signaling)
        "feq.s RNE 7fc00000 3f800000 -> 0 -",
        "feq.s RNE 7f800001 3f800000 -> 0 NV",
        "flt.s RNE 7fc00000 3f800000 -> 0 NV",
        "fle.s RNE 3f800000 7fc00000 -> 0 NV",
        "feq.s RNE 0 80000000 -> 1 -",
        "flt.s RNE 80000000 0 -> 0 -",
        "fle.s RNE 80000000 0 -> 1 -",
        "flt.s RNE 3f800000 40000000 -> 1 -",
        "flt.s RNE ff800000 ff7fffff -> 1 -",
        "fle.s RNE 7f800000 7f800000 -> 1 -",
        "feq.d RNE 7ff8000000000000 7ff8000000000000 -> 0 -",
        "feq.d RNE 7ff4000000000000 0 -> 0 NV",
        "flt.d RNE 0 7ff8000000000000 -> 0 NV",
        "fle.d RNE 8000000000000000 0 -> 1 -",
        "flt.d RNE 1 2 -> 1 -",

        // ---- fclass: all ten classes
        "fclass.s RNE ff800000 -> 1 -",
        "fclass.s RNE bf800000 -> 2 -",
        "fclass.s RNE 807fffff -> 4 -",
        "fclass.s RNE 80000000 -> 8 -",
        "fclass.s RNE 0 -> 10 -",
        "fclass.s RNE 1 -> 20 -",
        "fclass.s RNE 7f7fffff -> 40 -",
        "fclass.s RNE 7f800000 -> 80 -",
        "fclass.s RNE 7f800001 -> 100 -",
        "fclass.s RNE ffc00000 -> 200 -",
        "fclass.d RNE fff0000000000000 -> 1 -",
        "fclass.d RNE 8010000000000000 -> 2 -",
        "fclass.d RNE 8000000000000001 -> 4 -",
        "fclass.d RNE 8000000000000000 -> 8 -",
        "fclass.d RNE 0 -> 10 -",
        "fclass.d RNE fffffffffffff -> 20 -",
        "fclass.d RNE 3ff0000000000000 -> 40 -",
        "fclass.d RNE 7ff0000000000000 -> 80 -",
        "fclass.d RNE 7ff7ffffffffffff -> 100 -",
        "fclass.d RNE 7ff8000000000000 -> 200 -",

        // ---- float -> integer: saturation, NaN, -0.5 per mode, sign extension of W/WU results
        "fcvt.w.s * 4f000000 -> 7fffffff NV",
        "fcvt.w.s * cf000000 -> ffffffff80000000 -",
        "fcvt.w.s * cf000001 -> ffffffff80000000 NV",
        "fcvt.w.s * 4effffff -> 7fffff80 -",
        "fcvt.w.s * 7fc00000 -> 7fffffff NV",
        "fcvt.w.s * ffc00000 -> 7fffffff NV",
        "fcvt.w.s * 7f800001 -> 7fffffff NV",
        "fcvt.w.s * 7f800000 -> 7fffffff NV",
        "fcvt.w.s * ff800000 -> ffffffff80000000 NV",
        "fcvt.w.s * 80000000 -> 0 -",
        "fcvt.w.s RNE bf000000 -> 0 NX",
        "fcvt.w.s RTZ bf000000 -> 0 NX",
        "fcvt.w.s RDN bf000000 -> ffffffffffffffff NX",
        "fcvt.w.s RUP bf000000 -> 0 NX",
        "fcvt.w.s RMM bf000000 -> ffffffffffffffff NX",
        "fcvt.w.s RNE 3fc00000 -> 2 NX",
        "fcvt.w.s RNE 40200000 -> 2 NX",
        "fcvt.w.s RMM 40200000 -> 3 NX",
        "fcvt.w.s RUP 1 -> 1 NX",
        "fcvt.w.s RDN 1 -> 0 NX",
        "fcvt.w.s RDN 80000001 -> ffffffffffffffff NX",
        "fcvt.wu.s RNE bf000000 -> 0 NX",
        "fcvt.wu.s RTZ bf000000 -> 0 NX",
        "fcvt.wu.s RDN bf000000 -> 0 NV",
        "fcvt.wu.s RUP bf000000 -> 0 NX",
        "fcvt.wu.s RMM bf000000 -> 0 NV",
        "fcvt.wu.s * bf800000 -> 0 NV",
        "fcvt.wu.s * 4f800000 -> ffffffffffffffff NV",
        "fcvt.wu.s * 4f7fffff -> ffffffffffffff00 -",
        "fcvt.wu.s * 7fc00000 -> ffffffffffffffff NV",
        "fcvt.wu.s * ff800000 -> 0 NV",
        "fcvt.l.s * 5f000000 -> 7fffffffffffffff NV",
        "fcvt.l.s * df000000 -> 8000000000000000 -",
        "fcvt.l.s * 7fc00000 -> 7fffffffffffffff NV",
        "fcvt.lu.s * 5f800000 -> ffffffffffffffff NV",
        "fcvt.lu.s * 5f7fffff -> ffffff0000000000 -",
        "fcvt.lu.s * bf800000 -> 0 NV",
        "fcvt.lu.s * 7fc00000 -> ffffffffffffffff NV",
        "fcvt.w.d * c1e0000000200000 -> ffffffff80000000 NV",
        "fcvt.w.d RTZ c1e0000000100000 -> ffffffff80000000 NX",
        "fcvt.w.d RNE c1e0000000100000 -> ffffffff80000000 NX",
        "fcvt.w.d RMM c1e0000000100000 -> ffffffff80000000 NV",
        "fcvt.w.d RDN c1e0000000100000 -> ffffffff80000000 NV",
        "fcvt.w.d RNE 41dfffffffe00000 -> 7fffffff NV",
        "fcvt.w.d RTZ 41dfffffffe00000 -> 7fffffff NX",
        "fcvt.w.d RMM 41dfffffffe00000 -> 7fffffff NV",
        "fcvt.w.d * 41e0000000000000 -> 7fffffff NV",
        "fcvt.wu.d * 41efffffffe00000 -> ffffffffffffffff -",
        "fcvt.wu.d RTZ 41efffffffe00001 -> ffffffffffffffff NX",
        "fcvt.wu.d RUP 41efffffffe00001 -> ffffffffffffffff NV",
        "fcvt.wu.d * 41f0000000000000 -> ffffffffffffffff NV",
        "fcvt.wu.d * 41e0000000000000 -> ffffffff80000000 -",
        "fcvt.l.d * 43e0000000000000 -> 7fffffffffffffff NV",
        "fcvt.l.d * c3e0000000000000 -> 8000000000000000 -",
        "fcvt.l.d * c3e0000000000001 -> 8000000000000000 NV",
        "fcvt.l.d RNE 4004000000000000 -> 2 NX",
        "fcvt.l.d RMM 4004000000000000 -> 3 NX",
        "fcvt.l.d RNE 400c000000000000 -> 4 NX",
        "fcvt.l.d RMM c004000000000000 -> fffffffffffffffd NX",
        "fcvt.l.d * 7ff8000000000000 -> 7fffffffffffffff NV",
        "fcvt.l.d * fff0000000000000 -> 8000000000000000 NV",
        "fcvt.lu.d * bff0000000000000 -> 0 NV",
        "fcvt.lu.d * 8000000000000000 -> 0 -",
        "fcvt.lu.d RNE 3fe0000000000000 -> 0 NX",
        "fcvt.lu.d RUP 3fe0000000000000 -> 1 NX",
        "fcvt.lu.d RMM 3fe0000000000000 -> 1 NX",
        "fcvt.lu.d * 43efffffffffffff -> fffffffffffff800 -",
        "fcvt.lu.d * 43f0000000000000 -> ffffffffffffffff NV",
        "fcvt.lu.d * 7ff0000000000000 -> ffffffffffffffff NV",

        // ---- integer -> float: rounding per mode, upper bits of W operands ignored
        "fcvt.s.w RNE 7fffffff -> 4f000000 NX",
        "fcvt.s.w RTZ 7fffffff -> 4effffff NX",
        "fcvt.s.w * 123456780000000a -> 41200000 -",
        "fcvt.s.w * 80000000 -> cf000000 -",
        "fcvt.s.w * ffffffff -> bf800000 -",
        "fcvt.s.w * 0 -> 0 -",
        "fcvt.s.wu RNE ffffffff -> 4f800000 NX",
        "fcvt.s.wu RTZ ffffffff -> 4f7fffff NX",
        "fcvt.s.wu * ffffffff80000000 -> 4f000000 -",
        "fcvt.s.l * 8000000000000000 -> df000000 -",
        "fcvt.s.l RNE 1000001 -> 4b800000 NX",
        "fcvt.s.l RMM 1000001 -> 4b800001 NX",
        "fcvt.s.l RUP 1000001 -> 4b800001 NX",
        "fcvt.s.l RDN fffffffffeffffff -> cb800001 NX",
        "fcvt.s.l RUP fffffffffeffffff -> cb800000 NX",
        "fcvt.s.l RNE 1000003 -> 4b800002 NX",
        "fcvt.s.lu RNE ffffffffffffffff -> 5f800000 NX",
        "fcvt.s.lu RTZ ffffffffffffffff -> 5f7fffff NX",
        "fcvt.s.lu * 8000000000000000 -> 5f000000 -",
        "fcvt.d.w RNE ffffffff -> bff0000000000000 -",
        "fcvt.d.w RNE 7fffffff -> 41dfffffffc00000 -",
        "fcvt.d.wu RNE ffffffff -> 41efffffffe00000 -",
        "fcvt.d.wu RNE ffffffff00000000 -> 0 -",
        "fcvt.d.l RNE 20000000000001 -> 4340000000000000 NX",
        "fcvt.d.l RMM 20000000000001 -> 4340000000000001 NX",
        "fcvt.d.l RDN ffdfffffffffffff -> c340000000000001 NX",
        "fcvt.d.l * 8000000000000000 -> c3e0000000000000 -",
        "fcvt.d.l RNE 7fffffffffffffff -> 43e0000000000000 NX",
        "fcvt.d.l RTZ 7fffffffffffffff -> 43dfffffffffffff NX",
        "fcvt.d.lu RNE ffffffffffffffff -> 43f0000000000000 NX",
        "fcvt.d.lu RTZ ffffffffffffffff -> 43efffffffffffff NX",

        // ---- fcvt.s.d / fcvt.d.s: NaN canonicalisation, overflow, underflow, halfway
        "fcvt.s.d * 3ff0000000000000 -> 3f800000 -",
        "fcvt.s.d * 7ff0000000000001 -> 7fc00000 NV",
        "fcvt.s.d * 7ff8000000000123 -> 7fc00000 -",
        "fcvt.s.d * fff0000000000000 -> ff800000 -",
        "fcvt.s.d * 8000000000000000 -> 80000000 -",
        "fcvt.s.d RNE 7fefffffffffffff -> 7f800000 NX,OF",
        "fcvt.s.d RTZ 7fefffffffffffff -> 7f7fffff NX,OF",
        "fcvt.s.d RNE 47efffffefffffff -> 7f7fffff NX",
        "fcvt.s.d RNE 47efffffe0000000 -> 7f7fffff -",
        "fcvt.s.d RNE 47efffffffffffff -> 7f800000 NX,OF",
        "fcvt.s.d * 36a0000000000000 -> 1 -",
        "fcvt.s.d RNE 3690000000000000 -> 0 NX,UF",
        "fcvt.s.d RUP 3690000000000000 -> 1 NX,UF",
        "fcvt.s.d RMM 3690000000000000 -> 1 NX,UF",
        "fcvt.s.d RNE 8000000000000001 -> 80000000 NX,UF",
        "fcvt.s.d RDN 8000000000000001 -> 80000001 NX,UF",
        "fcvt.s.d RNE 3ff0000010000000 -> 3f800000 NX",
        "fcvt.s.d RMM 3ff0000010000000 -> 3f800001 NX",
        "fcvt.s.d RNE 380fffffe0000000 -> 800000 NX,UF",
        "fcvt.s.d RNE 380fffffefffffff -> 800000 NX,UF",
        "fcvt.s.d RNE 380ffffff0000001 -> 800000 NX",
        "fcvt.s.d RTZ 380ffffff0000001 -> 7fffff NX,UF",
        "fcvt.d.s * 7f800001 -> 7ff8000000000000 NV",
        "fcvt.d.s * ffc00000 -> 7ff8000000000000 -",
        "fcvt.d.s * 1 -> 36a0000000000000 -",
        "fcvt.d.s * ff800000 -> fff0000000000000 -",
        "fcvt.d.s * 80000000 -> 8000000000000000 -",
        "fcvt.d.s * 3f800001 -> 3ff0000020000000 -",
    };

    record Case(String text, String op, int rm, long[] in, long expected, int flags) {
        @Override
        public String toString() {
            return text;
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (String text : CASES) {
            String[] f = text.split(" ");
            int arrow = Arrays.asList(f).indexOf("->");
            long[] in = new long[arrow - 2];
            for (int i = 0; i < in.length; i++) {
                in[i] = Long.parseUnsignedLong(f[2 + i], 16);
            }
            long expected = Long.parseUnsignedLong(f[arrow + 1], 16);
            int flags = parseFlags(f[arrow + 2]);
            if (f[1].equals("*")) {
                for (int rm = Fpu.RNE; rm <= Fpu.RMM; rm++) {
                    out.add(new Case(text.replace(" * ", " " + FpuOps.RM_NAMES[rm] + " "), f[0], rm, in, expected,
                            flags));
                }
            } else {
                out.add(new Case(text, f[0], Arrays.asList(FpuOps.RM_NAMES).indexOf(f[1]), in, expected, flags));
            }
        }
        return out.stream();
    }

    private static int parseFlags(String s) {
        int flags = 0;
        if (!s.equals("-")) {
            for (String name : s.split(",")) {
                int bit = Arrays.asList(FpuOps.FLAG_NAMES).indexOf(name);
                assertThat(bit).as("flag name %s", name).isNotNegative();
                flags |= 1 << bit;
            }
        }
        return flags;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void edgeCase(Case c) {
        Fpu fpu = new Fpu();
        long actual = FpuOps.execute(fpu, c.op(), c.rm(), c.in());
        assertThat(Long.toHexString(actual) + " " + FpuOps.flagNames(fpu.flags()))
                .isEqualTo(Long.toHexString(c.expected()) + " " + FpuOps.flagNames(c.flags()));
    }

    @Test
    void flagsAccumulateUntilCleared() {
        Fpu fpu = new Fpu();
        assertThat(fpu.flags()).isZero();
        fpu.divS(0x3f800000, 0, Fpu.RNE); // DZ
        fpu.addS(0x3f800000, 0x33800000, Fpu.RNE); // NX
        fpu.addS(0x40000000, 0x40000000, Fpu.RNE); // exact: leaves the accumulator alone
        assertThat(fpu.flags()).isEqualTo(Fpu.DZ | Fpu.NX);
        fpu.setFlags(0xff);
        assertThat(fpu.flags()).isEqualTo(0x1f);
        fpu.setFlags(0);
        assertThat(fpu.flags()).isZero();
    }

    @Test
    void constantsMatchTheRiscvEncodings() {
        assertThat(new int[] {Fpu.NX, Fpu.UF, Fpu.OF, Fpu.DZ, Fpu.NV}).containsExactly(1, 2, 4, 8, 16);
        assertThat(new int[] {Fpu.RNE, Fpu.RTZ, Fpu.RDN, Fpu.RUP, Fpu.RMM}).containsExactly(0, 1, 2, 3, 4);
        assertThat(Fpu.CANONICAL_NAN_S).isEqualTo(0x7fc00000);
        assertThat(Fpu.CANONICAL_NAN_D).isEqualTo(0x7ff8000000000000L);
    }
}
