// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes 32-bit instruction words to {@link Op}s using tables compiled from the patterns in {@link Op}.
 *
 * <p>The first level is indexed by opcode and funct3 (bits 6:0 and 14:12), which every RV64GC pattern fixes or
 * leaves wholly open; each slot holds the few candidate patterns that share those bits, most specific first. The
 * table is built once and checked for ambiguity: two patterns that can match the same word are a build error.
 */
public final class Decoder {
    private static final Op[][] CANDIDATES = new Op[1 << 10][];
    private static final Op[] OPS = Op.values();
    /** Bits that index {@link #FAST}: opcode, funct3 and funct7. */
    private static final int FAST_KEY_MASK = 0xFE00707F;
    /** Op ordinal per (opcode, funct3, funct7), or {@link #SLOW} when more bits decide. */
    private static final byte[] FAST = new byte[1 << 17];
    private static final int SLOW = 0xff;

    static {
        if (OPS.length >= SLOW) {
            throw new IllegalStateException("too many instructions for the byte-wide fast decode table");
        }
        List<List<Op>> slots = new ArrayList<>();
        for (int i = 0; i < (1 << 10); i++) {
            slots.add(new ArrayList<>());
        }
        for (Op op : Op.values()) {
            if (op == Op.ILLEGAL) {
                continue;
            }
            for (int key = 0; key < (1 << 10); key++) {
                int word = (key & 0x7f) | ((key >>> 7) << 12);
                int keyMask = 0x707f;
                if (((word ^ op.match) & op.mask & keyMask) == 0) {
                    slots.get(key).add(op);
                }
            }
        }
        for (int key = 0; key < slots.size(); key++) {
            List<Op> s = slots.get(key);
            // More fixed bits first, so e.g. ECALL wins over a wider pattern if one ever overlaps.
            s.sort((a, b) -> Integer.bitCount(b.mask) - Integer.bitCount(a.mask));
            CANDIDATES[key] = s.toArray(new Op[0]);
        }
        for (int k = 0; k < FAST.length; k++) {
            int word = 3 | ((k & 0x1f) << 2) | (((k >>> 5) & 7) << 12) | ((k >>> 8) << 25);
            Op only = null;
            int count = 0;
            boolean exact = true;
            for (Op op : CANDIDATES[(word & 0x7f) | (((word >>> 12) & 7) << 7)]) {
                if (((word ^ op.match) & op.mask & FAST_KEY_MASK) == 0) {
                    count++;
                    only = op;
                    exact &= (op.mask & ~FAST_KEY_MASK) == 0;
                }
            }
            FAST[k] = (byte) (count == 0 ? Op.ILLEGAL.ordinal() : (count == 1 && exact) ? only.ordinal() : SLOW);
        }
    }

    private static int fastKey(int insn) {
        return ((insn >>> 2) & 0x1f) | (((insn >>> 12) & 7) << 5) | ((insn >>> 25) << 8);
    }

    private Decoder() {
    }

    /** Decodes a 32-bit instruction (low two bits 11); returns {@link Op#ILLEGAL} when nothing matches. */
    public static Op decode(int insn) {
        int b = FAST[fastKey(insn)] & 0xff;
        if (b != SLOW) {
            return OPS[b];
        }
        return decodeSlow(insn);
    }

    private static Op decodeSlow(int insn) {
        Op[] cands = CANDIDATES[(insn & 0x7f) | (((insn >>> 12) & 7) << 7)];
        for (Op op : cands) {
            if ((insn & op.mask) == op.match) {
                return op;
            }
        }
        return Op.ILLEGAL;
    }

    /** For tests: every pair of patterns that could match one word, described; empty when the table is sound. */
    static List<String> ambiguities() {
        List<String> out = new ArrayList<>();
        Op[] ops = Op.values();
        for (int i = 0; i < ops.length; i++) {
            for (int j = i + 1; j < ops.length; j++) {
                Op a = ops[i];
                Op b = ops[j];
                if (a == Op.ILLEGAL || b == Op.ILLEGAL) {
                    continue;
                }
                int common = a.mask & b.mask;
                if (((a.match ^ b.match) & common) == 0) {
                    out.add(a + " / " + b);
                }
            }
        }
        return out;
    }
}
