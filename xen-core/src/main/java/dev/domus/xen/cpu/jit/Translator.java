// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu.jit;

import dev.domus.xen.cpu.Decoder;
import dev.domus.xen.cpu.EngineSupport;
import dev.domus.xen.cpu.Hart;
import dev.domus.xen.cpu.Op;
import dev.domus.xen.cpu.Rvc;
import dev.domus.xen.memory.GuestMemory;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/**
 * Translates one guest code region to a hidden class.
 *
 * <p>How it works. A region starts at a guest-physical address and runs straight through the instruction stream of
 * that one 4 KiB page: across conditional branches (taken ones either jump inside the region or leave it), up to
 * and including the first JAL/JALR (or past it, while a forward branch of the region targets code after it), and
 * stops before anything the translator does not handle (CSRs, system instructions, atomics, FP, illegal encodings)
 * or at {@link #MAX_INSNS}. Branches and JALs whose target is an instruction of the same region become JVM jumps,
 * so a loop that fits in a region runs entirely in generated code; each backward jump first checks that the rest of
 * the budget still covers a full pass, which bounds interrupt latency and keeps {@code execute(h, budget)} within
 * its budget.
 *
 * <p>The guest registers the region uses are JVM locals, loaded from {@code x[]} on entry and stored back at the
 * single exit and in the trap handler. The instruction count is kept in a local, bumped once per straight-line
 * run; runs end at every instruction that can trap or leave, so the count is exact at those points (the trapping
 * instruction counts, as in the interpreter). Loads and stores call {@link EngineSupport}'s small statics, which
 * the JVM inlines down to the hart's TLB fast path; a trap arrives as an exception, the handler writes the
 * registers back and takes the trap with the pc of the instruction recorded before each memory access. Code is
 * position independent in virtual space (pc-relative values are computed from the entry pc argument), so a region
 * is keyed by physical address only and satp switches do not discard translations.
 */
final class Translator {
    /** Longest region, in instructions: keeps generated methods far below HotSpot's huge-method limit. */
    static final int MAX_INSNS = 192;
    /**
     * Whether regions continue past an unconditional jump that a forward branch of the region jumps over
     * ({@code -Ddomus.jit.continuePastJumps=false} turns it off, for A/B benchmarks).
     */
    private static final boolean CONTINUE_PAST_JUMPS = !"false".equals(
            System.getProperty("domus.jit.continuePastJumps"));
    /** Largest generated method accepted, safely below HotSpot's 8000-byte huge-method limit. */
    private static final int MAX_CODE_BYTES = 7600;

    private static final ClassDesc CD_HART = ClassDesc.of(Hart.class.getName());
    private static final ClassDesc CD_SUPPORT = ClassDesc.of(EngineSupport.class.getName());
    private static final ClassDesc CD_OPS = ClassDesc.of(JitOps.class.getName());
    private static final ClassDesc CD_BLOCK = ClassDesc.of(CompiledBlock.class.getName());
    private static final ClassDesc CD_THIS = ClassDesc.of(CompiledBlock.class.getPackageName() + ".Region");
    private static final ClassDesc CD_RTE = ClassDesc.of(RuntimeException.class.getName());
    private static final MethodTypeDesc MTD_RUN = MethodTypeDesc.of(ConstantDescs.CD_int, CD_HART,
            ConstantDescs.CD_long.arrayType(), ConstantDescs.CD_long, ConstantDescs.CD_int, ConstantDescs.CD_int);
    private static final MethodTypeDesc MTD_RETIRED = MethodTypeDesc.of(ConstantDescs.CD_void, CD_HART,
            ConstantDescs.CD_int);
    private static final MethodTypeDesc MTD_EXIT = MethodTypeDesc.of(CD_BLOCK, CD_HART,
            ConstantDescs.CD_long, ConstantDescs.CD_int, ConstantDescs.CD_int, ConstantDescs.CD_int,
            ConstantDescs.CD_int);
    private static final MethodTypeDesc MTD_INIT = MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_int);
    private static final MethodTypeDesc MTD_LOAD = MethodTypeDesc.of(ConstantDescs.CD_long, CD_HART,
            ConstantDescs.CD_long);
    private static final MethodTypeDesc MTD_STORE = MethodTypeDesc.of(ConstantDescs.CD_void, CD_HART,
            ConstantDescs.CD_long, ConstantDescs.CD_long);
    private static final MethodTypeDesc MTD_JJ_J = MethodTypeDesc.of(ConstantDescs.CD_long, ConstantDescs.CD_long,
            ConstantDescs.CD_long);
    private static final MethodTypeDesc MTD_STEP = MethodTypeDesc.of(ConstantDescs.CD_boolean, CD_HART,
            ConstantDescs.CD_long, ConstantDescs.CD_int, ConstantDescs.CD_int);
    private static final MethodTypeDesc MTD_TRAPPED = MethodTypeDesc.of(ConstantDescs.CD_void, CD_HART, CD_RTE,
            ConstantDescs.CD_long);

    // locals of run(Hart h, long[] x, long pc, int budget, int depth)
    private static final int L_H = 1;
    private static final int L_X = 2;
    private static final int L_PC = 3;
    private static final int L_BUDGET = 5;
    private static final int L_DEPTH = 6;
    private static final int L_N = 7;
    private static final int L_FOFF = 8;
    private static final int L_NEXT = 9;
    private static final int L_SITE = 11;
    private static final int L_EXC = 12;
    private static final int L_REG0 = 13;
    /** After the 32 register slots (two each): the hart's {@link JitMem}. */
    private static final int L_MEM = L_REG0 + 64;
    private static final ClassDesc CD_MEM = ClassDesc.of(JitMem.class.getName());
    private static final MethodTypeDesc MTD_MEM_LOAD = MethodTypeDesc.of(ConstantDescs.CD_long, CD_MEM,
            ConstantDescs.CD_long);
    private static final MethodTypeDesc MTD_MEM_STORE = MethodTypeDesc.of(ConstantDescs.CD_void, CD_MEM,
            ConstantDescs.CD_long, ConstantDescs.CD_long);

    private final MethodHandles.Lookup lookup;
    private final ClassFile classFile;

    // the region being translated
    private final int[] insns = new int[MAX_INSNS];
    private final Op[] ops = new Op[MAX_INSNS];
    private final int[] offs = new int[MAX_INSNS + 1];
    private final byte[] lens = new byte[MAX_INSNS];
    private int count;
    // per emitRun
    private Label exitKeepPc;
    /** Exit sites numbered so far (see {@link CompiledBlock#chainTarget}). */
    private int sites;
    private int usedRegs;
    private int writtenMask;

    Translator(MethodHandles.Lookup lookup) {
        this.lookup = lookup;
        ClassLoader loader = Translator.class.getClassLoader();
        this.classFile = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
                ClassHierarchyResolver.defaultResolver().orElse(ClassHierarchyResolver.ofClassLoading(loader))));
    }

    /** A translated region and its length in instructions. */
    record Result(CompiledBlock block, int length) {
    }

    /**
     * Translates the region at guest-physical {@code pa}; empty when its first instruction is one the translator
     * leaves to the interpreter.
     */
    Optional<Result> translate(GuestMemory ram, long pa) {
        int limit = MAX_INSNS;
        byte[] bytes;
        while (true) {
            decode(ram, pa - ram.base(), limit);
            if (count == 0) {
                return Optional.empty();
            }
            bytes = classFile.build(CD_THIS, clb -> {
                clb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
                clb.withSuperclass(CD_BLOCK);
                sites = 0;
                clb.withMethodBody("run", MTD_RUN, ClassFile.ACC_FINAL, this::emitRun);
                int exitSites = sites; // known once run() is emitted
                clb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, 0, cob -> cob
                        .aload(0).loadConstant(exitSites).invokespecial(CD_BLOCK, ConstantDescs.INIT_NAME, MTD_INIT)
                        .return_());
            });
            // HotSpot never compiles methods over 8000 bytes of bytecode (HugeMethodLimit): such a region would
            // stay in the bytecode interpreter forever. Regions dense in stepped instructions can get there.
            if (count <= 8 || runCodeLength(bytes) <= MAX_CODE_BYTES) {
                break;
            }
            limit = count / 2;
        }
        try {
            MethodHandles.Lookup hidden = lookup.defineHiddenClass(bytes, true);
            CompiledBlock block = (CompiledBlock) hidden.findConstructor(hidden.lookupClass(),
                    MethodType.methodType(void.class)).invoke();
            return Optional.of(new Result(block, count));
        } catch (Throwable e) {
            throw new IllegalStateException("JIT produced an invalid class for pa=0x" + Long.toHexString(pa), e);
        }
    }

    // =====================================================================================================
    // Decoding
    // =====================================================================================================

    private int runCodeLength(byte[] bytes) {
        for (var m : classFile.parse(bytes).methods()) {
            if (m.methodName().equalsString("run")) {
                return m.code().map(c -> ((java.lang.classfile.attribute.CodeAttribute) c).codeLength()).orElse(0);
            }
        }
        return 0;
    }

    private void decode(GuestMemory ram, long startOff, int limit) {
        count = 0;
        long pageEnd = (startOff | 0xfff) + 1;
        long pos = startOff;
        long fwdMax = -1;
        while (count < limit && pos + 2 <= pageEnd) {
            int lo = ram.loadShort(pos) & 0xffff;
            int insn;
            int len;
            if ((lo & 3) == 3) {
                if (pos + 4 > pageEnd) {
                    break;
                }
                insn = ram.loadInt(pos);
                len = 4;
            } else {
                insn = Rvc.expanded(lo);
                len = 2;
                if (insn == 0) {
                    break;
                }
            }
            Op op = Decoder.decode(insn);
            if (!translatable(op) && !steppable(op)) {
                break;
            }
            insns[count] = insn;
            ops[count] = op;
            lens[count] = (byte) len;
            offs[count] = (int) (pos - startOff);
            count++;
            pos += len;
            if (isBranch(op) || op == Op.JAL) {
                long t = pos - len + (op == Op.JAL ? immJ(insn) : immB(insn));
                if (t > fwdMax && t < pageEnd) {
                    fwdMax = t;
                }
            }
            if (op == Op.FENCE_I || op == Op.SFENCE_VMA) {
                break;
            }
            // An unconditional jump ends the region unless a branch of the region jumps forward past it: then the
            // code after it is reachable from inside (the other arm of a loop's exit test, an if/else tail), and
            // keeping it turns region exits into JVM jumps. A loop whose back edge sits after the function's
            // return (as compilers lay out rotated loops) then runs entirely in generated code.
            if ((op == Op.JAL || op == Op.JALR) && (fwdMax < pos || !CONTINUE_PAST_JUMPS)) {
                break;
            }
        }
        offs[count] = (int) (pos - startOff);
    }

    private static boolean translatable(Op op) {
        return switch (op) {
            case LUI, AUIPC, JAL, JALR, BEQ, BNE, BLT, BGE, BLTU, BGEU,
                 LB, LH, LW, LD, LBU, LHU, LWU, SB, SH, SW, SD,
                 ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
                 ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
                 ADDIW, SLLIW, SRLIW, SRAIW, ADDW, SUBW, SLLW, SRLW, SRAW,
                 MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU, MULW, DIVW, DIVUW, REMW, REMUW,
                 FENCE -> true;
            default -> false;
        };
    }

    /**
     * Instructions the region hands to the interpreter one at a time without leaving (CSRs, atomics, F/D, fences);
     * the rest (ECALL, EBREAK, xRET, WFI, illegal) always leave the region and end it before them.
     */
    private static boolean steppable(Op op) {
        return switch (op) {
            case ECALL, EBREAK, SRET, MRET, WFI, ILLEGAL -> false;
            default -> true;
        };
    }

    private static boolean isBranch(Op op) {
        return switch (op) {
            case BEQ, BNE, BLT, BGE, BLTU, BGEU -> true;
            default -> false;
        };
    }

    private static boolean isMemory(Op op) {
        return switch (op) {
            case LB, LH, LW, LD, LBU, LHU, LWU, SB, SH, SW, SD -> true;
            default -> false;
        };
    }

    /** Index of the instruction at region offset {@code off}, or -1 when no instruction of the region starts there. */
    private int indexAt(long off) {
        if (off < 0 || off >= offs[count]) {
            return -1;
        }
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (offs[mid] < off) {
                lo = mid + 1;
            } else if (offs[mid] > off) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Region-relative target of the branch or JAL at index i. */
    private long targetOff(int i) {
        int insn = insns[i];
        long imm = ops[i] == Op.JAL ? immJ(insn) : immB(insn);
        return offs[i] + imm;
    }

    // =====================================================================================================
    // Code generation
    // =====================================================================================================

    private static int slot(int r) {
        return L_REG0 + 2 * r;
    }

    private void emitRun(CodeBuilder cb) {
        // Registers read or written, instruction starts that are jump targets.
        int used = 0;
        int written = 0;
        boolean[] target = new boolean[count];
        for (int i = 0; i < count; i++) {
            int insn = insns[i];
            int rd = (insn >>> 7) & 31;
            int rs1 = (insn >>> 15) & 31;
            int rs2 = (insn >>> 20) & 31;
            Op op = ops[i];
            if (!translatable(op)) {
                continue; // stepped: works on x[] after a full write-back, reloads everything afterwards
            }
            boolean hasRd = !isBranch(op) && !isStore(op) && op != Op.FENCE;
            boolean hasRs1 = op != Op.LUI && op != Op.AUIPC && op != Op.JAL && op != Op.FENCE;
            boolean hasRs2 = isBranch(op) || isStore(op) || ((insn & 0x7f) == 0x33) || ((insn & 0x7f) == 0x3b);
            if (hasRd) {
                used |= 1 << rd;
                written |= 1 << rd;
            }
            if (hasRs1) {
                used |= 1 << rs1;
            }
            if (hasRs2) {
                used |= 1 << rs2;
            }
            if (isBranch(op) || op == Op.JAL) {
                int t = indexAt(targetOff(i));
                if (t >= 0) {
                    target[t] = true;
                }
            }
        }
        used &= ~1;
        written &= ~1;
        final int writtenRegs = written;

        Label[] labels = new Label[count];
        for (int i = 0; i < count; i++) {
            labels[i] = cb.newLabel();
        }
        Label exit = cb.newLabel();
        exitKeepPc = cb.newLabel();
        usedRegs = used;
        writtenMask = writtenRegs;
        Label tryStart = cb.newLabel();
        Label tryEnd = cb.newLabel();
        Label handler = cb.newLabel();

        cb.iconst_0().istore(L_N);
        cb.iconst_0().istore(L_FOFF);
        cb.lconst_0().lstore(L_NEXT);
        cb.iconst_0().istore(L_SITE);
        for (int r = 1; r < 32; r++) {
            if ((used & (1 << r)) != 0) {
                cb.aload(L_X).loadConstant(r).laload().lstore(slot(r));
            }
        }
        if (hasMemory()) {
            // No revalidate here: the dispatcher does it before every region it enters (JitEngine.execute), and a
            // chained region follows a normal exit, whose stepped instructions already revalidated.
            cb.aload(0).getfield(CD_BLOCK, "mem", CD_MEM).astore(L_MEM);
        }
        cb.labelBinding(tryStart);

        // Out-of-line stubs: exits to a pc and budget-checked back edges, emitted after the body.
        java.util.ArrayList<Runnable> stubs = new java.util.ArrayList<>();
        boolean runOpen = false;
        for (int i = 0; i < count; i++) {
            if (target[i]) {
                runOpen = false;
            }
            cb.labelBinding(labels[i]);
            if (!runOpen) {
                int len = 1;
                int j = i;
                while (!endsRun(ops[j]) && j + 1 < count && !target[j + 1]) {
                    j++;
                    len++;
                }
                cb.iinc(L_N, len);
                runOpen = true;
            }
            if (endsRun(ops[i])) {
                runOpen = false;
            }
            emitInsn(cb, i, labels, exit, stubs);
        }
        if (ops[count - 1] != Op.JAL && ops[count - 1] != Op.JALR && ops[count - 1] != Op.FENCE_I
                && ops[count - 1] != Op.SFENCE_VMA) {
            setNext(cb, offs[count]);
            site(cb);
            cb.goto_(exit);
        }
        for (Runnable stub : stubs) {
            stub.run();
        }
        cb.labelBinding(tryEnd);

        // Every exit to a known next pc: chain to the linked region (CompiledBlock.chainTarget) or return to the dispatcher.
        cb.labelBinding(exit);
        writeBack(cb, writtenRegs);
        cb.aload(0).aload(L_H).lload(L_NEXT).iload(L_N).iload(L_BUDGET).iload(L_DEPTH).iload(L_SITE)
                .invokevirtual(CD_BLOCK, "chainTarget", MTD_EXIT);
        // The chained call is made here, not in CompiledBlock: one call site per region class, whose profile sees
        // only this region's successors.
        Label noChain = cb.newLabel();
        cb.dup().ifnull(noChain);
        cb.aload(L_H).aload(L_X).lload(L_NEXT).iload(L_BUDGET).iload(L_N).isub().iload(L_DEPTH).iconst_1().iadd()
                .invokevirtual(CD_BLOCK, "run", MTD_RUN);
        cb.aload(L_H).iload(L_N).ineg().invokestatic(CD_SUPPORT, "retired", MTD_RETIRED);
        cb.iload(L_N).iadd().ireturn();
        cb.labelBinding(noChain);
        cb.pop().iload(L_N).ireturn();

        // After a stepped instruction that did not fall through: registers and pc are already in the hart.
        cb.labelBinding(exitKeepPc);
        cb.iload(L_N).ireturn();

        cb.labelBinding(handler);
        cb.astore(L_EXC);
        writeBack(cb, writtenRegs);
        cb.aload(L_H).aload(L_EXC).lload(L_PC).iload(L_FOFF).i2l().ladd()
                .invokestatic(CD_SUPPORT, "trapped", MTD_TRAPPED);
        cb.iload(L_N).ireturn();
        cb.exceptionCatch(tryStart, tryEnd, handler, CD_RTE);
    }

    private static boolean endsRun(Op op) {
        return isBranch(op) || isMemory(op) || op == Op.JAL || op == Op.JALR || !translatable(op);
    }

    private static boolean isStore(Op op) {
        return op == Op.SB || op == Op.SH || op == Op.SW || op == Op.SD;
    }

    private void writeBack(CodeBuilder cb, int written) {
        for (int r = 1; r < 32; r++) {
            if ((written & (1 << r)) != 0) {
                cb.aload(L_X).loadConstant(r).lload(slot(r)).lastore();
            }
        }
    }

    private void setNext(CodeBuilder cb, long off) {
        cb.lload(L_PC);
        if (off != 0) {
            cb.loadConstant(off).ladd();
        }
        cb.lstore(L_NEXT);
    }

    /** Numbers a new exit site; the code that follows jumps to the common exit. */
    private void site(CodeBuilder cb) {
        cb.loadConstant(sites++).istore(L_SITE);
    }

    private static void read(CodeBuilder cb, int r) {
        if (r == 0) {
            cb.lconst_0();
        } else {
            cb.lload(slot(r));
        }
    }

    private static void write(CodeBuilder cb, int rd) {
        if (rd == 0) {
            cb.pop2();
        } else {
            cb.lstore(slot(rd));
        }
    }

    private static void flipSign(CodeBuilder cb) {
        cb.loadConstant(Long.MIN_VALUE).lxor();
    }

    private void emitInsn(CodeBuilder cb, int i, Label[] labels, Label exit, java.util.List<Runnable> stubs) {
        int insn = insns[i];
        Op op = ops[i];
        int off = offs[i];
        int len = lens[i];
        int rd = (insn >>> 7) & 31;
        int rs1 = (insn >>> 15) & 31;
        int rs2 = (insn >>> 20) & 31;
        long immI = insn >> 20;
        if (!translatable(op)) {
            emitStep(cb, i);
            return;
        }
        if (rd == 0 && !isBranch(op) && !isMemory(op) && op != Op.JAL && op != Op.JALR && op != Op.FENCE) {
            return; // ALU op writing x0: a hint, no effect
        }
        switch (op) {
            case LUI -> {
                cb.loadConstant((long) (insn & 0xfffff000));
                write(cb, rd);
            }
            case AUIPC -> {
                cb.lload(L_PC).loadConstant(off + (long) (insn & 0xfffff000)).ladd();
                write(cb, rd);
            }
            case JAL -> {
                if (rd != 0) {
                    cb.lload(L_PC).loadConstant((long) off + len).ladd();
                    write(cb, rd);
                }
                jumpTo(cb, i, targetOff(i), labels, exit);
            }
            case JALR -> {
                read(cb, rs1);
                cb.loadConstant(immI).ladd().loadConstant(~1L).land().lstore(L_NEXT);
                if (rd != 0) {
                    cb.lload(L_PC).loadConstant((long) off + len).ladd();
                    write(cb, rd);
                }
                site(cb);
                cb.goto_(exit);
            }
            case BEQ, BNE, BLT, BGE, BLTU, BGEU -> {
                read(cb, rs1);
                if (op == Op.BLTU || op == Op.BGEU) {
                    flipSign(cb);
                }
                read(cb, rs2);
                if (op == Op.BLTU || op == Op.BGEU) {
                    flipSign(cb);
                }
                cb.lcmp();
                long t = targetOff(i);
                int ti = indexAt(t);
                // A forward jump inside the region goes straight to its label; anything else through a stub.
                Label taken = ti > i ? labels[ti] : cb.newLabel();
                switch (op) {
                    case BEQ -> cb.ifeq(taken);
                    case BNE -> cb.ifne(taken);
                    case BLT, BLTU -> cb.iflt(taken);
                    default -> cb.ifge(taken);
                }
                if (ti <= i) {
                    stubs.add(() -> {
                        cb.labelBinding(taken);
                        jumpTo(cb, i, t, labels, exit);
                    });
                }
            }
            case LB, LH, LW, LD, LBU, LHU, LWU -> emitLoad(cb, op, off, rd, rs1, immI);
            case SB, SH, SW, SD -> emitStore(cb, op, off, rs1, rs2, immS(insn));
            case FENCE -> cb.invokestatic(CD_SUPPORT, "fence", ConstantDescs.MTD_void);
            case ADDI -> {
                read(cb, rs1);
                if (immI != 0) {
                    cb.loadConstant(immI).ladd();
                }
                write(cb, rd);
            }
            case SLTI, SLTIU -> {
                read(cb, rs1);
                if (op == Op.SLTIU) {
                    flipSign(cb);
                }
                cb.loadConstant(op == Op.SLTIU ? immI ^ Long.MIN_VALUE : immI);
                cb.lcmp().bipush(31).iushr().i2l();
                write(cb, rd);
            }
            case XORI, ORI, ANDI -> {
                read(cb, rs1);
                cb.loadConstant(immI);
                switch (op) {
                    case XORI -> cb.lxor();
                    case ORI -> cb.lor();
                    default -> cb.land();
                }
                write(cb, rd);
            }
            case SLLI, SRLI, SRAI -> {
                read(cb, rs1);
                cb.bipush((insn >>> 20) & 63);
                switch (op) {
                    case SLLI -> cb.lshl();
                    case SRLI -> cb.lushr();
                    default -> cb.lshr();
                }
                write(cb, rd);
            }
            case ADD, SUB, XOR, OR, AND, MUL -> {
                read(cb, rs1);
                read(cb, rs2);
                switch (op) {
                    case ADD -> cb.ladd();
                    case SUB -> cb.lsub();
                    case XOR -> cb.lxor();
                    case OR -> cb.lor();
                    case AND -> cb.land();
                    default -> cb.lmul();
                }
                write(cb, rd);
            }
            case SLL, SRL, SRA -> {
                read(cb, rs1);
                read(cb, rs2);
                cb.l2i();
                switch (op) {
                    case SLL -> cb.lshl();
                    case SRL -> cb.lushr();
                    default -> cb.lshr();
                }
                write(cb, rd);
            }
            case SLT, SLTU -> {
                read(cb, rs1);
                if (op == Op.SLTU) {
                    flipSign(cb);
                }
                read(cb, rs2);
                if (op == Op.SLTU) {
                    flipSign(cb);
                }
                cb.lcmp().bipush(31).iushr().i2l();
                write(cb, rd);
            }
            case ADDIW -> {
                read(cb, rs1);
                cb.l2i();
                if (immI != 0) {
                    cb.loadConstant((int) immI).iadd();
                }
                cb.i2l();
                write(cb, rd);
            }
            case SLLIW, SRLIW, SRAIW -> {
                read(cb, rs1);
                cb.l2i().bipush(rs2);
                switch (op) {
                    case SLLIW -> cb.ishl();
                    case SRLIW -> cb.iushr();
                    default -> cb.ishr();
                }
                cb.i2l();
                write(cb, rd);
            }
            case ADDW, SUBW, MULW -> {
                read(cb, rs1);
                cb.l2i();
                read(cb, rs2);
                cb.l2i();
                switch (op) {
                    case ADDW -> cb.iadd();
                    case SUBW -> cb.isub();
                    default -> cb.imul();
                }
                cb.i2l();
                write(cb, rd);
            }
            case SLLW, SRLW, SRAW -> {
                read(cb, rs1);
                cb.l2i();
                read(cb, rs2);
                cb.l2i();
                switch (op) {
                    case SLLW -> cb.ishl();
                    case SRLW -> cb.iushr();
                    default -> cb.ishr();
                }
                cb.i2l();
                write(cb, rd);
            }
            case MULH, MULHU -> {
                read(cb, rs1);
                read(cb, rs2);
                cb.invokestatic(ClassDesc.of("java.lang.Math"), op == Op.MULH ? "multiplyHigh" : "unsignedMultiplyHigh",
                        MTD_JJ_J);
                write(cb, rd);
            }
            case MULHSU, DIV, DIVU, REM, REMU, DIVW, DIVUW, REMW, REMUW -> {
                read(cb, rs1);
                read(cb, rs2);
                cb.invokestatic(CD_OPS, op.name().toLowerCase(java.util.Locale.ROOT), MTD_JJ_J);
                write(cb, rd);
            }
            default -> throw new IllegalStateException("not translatable: " + op);
        }
    }

    private boolean hasMemory() {
        for (int i = 0; i < count; i++) {
            if (isMemory(ops[i])) {
                return true;
            }
        }
        return false;
    }

    /** A load through {@link JitMem} (TLB fast path, the hart's full path as its fallback). */
    private void emitLoad(CodeBuilder cb, Op op, int off, int rd, int rs1, long imm) {
        cb.sipush(off).istore(L_FOFF);
        cb.aload(L_MEM);
        read(cb, rs1);
        if (imm != 0) {
            cb.loadConstant(imm).ladd();
        }
        String name = switch (op) {
            case LB -> "lb";
            case LH -> "lh";
            case LW -> "lw";
            case LD -> "ld";
            case LBU -> "lbu";
            case LHU -> "lhu";
            default -> "lwu";
        };
        cb.invokestatic(CD_MEM, name, MTD_MEM_LOAD);
        write(cb, rd);
    }

    /** A store through {@link JitMem}. */
    private void emitStore(CodeBuilder cb, Op op, int off, int rs1, int rs2, long imm) {
        cb.sipush(off).istore(L_FOFF);
        cb.aload(L_MEM);
        read(cb, rs1);
        if (imm != 0) {
            cb.loadConstant(imm).ladd();
        }
        read(cb, rs2);
        String name = switch (op) {
            case SB -> "sb";
            case SH -> "sh";
            case SW -> "sw";
            default -> "sd";
        };
        cb.invokestatic(CD_MEM, name, MTD_MEM_STORE);
    }

    /** Hands instruction i to the interpreter: write back, step, reload; leave unless it simply fell through. */
    private void emitStep(CodeBuilder cb, int i) {
        writeBack(cb, writtenMask);
        cb.aload(L_H).lload(L_PC);
        if (offs[i] != 0) {
            cb.loadConstant((long) offs[i]).ladd();
        }
        cb.iload(L_N).loadConstant((int) lens[i]).invokestatic(CD_SUPPORT, "stepInRegion", MTD_STEP);
        for (int r = 1; r < 32; r++) {
            if ((usedRegs & (1 << r)) != 0) {
                cb.aload(L_X).loadConstant(r).laload().lstore(slot(r));
            }
        }
        if (hasMemory()) {
            // A CSR write may have changed the privilege, SUM, MXR, MPRV or satp: new fast-path checks.
            cb.aload(L_MEM).invokevirtual(CD_MEM, "revalidate", ConstantDescs.MTD_void);
        }
        Op op = ops[i];
        if (op == Op.FENCE_I || op == Op.SFENCE_VMA) {
            // Translation or code may have changed: leave even when it fell through.
            cb.pop().goto_(exitKeepPc);
        } else {
            cb.ifeq(exitKeepPc);
        }
    }

    /**
     * Control transfer from instruction i to region offset {@code t}: a JVM jump when t is an instruction of the
     * region (backward ones budget-checked), else an exit.
     */
    private void jumpTo(CodeBuilder cb, int i, long t, Label[] labels, Label exit) {
        int ti = indexAt(t);
        if (ti < 0) {
            setNext(cb, t);
            site(cb);
            cb.goto_(exit);
        } else if (ti > i) {
            cb.goto_(labels[ti]);
        } else {
            // Back edge: enter another pass only if the budget covers a whole one.
            Label out = cb.newLabel();
            cb.iload(L_N).iload(L_BUDGET).loadConstant(count).isub().if_icmpgt(out);
            cb.goto_(labels[ti]);
            cb.labelBinding(out);
            setNext(cb, t);
            site(cb);
            cb.goto_(exit);
        }
    }

    static long immS(int insn) {
        return ((insn >> 25) << 5) | ((insn >>> 7) & 31);
    }

    static long immB(int insn) {
        return ((insn >> 31) << 12) | (((insn >>> 7) & 1) << 11) | (((insn >>> 25) & 0x3f) << 5)
                | (((insn >>> 8) & 0xf) << 1);
    }

    static long immJ(int insn) {
        return ((insn >> 31) << 20) | (insn & 0xff000) | (((insn >>> 20) & 1) << 11)
                | (((insn >>> 21) & 0x3ff) << 1);
    }
}
