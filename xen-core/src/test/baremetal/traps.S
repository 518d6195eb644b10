/* SPDX-License-Identifier: Apache-2.0 */
/* M-mode traps: illegal instruction (mcause, mtval, mepc), ecall from U and S, ebreak, delegation to S,
 * access faults, misaligned loads done in hardware, mret/sret state transitions. */
#include "test.h"
START
  /* handler protocol: s0 = expected mcause; handler stores mcause/mtval/mepc into s1/s2/s3, skips the insn */
  TEST(1)
  li s0, 2
  la s4, 1f
illegal_here:
  .word 0xffffffff
1:
  CHECK_EQ(s1, 2)
  li t6, 0xffffffff; bne s2, t6, fail
  la t6, illegal_here; bne s3, t6, fail

  TEST(2) /* ebreak: cause 3, mtval = pc (or 0) */
  li s0, 3
  la s4, 1f
  ebreak
1:
  CHECK_EQ(s1, 3)

  TEST(3) /* ecall from U: mret to U-mode, ecall, handler returns to s4 in M */
  li s0, 8
  la s4, 1f
  li t0, 0x1800; csrc mstatus, t0  /* MPP = U */
  la t0, user_code; csrw mepc, t0
  mret
1:
  CHECK_EQ(s1, 8)

  TEST(4) /* misaligned load is handled by hardware: no trap */
  li s0, 99
  la t0, data
  ld t1, 1(t0)
  li t6, 0x0807060504030201 >> 8
  li t2, 0x09; slli t2, t2, 56; or t6, t6, t2
  bne t1, t6, fail

  TEST(5) /* load from unmapped physical address: access fault, mtval = address */
  li s0, 5
  la s4, 1f
  li t0, 0x40000000
  ld t1, 0(t0)
1:
  CHECK_EQ(s1, 5)
  li t6, 0x40000000; bne s2, t6, fail

  TEST(6) /* delegate ecall-from-U to S; from S, sret to U, ecall lands in stvec with scause 8 */
  li t0, 1 << 8; csrw medeleg, t0
  la t0, s_handler; csrw stvec, t0
  li t0, 0x1800; csrc mstatus, t0; li t0, 0x0800; csrs mstatus, t0  /* MPP = S */
  la t0, super_code; csrw mepc, t0
  li s0, 9 /* after S handler, S does ecall -> M with cause 9 */
  la s4, 1f
  mret
1:
  CHECK_EQ(s1, 9)
  li t6, 8; bne s5, t6, fail      /* scause seen by the S handler */
  csrw medeleg, zero

  TEST(7) /* CSR that does not exist is illegal */
  li s0, 2
  la s4, 1f
  csrr t0, 0x7c0
1:
  CHECK_EQ(s1, 2)

  TEST(8) /* misa reports RV64 IMAFDC SU */
  csrr t0, misa
  srli t1, t0, 62; CHECK_EQ(t1, 2)
  li t2, 0x14112d; and t1, t0, t2; bne t1, t2, fail

  j pass

user_code:
  ecall
  j fail

super_code:
  li t0, 0x100; csrc sstatus, t0     /* SPP = U */
  la t0, user_code2; csrw sepc, t0
  sret
user_code2:
  ecall                               /* delegated: goes to s_handler */
  j fail
s_handler:
  csrr s5, scause
  ecall                               /* from S to M: cause 9 */
  j fail

EXPECT_TRAP_HANDLER

END
.data
data: .byte 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
