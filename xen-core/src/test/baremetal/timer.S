/* SPDX-License-Identifier: Apache-2.0 */
/* CLINT machine timer: mtime advances; an mtimecmp in the near future raises MTIP; WFI wakes on it; the vectored
 * mtvec entry for cause 7 is used; msip raises a software interrupt. */
#include "test.h"
#define CLINT 0x2000000
START
  TEST(1) /* mtime advances */
  li t0, CLINT + 0xbff8
  ld t1, 0(t0)
1: ld t2, 0(t0); beq t1, t2, 1b

  TEST(2) /* timer interrupt through WFI, vectored */
  la t0, vectors; ori t0, t0, 1; csrw mtvec, t0
  li s6, 0
  li t0, CLINT + 0xbff8; ld t1, 0(t0); addi t1, t1, 1000   /* 100 us ahead */
  li t0, CLINT + 0x4000; sd t1, 0(t0)
  li t0, 1 << 7; csrs mie, t0
  /* MIE stays 0: WFI wakes on the pending+enabled MTIP without taking it; setting MIE then takes it at once. */
2: wfi
  csrr t0, mip; andi t0, t0, 1 << 7; beqz t0, 2b
  csrsi mstatus, 8
  CHECK_EQ(s6, 7)

  TEST(3) /* machine software interrupt via msip */
  li s6, 0
  li t0, 1 << 3; csrs mie, t0
  li t0, CLINT; li t1, 1; sw t1, 0(t0)
3: beqz s6, 3b
  CHECK_EQ(s6, 3)
  j pass

.align 6
.option push
.option norvc
vectors:
  j fail        /* 0: exceptions */
  j fail
  j fail
  j msi         /* 3 */
  j fail
  j fail
  j fail
  j mti         /* 7 */
.option pop
msi:
  li s6, 3
  li t0, CLINT; sw zero, 0(t0)
  mret
mti:
  li s6, 7
  li t0, -1; li t1, CLINT + 0x4000; sd t0, 0(t1)
  mret
trap_entry:
  j fail
END
