// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware.fdt;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a flattened device tree blob (DTB format version 17, last compatible version 16) in one pass.
 *
 * <p>Nodes are opened and closed in document order, the root first with the empty name; properties belong to the
 * innermost open node and must come before its children, as the format requires. Property names are stored once
 * in the strings block. {@link #allocatePhandle()} hands out unique phandles so a node can be referenced before it
 * is written. Mistakes (a property outside a node, a duplicate property or child name, a node left open, a NUL in a
 * name or string) throw {@link IllegalStateException} or {@link IllegalArgumentException} at once.
 *
 * <p>Layout of the result: 40-byte header, memory reservation block (the entries from {@link #reserve} then an
 * all-zero terminator), structure block, strings block; all integers big-endian; total size padded to 8 bytes.
 */
public final class FdtWriter {
    static final int MAGIC = 0xd00dfeed;
    static final int VERSION = 17;
    static final int LAST_COMPATIBLE_VERSION = 16;
    static final int HEADER_SIZE = 40;
    static final int FDT_BEGIN_NODE = 1;
    static final int FDT_END_NODE = 2;
    static final int FDT_PROP = 3;
    static final int FDT_END = 9;

    private final Bytes struct = new Bytes();
    private final Bytes strings = new Bytes();
    private final Map<String, Integer> stringOffsets = new LinkedHashMap<>();
    private final List<long[]> reservations = new ArrayList<>();
    private final Deque<OpenNode> open = new ArrayDeque<>();
    private final Set<Integer> phandles = new HashSet<>();
    private int nextPhandle = 1;
    private int bootCpuId;
    private boolean rootDone;
    private boolean finished;

    private static final class OpenNode {
        final Set<String> properties = new HashSet<>();
        final Set<String> children = new HashSet<>();
        boolean hasChildren;
    }

    /** Sets the header's boot_cpuid_phys (default 0). */
    public FdtWriter bootCpuId(int cpu) {
        checkNotFinished();
        bootCpuId = cpu;
        return this;
    }

    /** Adds a memory reservation entry (physical range the OS must not use). */
    public FdtWriter reserve(long address, long size) {
        checkNotFinished();
        if (size == 0) {
            throw new IllegalArgumentException("reservation size must not be 0 (it would end the block)");
        }
        reservations.add(new long[] {address, size});
        return this;
    }

    /** A phandle not yet used by this tree; write it into the target node with {@link #phandle(int)}. */
    public int allocatePhandle() {
        while (phandles.contains(nextPhandle)) {
            nextPhandle++;
        }
        return nextPhandle++;
    }

    /** Opens a child of the current node, or the root when {@code name} is empty and nothing is open. */
    public FdtWriter beginNode(String name) {
        checkNotFinished();
        checkNoNul(name, "node name");
        if (open.isEmpty()) {
            if (rootDone || !name.isEmpty()) {
                throw new IllegalStateException(rootDone
                        ? "the tree already has a root node; cannot open \"" + name + "\""
                        : "the first node must be the root (empty name), got \"" + name + "\"");
            }
        } else {
            if (name.isEmpty() || name.indexOf('/') >= 0) {
                throw new IllegalArgumentException("node name must be non-empty and without '/', got \"" + name + "\"");
            }
            OpenNode parent = open.peek();
            if (!parent.children.add(name)) {
                throw new IllegalStateException("duplicate node \"" + name + "\"");
            }
            parent.hasChildren = true;
        }
        struct.u32(FDT_BEGIN_NODE);
        struct.bytes(name.getBytes(StandardCharsets.UTF_8));
        struct.u8(0);
        struct.align(4);
        open.push(new OpenNode());
        return this;
    }

    /** Closes the current node. */
    public FdtWriter endNode() {
        checkNotFinished();
        if (open.isEmpty()) {
            throw new IllegalStateException("endNode() without an open node");
        }
        open.pop();
        struct.u32(FDT_END_NODE);
        if (open.isEmpty()) {
            rootDone = true;
        }
        return this;
    }

    /** A property with raw bytes as its value. */
    public FdtWriter property(String name, byte[] value) {
        checkNotFinished();
        checkNoNul(name, "property name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("property name must not be empty");
        }
        OpenNode node = open.peek();
        if (node == null) {
            throw new IllegalStateException("property \"" + name + "\" outside of any node");
        }
        if (node.hasChildren) {
            throw new IllegalStateException("property \"" + name + "\" after a child node");
        }
        if (!node.properties.add(name)) {
            throw new IllegalStateException("duplicate property \"" + name + "\"");
        }
        struct.u32(FDT_PROP);
        struct.u32(value.length);
        struct.u32(stringOffset(name));
        struct.bytes(value);
        struct.align(4);
        return this;
    }

    /** A property without a value (a flag such as {@code interrupt-controller}). */
    public FdtWriter propertyEmpty(String name) {
        return property(name, new byte[0]);
    }

    /** A NUL-terminated string property. */
    public FdtWriter property(String name, String value) {
        return propertyStrings(name, value);
    }

    /** A string-list property: each string NUL-terminated, back to back. */
    public FdtWriter propertyStrings(String name, String... values) {
        Bytes b = new Bytes();
        for (String v : values) {
            checkNoNul(v, "string value of " + name);
            b.bytes(v.getBytes(StandardCharsets.UTF_8));
            b.u8(0);
        }
        return property(name, b.toArray());
    }

    /** A single 32-bit cell. */
    public FdtWriter propertyU32(String name, int value) {
        return propertyCells(name, value);
    }

    /** A 64-bit value (two cells, high first). */
    public FdtWriter propertyU64(String name, long value) {
        return propertyU64s(name, value);
    }

    /** An array of 32-bit cells. */
    public FdtWriter propertyCells(String name, int... cells) {
        Bytes b = new Bytes();
        for (int c : cells) {
            b.u32(c);
        }
        return property(name, b.toArray());
    }

    /** An array of 64-bit values, each as two cells (e.g. {@code reg} with #address-cells = #size-cells = 2). */
    public FdtWriter propertyU64s(String name, long... values) {
        Bytes b = new Bytes();
        for (long v : values) {
            b.u32((int) (v >>> 32));
            b.u32((int) v);
        }
        return property(name, b.toArray());
    }

    /** Writes the {@code phandle} property of the current node; each phandle may be used once per tree. */
    public FdtWriter phandle(int phandle) {
        if (phandle == 0 || phandle == -1) {
            throw new IllegalArgumentException("phandle must not be 0 or 0xffffffff");
        }
        if (!phandles.add(phandle)) {
            throw new IllegalStateException("phandle " + phandle + " is already used");
        }
        return propertyU32("phandle", phandle);
    }

    /** Finishes the tree and returns the blob; the writer cannot be used afterwards. */
    public byte[] finish() {
        checkNotFinished();
        if (!open.isEmpty()) {
            throw new IllegalStateException(open.size() + " node(s) still open");
        }
        if (!rootDone) {
            throw new IllegalStateException("the tree has no root node");
        }
        finished = true;
        struct.u32(FDT_END);

        int rsvSize = (reservations.size() + 1) * 16;
        int offRsv = HEADER_SIZE;
        int offStruct = offRsv + rsvSize;
        int offStrings = offStruct + struct.size();
        int end = offStrings + strings.size();
        int total = (end + 7) & ~7;

        Bytes out = new Bytes();
        out.u32(MAGIC);
        out.u32(total);
        out.u32(offStruct);
        out.u32(offStrings);
        out.u32(offRsv);
        out.u32(VERSION);
        out.u32(LAST_COMPATIBLE_VERSION);
        out.u32(bootCpuId);
        out.u32(strings.size());
        out.u32(struct.size());
        for (long[] r : reservations) {
            out.u64(r[0]);
            out.u64(r[1]);
        }
        out.u64(0);
        out.u64(0);
        out.bytes(struct.toArray());
        out.bytes(strings.toArray());
        out.align(8);
        return out.toArray();
    }

    private int stringOffset(String name) {
        Integer off = stringOffsets.get(name);
        if (off == null) {
            off = strings.size();
            strings.bytes(name.getBytes(StandardCharsets.UTF_8));
            strings.u8(0);
            stringOffsets.put(name, off);
        }
        return off;
    }

    private void checkNotFinished() {
        if (finished) {
            throw new IllegalStateException("finish() was already called");
        }
    }

    private static void checkNoNul(String s, String what) {
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " must not contain NUL: \"" + s.replace('\0', '?') + "\"");
        }
    }

    /** A growable big-endian byte buffer. */
    private static final class Bytes {
        private byte[] buf = new byte[256];
        private int len;

        private void ensure(int extra) {
            if (len + extra > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
            }
        }

        void u8(int v) {
            ensure(1);
            buf[len++] = (byte) v;
        }

        void u32(int v) {
            ensure(4);
            buf[len++] = (byte) (v >>> 24);
            buf[len++] = (byte) (v >>> 16);
            buf[len++] = (byte) (v >>> 8);
            buf[len++] = (byte) v;
        }

        void u64(long v) {
            u32((int) (v >>> 32));
            u32((int) v);
        }

        void bytes(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, len, b.length);
            len += b.length;
        }

        void align(int n) {
            while (len % n != 0) {
                u8(0);
            }
        }

        int size() {
            return len;
        }

        byte[] toArray() {
            return Arrays.copyOf(buf, len);
        }
    }
}
