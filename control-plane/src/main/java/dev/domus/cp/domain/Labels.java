// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** Validation of label maps: at most 32, keys 1..63 of {@code [a-z0-9._/-]} starting alphanumeric, values <= 63. */
public final class Labels {
    static final Pattern KEY = Pattern.compile("[a-z0-9]([a-z0-9._/-]{0,62})?");
    private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._-]{0,63}");

    private Labels() {
    }

    /** A sorted copy of valid labels, or a validation error naming the bad key. */
    public static Map<String, String> validate(String field, Map<String, String> labels) {
        if (labels == null) {
            return new TreeMap<>();
        }
        if (labels.size() > 32) {
            throw DomusException.invalid(field, "at most 32 labels, got " + labels.size());
        }
        TreeMap<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (e.getKey() == null || !KEY.matcher(e.getKey()).matches()) {
                throw DomusException.invalid(field, "bad label key '" + e.getKey() + "'");
            }
            if (e.getValue() == null || !VALUE.matcher(e.getValue()).matches()) {
                throw DomusException.invalid(field + "." + e.getKey(), "label value must match [A-Za-z0-9._-]{0,63}");
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }
}
