// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.api.DiskConfig;
import dev.domus.xen.api.NicConfig;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Interprets the {@code disk} and {@code vif} entries of a domain configuration. Both throw
 * {@link IllegalArgumentException} with a message the parser prefixes with {@code file:line}.
 *
 * <ul>
 *   <li>{@code disk = ['<path>,<rw|ro>,<vdX>[,shared]', ...]}: a raw image (relative paths from the config's
 *       folder); {@code shared} marks an image on storage every host sees at the same path: a live migration never
 *       copies it ({@code --mirror-disks all} skips it) and the target opens it in place;
 *   <li>{@code vif = ['mac=52:54:00:12:34:56,bridge=br0,vifname=tap-web1', ...]}: every key optional; the MAC
 *       defaults to a stable locally administered address derived from domain name and index, the tap name to
 *       {@code vif<8 hex>.<index>} (at most 15 characters), no bridge means the tap is not attached.
 * </ul>
 */
final class DeviceSpecs {
    private DeviceSpecs() {
    }

    /**
     * One disk entry as the domain configuration keeps it ({@link #normalised()}:
     * {@code <absolute path>,<rw|ro>,<vdX>} plus {@code ,shared} when shared).
     */
    record DiskEntry(Path image, boolean readOnly, String target, boolean shared) {
        static final String SHARED = "shared";

        String normalised() {
            return image + "," + (readOnly ? "ro" : "rw") + "," + target + (shared ? "," + SHARED : "");
        }

        DiskConfig toDiskConfig() {
            return new DiskConfig(image, readOnly, target);
        }

        /** Parses {@link #normalised()} output; the path may itself contain commas, so this reads from the end. */
        static DiskEntry parse(String normalised) {
            String e = normalised;
            boolean shared = e.endsWith("," + SHARED);
            if (shared) {
                e = e.substring(0, e.length() - SHARED.length() - 1);
            }
            int t = e.lastIndexOf(',');
            int m = t <= 0 ? -1 : e.lastIndexOf(',', t - 1);
            if (m <= 0) {
                throw new IllegalArgumentException("not a normalised disk entry: '" + normalised + "'");
            }
            return new DiskEntry(Path.of(e.substring(0, m)), e.substring(m + 1, t).equals("ro"), e.substring(t + 1),
                    shared);
        }
    }

    static DiskEntry disk(String entry, Path baseDir) {
        String[] parts = entry.split(",", -1);
        if (parts.length != 3 && parts.length != 4) {
            throw new IllegalArgumentException("disk entry must be '<path>,<rw|ro>,<vdX>[,shared]', got '" + entry
                    + "'");
        }
        String path = parts[0].trim();
        String mode = parts[1].trim();
        String target = parts[2].trim();
        boolean shared = parts.length == 4;
        if (shared && !parts[3].trim().equals(DiskEntry.SHARED)) {
            throw new IllegalArgumentException("the fourth field of a disk entry can only be 'shared', got '"
                    + parts[3].trim() + "'");
        }
        if (path.isEmpty()) {
            throw new IllegalArgumentException("disk entry '" + entry + "' has an empty path");
        }
        if (!mode.equals("rw") && !mode.equals("ro")) {
            throw new IllegalArgumentException("disk mode must be rw or ro, got '" + mode + "'");
        }
        if (!target.matches("vd[a-z]")) {
            throw new IllegalArgumentException("disk target must be vda..vdz, got '" + target + "'");
        }
        Path p = baseDir.resolve(path).normalize();
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("disk " + target + " image " + p + " does not exist");
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("disk " + target + " image " + p + " is not a regular file");
        }
        if (!Files.isReadable(p) || (mode.equals("rw") && !Files.isWritable(p))) {
            throw new IllegalArgumentException("disk " + target + " image " + p + " is not "
                    + (mode.equals("rw") ? "readable and writable" : "readable"));
        }
        return new DiskEntry(p, mode.equals("ro"), target, shared);
    }

    static NicConfig vif(String entry, String domain, int index) {
        String mac = null;
        String bridge = null;
        String ifname = null;
        if (!entry.isBlank()) {
            for (String kv : entry.split(",", -1)) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("vif item must be key=value, got '" + kv.trim() + "'");
                }
                String k = kv.substring(0, eq).trim();
                String val = kv.substring(eq + 1).trim();
                switch (k) {
                    case "mac" -> mac = once(k, mac, val);
                    case "bridge" -> bridge = once(k, bridge, val);
                    case "vifname" -> ifname = once(k, ifname, val);
                    default -> throw new IllegalArgumentException("unknown vif key '" + k
                            + "' (known: mac, bridge, vifname)");
                }
            }
        }
        byte[] h = hash(domain + "#" + index);
        if (mac == null) {
            mac = String.format("02:%02x:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3], h[4]);
        }
        if (ifname == null) {
            ifname = "vif" + HexFormat.of().formatHex(h, 5, 9) + "." + index;
        }
        return new NicConfig(mac, ifname, Optional.ofNullable(bridge));
    }

    private static String once(String key, String old, String value) {
        if (old != null) {
            throw new IllegalArgumentException("vif key '" + key + "' is given twice");
        }
        if (value.isEmpty()) {
            throw new IllegalArgumentException("vif key '" + key + "' has an empty value");
        }
        return value;
    }

    private static byte[] hash(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
