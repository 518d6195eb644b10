.option rvc
c.addi4spn a0, sp, 16
c.addi4spn s1, sp, 1020
c.fld fa0, 8(a1)
c.fld fs1, 248(a5)
c.lw a0, 4(a1)
c.lw s0, 124(a5)
c.ld a0, 8(a1)
c.ld a5, 248(s0)
c.fsd fa0, 8(a1)
c.fsd fa5, 248(s0)
c.sw a0, 4(a1)
c.sw a2, 124(a3)
c.sd a0, 8(a1)
c.sd a4, 248(a5)
c.nop
c.addi a0, 1
c.addi t6, -32
c.addi sp, 31
c.addiw a0, -1
c.addiw ra, 31
c.li a0, -32
c.li t0, 31
c.addi16sp sp, -512
c.addi16sp sp, 496
c.addi16sp sp, 16
c.lui a0, 1
c.lui t1, 0xfffff
c.lui s2, 31
c.srli a0, 1
c.srli s1, 63
c.srai a0, 32
c.srai a5, 1
c.andi a0, -1
c.andi s1, 31
c.sub a0, a1
c.xor s0, a5
c.or a2, a3
c.and a4, s1
c.subw a0, a1
c.addw s1, a5
c.j .+2046
c.j .-2048
c.j .+2
c.beqz a0, .+254
c.beqz s1, .-256
c.bnez a5, .+2
c.slli a0, 1
c.slli t6, 63
c.fldsp fa0, 8(sp)
c.fldsp ft11, 504(sp)
c.lwsp a0, 4(sp)
c.lwsp t6, 252(sp)
c.ldsp a0, 8(sp)
c.ldsp ra, 504(sp)
c.jr ra
c.jr t6
c.mv a0, a1
c.mv t6, s0
c.ebreak
c.jalr a0
c.add a0, a1
c.add t6, t5
c.fsdsp fa0, 8(sp)
c.fsdsp ft11, 504(sp)
c.swsp a0, 4(sp)
c.swsp t6, 252(sp)
c.sdsp a0, 8(sp)
c.sdsp t6, 504(sp)
