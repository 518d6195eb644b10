/* SPDX-License-Identifier: Apache-2.0 */
/* Sv39 from S-mode: a gigapage identity map for code, a 4 KiB page mapping a virtual address to a data page,
 * hardware A/D updates, a page fault with stval, SUM for user pages, and SFENCE.VMA after a PTE change. */
#include "test.h"
#define PTE_V 1
#define PTE_R 2
#define PTE_W 4
#define PTE_X 8
#define PTE_U 16
#define PTE_A 64
#define PTE_D 128
START
  /* root[2] = gigapage 0x80000000 RWX (identity) */
  la t0, root
  li t1, (0x80000000 >> 12) << 10 | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  sd t1, 16(t0)
  /* root[0] -> l1; l1[0] -> l0; l0[1] = data page (VA 0x1000), RW, A/D clear */
  la t1, l1; srli t1, t1, 12; slli t1, t1, 10; ori t1, t1, PTE_V; sd t1, 0(t0)
  la t2, l1; la t1, l0; srli t1, t1, 12; slli t1, t1, 10; ori t1, t1, PTE_V; sd t1, 0(t2)
  la t2, l0; la t1, page; srli t1, t1, 12; slli t1, t1, 10; ori t1, t1, PTE_V | PTE_R | PTE_W; sd t1, 8(t2)
  /* l0[2] = user page (VA 0x2000) */
  la t1, page2; srli t1, t1, 12; slli t1, t1, 10; ori t1, t1, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D; sd t1, 16(t2)
  la t0, root; srli t0, t0, 12; li t1, 8; slli t1, t1, 60; or t0, t0, t1; csrw satp, t0
  sfence.vma
  /* enter S-mode */
  li t0, 0x1800; csrc mstatus, t0; li t0, 0x0800; csrs mstatus, t0
  la t0, smode; csrw mepc, t0
  mret

smode:
  TEST(1) /* load through the 4 KiB mapping sets A */
  li t0, 0x1000
  ld t1, 0(t0)
  li t6, 0x1122334455667788; bne t1, t6, fail
  la t2, l0; ld t3, 8(t2); andi t4, t3, PTE_A; beqz t4, fail; andi t4, t3, PTE_D; bnez t4, fail

  TEST(2) /* store sets D */
  li t1, 42; sd t1, 8(t0)
  ld t3, 8(t2); andi t4, t3, PTE_D; beqz t4, fail
  la t5, page; ld t1, 8(t5); CHECK_EQ(t1, 42)

  TEST(3) /* unmapped VA 0x5000: page fault goes to M (not delegated) with cause 13, tval 0x5000 */
  li s0, 13
  la s4, 1f
  li t0, 0x5000
  ld t1, 0(t0)
1:
  /* we are in M now (handler returned to M) */
  li t6, 0x5000; bne s2, t6, fail
  /* back to S */
  li t0, 0x1800; csrc mstatus, t0; li t0, 0x0800; csrs mstatus, t0
  la t0, 2f; csrw mepc, t0
  mret
2:
  TEST(4) /* user page from S without SUM faults, with SUM works */
  li s0, 13
  la s4, 3f
  li t0, 0x2000
  ld t1, 0(t0)
  j fail
3:
  li t0, 0x1800; csrc mstatus, t0; li t0, 0x0800; csrs mstatus, t0
  li t0, 1 << 18; csrs mstatus, t0  /* SUM */
  la t0, 4f; csrw mepc, t0
  mret
4:
  li t0, 0x2000
  ld t1, 0(t0)
  li t6, 0x0102030405060708; bne t1, t6, fail

  TEST(5) /* remap VA 0x1000 to page2; after sfence.vma the new mapping is seen */
  la t2, l0; la t1, page2; srli t1, t1, 12; slli t1, t1, 10; ori t1, t1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D; sd t1, 8(t2)
  sfence.vma
  li t0, 0x1000
  ld t1, 0(t0)
  li t6, 0x0102030405060708; bne t1, t6, fail
  j pass

EXPECT_TRAP_HANDLER
END
.data
.align 12
root: .zero 4096
l1: .zero 4096
l0: .zero 4096
page: .dword 0x1122334455667788, 0
.align 12
page2: .dword 0x0102030405060708
.align 12
