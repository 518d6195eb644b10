// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A parsed label selector: comma-separated terms {@code k=v}, {@code k!=v}, {@code k} (has) and {@code !k} (has
 * not), all of which must match. Terms are turned into SQL over the jsonb column by the service.
 */
public record LabelSelector(List<Term> terms) {
    /** One selector term. */
    public sealed interface Term {
        String key();

        boolean matches(Map<String, String> labels);
    }

    public record Equals(String key, String value) implements Term {
        @Override
        public boolean matches(Map<String, String> labels) {
            return value.equals(labels.get(key));
        }
    }

    public record NotEquals(String key, String value) implements Term {
        @Override
        public boolean matches(Map<String, String> labels) {
            return !value.equals(labels.get(key));
        }
    }

    public record Exists(String key) implements Term {
        @Override
        public boolean matches(Map<String, String> labels) {
            return labels.containsKey(key);
        }
    }

    public record Absent(String key) implements Term {
        @Override
        public boolean matches(Map<String, String> labels) {
            return !labels.containsKey(key);
        }
    }

    public LabelSelector {
        terms = List.copyOf(terms);
    }

    public boolean matches(Map<String, String> labels) {
        for (Term t : terms) {
            if (!t.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    public static LabelSelector parse(String selector) {
        List<Term> terms = new ArrayList<>();
        if (selector == null || selector.isBlank()) {
            return new LabelSelector(terms);
        }
        for (String raw : selector.split(",")) {
            String t = raw.strip();
            Term term;
            int ne = t.indexOf("!=");
            int eq = t.indexOf('=');
            if (ne > 0) {
                term = new NotEquals(key(t.substring(0, ne).strip()), value(t.substring(ne + 2).strip()));
            } else if (eq > 0) {
                String v = t.substring(eq + 1).strip();
                if (v.startsWith("=")) {
                    v = v.substring(1).strip();
                }
                term = new Equals(key(t.substring(0, eq).strip()), value(v));
            } else if (t.startsWith("!")) {
                term = new Absent(key(t.substring(1).strip()));
            } else {
                term = new Exists(key(t));
            }
            terms.add(term);
        }
        return new LabelSelector(terms);
    }

    private static String key(String k) {
        if (!Labels.KEY.matcher(k).matches()) {
            throw DomusException.invalid("label_selector", "bad label key '" + k + "'");
        }
        return k;
    }

    private static String value(String v) {
        if (v.length() > 63 || !v.matches("[A-Za-z0-9._-]*")) {
            throw DomusException.invalid("label_selector", "bad label value '" + v + "'");
        }
        return v;
    }
}
