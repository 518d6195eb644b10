// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Scopes of a personal access token: read (GET), write (change resources), admin (tenancy, tokens). */
public enum Scope {
    READ, WRITE, ADMIN;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Scope fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }

    /** Comma-separated wire form, as stored. */
    public static String join(Set<Scope> scopes) {
        StringBuilder b = new StringBuilder();
        for (Scope s : EnumSet.copyOf(scopes)) {
            if (!b.isEmpty()) {
                b.append(',');
            }
            b.append(s.wire());
        }
        return b.toString();
    }

    public static Set<Scope> parse(String joined) {
        Set<Scope> out = EnumSet.noneOf(Scope.class);
        for (String p : joined.split(",")) {
            if (!p.isBlank()) {
                out.add(fromWire(p.trim()));
            }
        }
        return out;
    }
}
