/* SPDX-License-Identifier: Apache-2.0 */
/* F/D through the CPU: mstatus.FS gating, dynamic and static rounding modes, fflags accumulation via fcsr,
 * NaN-boxing of single values in 64-bit registers, canonical NaNs, conversions with saturation. */
#include "test.h"
START
  li t0, 1 << 13; csrs mstatus, t0       /* FS = Initial */

  TEST(1) /* 1.0f / 3.0f rounds differently with RUP and RDN; both inexact */
  li t0, 0x3f800000; fmv.w.x f1, t0
  li t0, 0x40400000; fmv.w.x f2, t0
  csrw fflags, zero
  fdiv.s f3, f1, f2, rup
  fdiv.s f4, f1, f2, rdn
  fmv.x.w t1, f3; fmv.x.w t2, f4
  sub t3, t1, t2; CHECK_EQ(t3, 1)          /* adjacent floats */
  csrr t4, fflags; CHECK_EQ(t4, 1)         /* NX */

  TEST(2) /* division by zero flag and infinity */
  csrw fflags, zero
  fmv.w.x f5, zero
  fdiv.s f6, f1, f5
  fmv.x.w t1, f6; li t6, 0x7f800000; bne t1, t6, fail
  csrr t4, fflags; CHECK_EQ(t4, 8)         /* DZ */

  TEST(3) /* sqrt(-1.0) = canonical NaN, NV */
  csrw fflags, zero
  li t0, 0xbff0000000000000; fmv.d.x f7, t0
  fsqrt.d f8, f7
  fmv.x.d t1, f8; li t6, 0x7ff8000000000000; bne t1, t6, fail
  csrr t4, fflags; CHECK_EQ(t4, 16)

  TEST(4) /* single op on a non-boxed value reads as canonical NaN */
  li t0, 0x000000003f800000; fmv.d.x f9, t0    /* upper bits zero: not NaN-boxed */
  fadd.s f10, f9, f1
  fmv.x.d t1, f10; li t6, 0xffffffff7fc00000; bne t1, t6, fail

  TEST(5) /* fcvt.w.s saturates and raises NV; dynamic rm from frm */
  csrw fflags, zero
  li t0, 0x4f800000; fmv.w.x f11, t0           /* 2^32 */
  fcvt.w.s t1, f11, rtz
  li t6, 0x7fffffff; bne t1, t6, fail
  csrr t4, fflags; CHECK_EQ(t4, 16)
  li t0, 0x3fc00000; fmv.w.x f12, t0           /* 1.5 */
  fsrmi 2                                      /* RDN */
  fcvt.w.s t1, f12
  CHECK_EQ(t1, 1)
  fsrmi 3                                      /* RUP */
  fcvt.w.s t1, f12
  CHECK_EQ(t1, 2)
  csrr t2, fcsr; srli t2, t2, 5; CHECK_EQ(t2, 3)

  TEST(6) /* invalid dynamic rounding mode makes FP arithmetic illegal */
  li s0, 2
  la s4, 1f
  fsrmi 5
  fadd.s f13, f1, f1
  j fail
1:
  fsrmi 0

  TEST(7) /* FS = Off: any FP instruction is illegal; flw/fsw round trip when on */
  la t0, fbuf; flw f14, 0(t0); fsw f14, 4(t0); lw t1, 4(t0); li t6, 0x40490fdb; bne t1, t6, fail
  li t0, 3 << 13; csrc mstatus, t0
  li s0, 2
  la s4, 2f
  fmv.w.x f1, zero
  j fail
2:
  j pass

EXPECT_TRAP_HANDLER
END
.data
fbuf: .word 0x40490fdb, 0
