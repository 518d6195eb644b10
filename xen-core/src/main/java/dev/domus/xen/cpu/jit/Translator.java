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
 * <p>How it works. A region is entered at a guest-physical address and holds the instructions of that one 4 KiB
 * page reachable from there: straight runs of code, followed across conditional branches (both ways), into the
 * targets of JALs in the page, and, for a call into the page, on at its return point; decoded breadth first up to
 * {@link #MAX_INSNS} and laid out in address order, so code above the entry (the head of a loop the region was
 * entered in) is part of it too. A run stops before anything the translator does not handle (CSRs are stepped,
 * see below; system instructions, illegal encodings and instructions across the page end are left out), at a
 * jump and where it joins code decoded already. Branches and JALs whose target is an instruction of the region
 * become JVM jumps, and a return ({@code jalr x0, 0(link)}) compares its target with the return address of each
 * call of the region that links through the same register and jumps there on a match, so loops that call a
 * function on their page run entirely in generated code (round 6 of the JIT measured ~21 instructions per region
 * entry on gzip). Every jump to an instruction at a lower or equal address first checks that the rest of the
 * budget still covers a full pass (a path without such a jump visits each instruction at most once), which bounds
 * interrupt latency and keeps {@code execute(h, budget)} within its budget; everything else leaves the region.
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
    /** Region size cap actually used, {@code -Ddomus.jit.maxInsns=} (at most {@link #MAX_INSNS}; for A/B runs). */
    private static final int REGION_INSNS = Math.clamp(Integer.getInteger("domus.jit.maxInsns", MAX_INSNS), 8,
            MAX_INSNS);
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
    private final int[] offs = new int[MAX_INSNS];
    private final byte[] lens = new byte[MAX_INSNS];
    /** Per halfword of the page being decoded: 0 free, 1 an instruction starts here, 2 second half of one. */
    private final byte[] halfwords = new byte[0x800];
    /** Decode work list: page offsets still to decode from (each instruction adds at most two). */
    private final int[] work = new int[2 * MAX_INSNS + 1];
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
        int limit = REGION_INSNS;
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

    /**
     * Decodes the region entered at RAM offset {@code entryOff}: the instructions of its page reachable from the entry
     * (fall-through, branch and JAL targets in the page, and the return point of a call whose callee is in the
     * page), breadth first, at most {@code limit}; then sorted by address, {@link #offs} relative to the entry.
     */
    private void decode(GuestMemory ram, long entryOff, int limit) {
        count = 0;
        long pageOff = entryOff & ~0xfffL;
        java.util.Arrays.fill(halfwords, (byte) 0);
        int head = 0;
        int tail = 0;
        work[tail++] = (int) (entryOff & 0xfff);
        while (head < tail && count < limit) {
            int p = work[head++];
            // One straight run from p: up to a jump, an instruction the region cannot hold, the page end or code
            // decoded already (the run then joins it).
            while (count < limit) {
                if (p + 2 > 0x1000) {
                    break;
                }
                if (halfwords[p >> 1] != 0) {
                    break; // decoded already, or the middle of a 4-byte instruction (a branch into it leaves)
                }
                int lo = ram.loadShort(pageOff + p) & 0xffff;
                int insn;
                int len;
                if ((lo & 3) == 3) {
                    if (p + 4 > 0x1000) {
                        break;
                    }
                    if (halfwords[(p >> 1) + 1] != 0) {
                        break;
                    }
                    insn = ram.loadInt(pageOff + p);
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
                offs[count] = p;
                count++;
                halfwords[p >> 1] = 1;
                if (len == 4) {
                    halfwords[(p >> 1) + 1] = 2;
                }
                int next = p + len;
                if (isBranch(op)) {
                    long t = p + immB(insn);
                    if (t >= 0 && t < 0x1000) {
                        work[tail++] = (int) t;
                    }
                } else if (op == Op.JAL) {
                    long t = p + immJ(insn);
                    if (t >= 0 && t < 0x1000) {
                        work[tail++] = (int) t;
                        if (((insn >>> 7) & 31) != 0) {
                            // A call into the same page: its return comes back here (JALR return prediction).
                            work[tail++] = next;
                        }
                    }
                    break;
                } else if (op == Op.JALR || op == Op.FENCE_I || op == Op.SFENCE_VMA) {
                    break;
                }
                p = next;
            }
        }
        // Sort by address (insertion sort: at most MAX_INSNS entries, mostly in order already).
        for (int i = 1; i < count; i++) {
            int o = offs[i];
            int in = insns[i];
            Op op = ops[i];
            byte l = lens[i];
            int j = i - 1;
            while (j >= 0 && offs[j] > o) {
                offs[j + 1] = offs[j];
                insns[j + 1] = insns[j];
                ops[j + 1] = ops[j];
                lens[j + 1] = lens[j];
                j--;
            }
            offs[j + 1] = o;
            insns[j + 1] = in;
            ops[j + 1] = op;
            lens[j + 1] = l;
        }
        int base = (int) (entryOff & 0xfff);
        for (int i = 0; i < count; i++) {
            offs[i] -= base;
        }
    }

    /** Whether instruction i falls through to instruction i + 1 of the region (no gap between them). */
    private boolean contiguous(int i) {
        return i + 1 < count && offs[i + 1] == offs[i] + lens[i];
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
                    int ret = op == Op.JAL && rd != 0 ? indexAt(offs[i] + lens[i]) : -1;
                    if (ret >= 0) {
                        target[ret] = true; // reached by a predicted return (see the JALR case)
                    }
                }
            }
        }
        int entry = indexAt(0);
        target[entry] = true;
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
        if (entry != 0) {
            cb.goto_(labels[entry]); // code before the entry (a loop head above it) comes first in address order
        }

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
                while (!endsRun(ops[j]) && contiguous(j) && !target[j + 1]) {
                    j++;
                    len++;
                }
                cb.iinc(L_N, len);
                runOpen = true;
            }
            if (endsRun(ops[i]) || !contiguous(i)) {
                runOpen = false;
            }
            emitInsn(cb, i, labels, exit, stubs);
            Op op = ops[i];
            if (!contiguous(i) && op != Op.JAL && op != Op.JALR && op != Op.FENCE_I && op != Op.SFENCE_VMA) {
                // The next instruction in memory is not part of the region: leave to it.
                setNext(cb, offs[i] + lens[i]);
                site(cb);
                cb.goto_(exit);
            }
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
                } else {
                    predictReturn(cb, i, rs1, labels, exit);
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
     * Return prediction for the JALR at i (in L_NEXT its target, link register {@code link}): for every call of the
     * region (a JAL writing {@code link} into a callee inside the region) whose return point is in the region, a
     * target equal to that return address jumps there. Exact whatever the callee did: the computed target itself is
     * compared, and anything else leaves the region as before.
     */
    private void predictReturn(CodeBuilder cb, int i, int link, Label[] labels, Label exit) {
        if (link == 0) {
            return;
        }
        for (int c = 0; c < count; c++) {
            if (ops[c] != Op.JAL || ((insns[c] >>> 7) & 31) != link || indexAt(targetOff(c)) < 0) {
                continue;
            }
            long r = offs[c] + lens[c];
            if (indexAt(r) < 0) {
                continue;
            }
            Label miss = cb.newLabel();
            cb.lload(L_NEXT).lload(L_PC);
            if (r != 0) {
                cb.loadConstant(r).ladd();
            }
            cb.lcmp().ifne(miss);
            jumpTo(cb, i, r, labels, exit);
            cb.labelBinding(miss);
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
