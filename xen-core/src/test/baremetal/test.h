/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal bare-metal test harness in the riscv-tests style: gp holds the current test number; PASS writes 1 to
 * tohost, FAIL writes (gp << 1) | 1. The runner (dev.domus.xen.cli.RunElf) turns that into the exit status. */
#define TESTNUM gp

#define START                                   \
  .section .text.init;                          \
  .globl _start;                                \
  _start:                                       \
  la t0, trap_entry; csrw mtvec, t0;            \
  li TESTNUM, 0;

#define TEST(n) li TESTNUM, n;

#define CHECK_EQ(reg, val) li t6, val; bne reg, t6, fail;

/* Trap handler for tests that expect a trap: s0 = expected mcause; records mcause/mtval/mepc in s1/s2/s3 and
 * returns in M-mode to the address in s4. */
#define EXPECT_TRAP_HANDLER                     \
  .align 4;                                     \
  trap_entry:                                   \
  csrr s1, mcause; csrr s2, mtval; csrr s3, mepc; \
  bne s1, s0, fail;                             \
  li t0, 0x1800; csrs mstatus, t0;              \
  csrw mepc, s4;                                \
  mret;

#define END                                     \
  pass: li t0, 1; la t1, tohost; sd t0, 0(t1); 1: j 1b; \
  fail: slli t0, TESTNUM, 1; ori t0, t0, 1; la t1, tohost; sd t0, 0(t1); 2: j 2b; \
  .section .tohost, "aw"; .align 6; .globl tohost; tohost: .dword 0; .align 6; .globl fromhost; fromhost: .dword 0;
