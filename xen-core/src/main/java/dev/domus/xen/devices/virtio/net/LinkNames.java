// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.virtio.net;

/** Validation of Linux interface names before they reach a syscall or an {@code ip} command line. */
final class LinkNames {
    private LinkNames() {
    }

    /**
     * Returns {@code name} if it is 1..15 characters of {@code [A-Za-z0-9_.-]} and not {@code .} or {@code ..}
     * (which the kernel refuses); otherwise throws {@link IllegalArgumentException} naming {@code what}.
     */
    static String check(String what, String name) {
        if (name == null || name.isEmpty() || name.length() > Libc.IFNAMSIZ - 1) {
            throw new IllegalArgumentException(what + " must be 1..15 characters of [A-Za-z0-9_.-], got "
                    + (name == null ? "null" : "\"" + printable(name) + "\" (" + name.length() + " characters)"));
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '.' || c == '-';
            if (!ok) {
                throw new IllegalArgumentException(what + " must be 1..15 characters of [A-Za-z0-9_.-], got \""
                        + printable(name) + "\" (bad character at index " + i + ")");
            }
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException(what + " must not be \".\" or \"..\"");
        }
        return name;
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length() && i < 40; i++) {
            char c = s.charAt(i);
            sb.append(c >= ' ' && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return s.length() > 40 ? sb + "..." : sb.toString();
    }
}
