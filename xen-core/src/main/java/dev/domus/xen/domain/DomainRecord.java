// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.api.CpuEngineKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The domain section of a snapshot: the validated {@link DomainConfig} as one versioned JSON object, so a restore
 * needs neither the original config file nor the environment it was expanded with.
 */
final class DomainRecord {
    static final long VERSION = 1;

    private DomainRecord() {
    }

    static byte[] encode(DomainConfig c) {
        Map<String, Object> m = Json.obj("version", VERSION, "source", c.source().toString(), "name", c.name(),
                "memory_mib", (long) c.memoryMiB(), "vcpus", (long) c.vcpus(), "kernel", c.kernel().toString(),
                "ramdisk", c.ramdisk().map(Path::toString).orElse(""), "cmdline", c.cmdline(),
                "cpu_cap", (long) c.cpuCapPercent(), "on_poweroff", c.onPoweroff().configName(),
                "on_reboot", c.onReboot().configName(), "on_crash", c.onCrash().configName(),
                "disks", new ArrayList<Object>(c.disks()), "vifs", new ArrayList<Object>(c.vifs()),
                "cpu_engine", c.cpuEngine().map(CpuEngineKind::configName).orElse(""));
        return Json.write(m).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @throws DomainException {@code snapshot} when the record is missing, malformed or of another version
     */
    static DomainConfig decode(byte[] bytes) {
        if (bytes.length == 0) {
            throw bad("the snapshot has no domain record");
        }
        Map<String, Object> m;
        try {
            m = Json.parseObject(new String(bytes, StandardCharsets.UTF_8));
        } catch (Json.ParseException e) {
            throw bad("domain record is not valid JSON: " + e.getMessage());
        }
        if (!(m.get("version") instanceof Long v) || v != VERSION) {
            throw bad("domain record version " + m.get("version") + " is not supported (expected " + VERSION + ")");
        }
        try {
            String rd = str(m, "ramdisk");
            return new DomainConfig(Path.of(str(m, "source")), str(m, "name"), (int) num(m, "memory_mib"),
                    (int) num(m, "vcpus"), Path.of(str(m, "kernel")),
                    rd.isEmpty() ? Optional.empty() : Optional.of(Path.of(rd)), str(m, "cmdline"),
                    (int) num(m, "cpu_cap"), action(m, "on_poweroff"), action(m, "on_reboot"), action(m, "on_crash"),
                    strings(m, "disks"), strings(m, "vifs"), engine(m));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw bad("domain record is invalid: " + e.getMessage());
        }
    }

    /** {@code cpu_engine}: absent (older record) or empty = not configured. */
    private static Optional<CpuEngineKind> engine(Map<String, Object> m) {
        if (!m.containsKey("cpu_engine")) {
            return Optional.empty();
        }
        String e = str(m, "cpu_engine");
        return e.isEmpty() ? Optional.empty() : Optional.of(CpuEngineKind.parse(e));
    }

    private static DomainException bad(String msg) {
        return new DomainException(DomainException.SNAPSHOT, msg);
    }

    private static String str(Map<String, Object> m, String k) {
        if (!(m.get(k) instanceof String s)) {
            throw new IllegalArgumentException(k + " must be a string");
        }
        return s;
    }

    private static long num(Map<String, Object> m, String k) {
        if (!(m.get(k) instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(k + " must be a non-negative integer");
        }
        return l;
    }

    private static LifecycleAction action(Map<String, Object> m, String k) {
        return LifecycleAction.fromConfigName(str(m, k))
                .orElseThrow(() -> new IllegalArgumentException(k + " is not a lifecycle action"));
    }

    private static List<String> strings(Map<String, Object> m, String k) {
        if (!(m.get(k) instanceof List<?> l) || l.size() > 16) {
            throw new IllegalArgumentException(k + " must be a list of at most 16 strings");
        }
        List<String> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof String s)) {
                throw new IllegalArgumentException(k + " must hold strings");
            }
            out.add(s);
        }
        return out;
    }
}
