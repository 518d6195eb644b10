// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

import java.util.Locale;

/** Which CPU engine runs a machine's harts: xl.cfg {@code cpu_engine = "jit" | "interpreter"}. */
public enum CpuEngineKind {
    /** The reference interpreter. */
    INTERPRETER,
    /** Translation of guest code to JVM bytecode, with the interpreter for cold and complex code. */
    JIT;

    /** System property that picks the engine when the configuration does not (tests, benchmarks). */
    public static final String PROPERTY = "domus.cpu.engine";

    /** The configuration spelling ("jit", "interpreter"). */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a configuration value; says what is allowed otherwise. */
    public static CpuEngineKind parse(String s) {
        for (CpuEngineKind k : values()) {
            if (k.configName().equals(s)) {
                return k;
            }
        }
        throw new IllegalArgumentException("cpu_engine must be \"jit\" or \"interpreter\", got \"" + s + "\"");
    }

    /**
     * The engine used when none is configured: {@code -Ddomus.cpu.engine=...}, else the JIT (the default since it
     * passes LinuxBootIT and XlBootIT; the interpreter remains the reference and the fallback inside it).
     */
    public static CpuEngineKind defaultKind() {
        String p = System.getProperty(PROPERTY);
        return p == null || p.isBlank() ? JIT : parse(p.trim());
    }
}
