// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.firmware.fdt;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict DTB parser for tests: checks the header, block alignment and token stream and returns the tree.
 * Throws {@link IllegalArgumentException} on anything malformed.
 */
final class FdtTestReader {
    record Header(int totalSize, int offStruct, int offStrings, int offRsv, int version, int lastCompVersion,
                  int bootCpu, int sizeStrings, int sizeStruct) {
    }

    /** A parsed node with its properties in document order. */
    static final class Node {
        final String name;
        final Map<String, byte[]> props = new LinkedHashMap<>();
        final List<Node> children = new ArrayList<>();

        Node(String name) {
            this.name = name;
        }

        Node child(String childName) {
            for (Node c : children) {
                if (c.name.equals(childName)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("no child " + childName + " under " + name);
        }

        /** Resolves an absolute path like "/soc/serial@10000000". */
        Node path(String path) {
            Node n = this;
            for (String part : path.split("/")) {
                if (!part.isEmpty()) {
                    n = n.child(part);
                }
            }
            return n;
        }

        boolean has(String prop) {
            return props.containsKey(prop);
        }

        byte[] raw(String prop) {
            byte[] v = props.get(prop);
            if (v == null) {
                throw new IllegalArgumentException("no property " + prop + " in " + name);
            }
            return v;
        }

        int[] cells(String prop) {
            byte[] v = raw(prop);
            if (v.length % 4 != 0) {
                throw new IllegalArgumentException(prop + " is not a cell array");
            }
            int[] c = new int[v.length / 4];
            ByteBuffer.wrap(v).asIntBuffer().get(c);
            return c;
        }

        int u32(String prop) {
            int[] c = cells(prop);
            if (c.length != 1) {
                throw new IllegalArgumentException(prop + " has " + c.length + " cells");
            }
            return c[0];
        }

        long u64(String prop) {
            byte[] v = raw(prop);
            if (v.length != 8) {
                throw new IllegalArgumentException(prop + " is " + v.length + " bytes");
            }
            return ByteBuffer.wrap(v).getLong();
        }

        List<String> strings(String prop) {
            byte[] v = raw(prop);
            if (v.length == 0 || v[v.length - 1] != 0) {
                throw new IllegalArgumentException(prop + " is not NUL-terminated");
            }
            List<String> out = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < v.length; i++) {
                if (v[i] == 0) {
                    out.add(new String(v, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return out;
        }

        String string(String prop) {
            List<String> s = strings(prop);
            if (s.size() != 1) {
                throw new IllegalArgumentException(prop + " has " + s.size() + " strings");
            }
            return s.get(0);
        }
    }

    final Header header;
    final List<long[]> reservations = new ArrayList<>();
    final Node root;

    FdtTestReader(byte[] blob) {
        ByteBuffer b = ByteBuffer.wrap(blob);
        if (blob.length < 40 || b.getInt(0) != 0xd00dfeed) {
            throw new IllegalArgumentException("bad magic");
        }
        header = new Header(b.getInt(4), b.getInt(8), b.getInt(12), b.getInt(16), b.getInt(20), b.getInt(24),
                b.getInt(28), b.getInt(32), b.getInt(36));
        if (header.totalSize() != blob.length) {
            throw new IllegalArgumentException("totalsize " + header.totalSize() + " != blob " + blob.length);
        }
        if (header.offRsv() % 8 != 0 || header.offStruct() % 4 != 0) {
            throw new IllegalArgumentException("misaligned blocks");
        }
        if (header.offStruct() + header.sizeStruct() > header.offStrings()
                || header.offStrings() + header.sizeStrings() > blob.length) {
            throw new IllegalArgumentException("blocks overlap or overflow");
        }
        int p = header.offRsv();
        while (true) {
            long addr = b.getLong(p);
            long size = b.getLong(p + 8);
            p += 16;
            if (addr == 0 && size == 0) {
                break;
            }
            reservations.add(new long[] {addr, size});
        }
        if (p > header.offStruct()) {
            throw new IllegalArgumentException("reservation block runs into the structure block");
        }
        int[] pos = {header.offStruct()};
        int end = header.offStruct() + header.sizeStruct();
        if (b.getInt(pos[0]) != FdtWriter.FDT_BEGIN_NODE) {
            throw new IllegalArgumentException("structure block does not start with a node");
        }
        root = parseNode(b, pos, end);
        if (b.getInt(pos[0]) != FdtWriter.FDT_END || pos[0] + 4 != end) {
            throw new IllegalArgumentException("missing FDT_END at the end of the structure block");
        }
    }

    private Node parseNode(ByteBuffer b, int[] pos, int end) {
        pos[0] += 4;
        String name = cString(b, pos[0], end);
        pos[0] = align4(pos[0] + name.getBytes(StandardCharsets.UTF_8).length + 1);
        Node node = new Node(name);
        boolean sawChild = false;
        while (pos[0] < end) {
            int token = b.getInt(pos[0]);
            switch (token) {
                case FdtWriter.FDT_PROP -> {
                    if (sawChild) {
                        throw new IllegalArgumentException("property after child in " + name);
                    }
                    int len = b.getInt(pos[0] + 4);
                    int nameOff = b.getInt(pos[0] + 8);
                    if (nameOff < 0 || nameOff >= header.sizeStrings()) {
                        throw new IllegalArgumentException("bad name offset");
                    }
                    String prop = cString(b, header.offStrings() + nameOff, header.offStrings() + header.sizeStrings());
                    byte[] v = new byte[len];
                    b.get(pos[0] + 12, v);
                    if (node.props.put(prop, v) != null) {
                        throw new IllegalArgumentException("duplicate property " + prop);
                    }
                    pos[0] = align4(pos[0] + 12 + len);
                }
                case FdtWriter.FDT_BEGIN_NODE -> {
                    sawChild = true;
                    node.children.add(parseNode(b, pos, end));
                }
                case FdtWriter.FDT_END_NODE -> {
                    pos[0] += 4;
                    return node;
                }
                case 4 -> pos[0] += 4; // FDT_NOP
                default -> throw new IllegalArgumentException("bad token " + token + " at " + pos[0]);
            }
        }
        throw new IllegalArgumentException("node " + name + " not closed");
    }

    private static String cString(ByteBuffer b, int from, int limit) {
        int i = from;
        while (i < limit && b.get(i) != 0) {
            i++;
        }
        if (i >= limit) {
            throw new IllegalArgumentException("unterminated string at " + from);
        }
        byte[] s = new byte[i - from];
        b.get(from, s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static int align4(int x) {
        return (x + 3) & ~3;
    }

    /** dtc's output: the DTS text and whatever it printed on stderr (warnings). */
    record Dtc(String dts, String warnings) {
    }

    /** Decompiles with dtc when it is installed; null when dtc is missing. */
    static Dtc dtcDecompile(byte[] blob) throws Exception {
        java.nio.file.Path dtb = java.nio.file.Files.createTempFile("domus-test", ".dtb");
        try {
            java.nio.file.Files.write(dtb, blob);
            java.nio.file.Path err = java.nio.file.Files.createTempFile("domus-test", ".err");
            try {
                Process p;
                try {
                    p = new ProcessBuilder("dtc", "-I", "dtb", "-O", "dts", dtb.toString())
                            .redirectError(err.toFile()).start();
                } catch (java.io.IOException e) {
                    return null;
                }
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int rc = p.waitFor();
                if (rc != 0) {
                    throw new AssertionError("dtc failed with " + rc + ":\n" + java.nio.file.Files.readString(err));
                }
                return new Dtc(out, java.nio.file.Files.readString(err));
            } finally {
                java.nio.file.Files.deleteIfExists(err);
            }
        } finally {
            java.nio.file.Files.deleteIfExists(dtb);
        }
    }
}
