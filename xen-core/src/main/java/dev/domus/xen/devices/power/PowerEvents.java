// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.power;

/**
 * Guest power requests, delivered on the vCPU thread that made them. Implementations must return quickly (record
 * the request and stop the vCPUs asynchronously) and must not throw.
 */
public interface PowerEvents {
    /** The guest powered itself off with exit {@code code} (0 for a normal shutdown). */
    void powerOff(int code);

    /** The guest asked for a reboot. */
    void reset();

    /** The guest crashed; {@code reason} is a short human-readable explanation. */
    void crash(String reason);

    /**
     * The guest reported a failure with {@code code} (SiFive test "fail", used by bare-metal test programs). By
     * default a crash.
     */
    default void fail(int code) {
        crash("guest reported failure (sifive test, code " + code + ")");
    }

    /**
     * The guest panicked but has a crash kernel loaded and will dump and reboot by itself (pvpanic CRASH_LOADED).
     * By default a crash, as for a plain panic; a domain that wants to let kdump run should override this.
     */
    default void crashLoaded() {
        crash("guest crash loaded (pvpanic)");
    }

    /** Ignores everything. */
    PowerEvents NONE = new PowerEvents() {
        @Override
        public void powerOff(int code) {
        }

        @Override
        public void reset() {
        }

        @Override
        public void crash(String reason) {
        }
    };
}
