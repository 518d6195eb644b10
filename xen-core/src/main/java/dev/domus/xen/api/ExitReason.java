// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

/** Why a machine stopped running. The domain layer maps these to on_poweroff / on_reboot / on_crash. */
public sealed interface ExitReason {
    /** The guest powered off (SBI SRST shutdown, SiFive test device 0x5555). */
    record PowerOff(int code) implements ExitReason { }

    /** The guest asked for a reboot (SBI SRST reboot, test device 0x7777). */
    record Reboot() implements ExitReason { }

    /** The guest crashed: kernel panic reported via pvpanic or SRST reason, test device failure, or a fatal
     * machine error. {@code reason} is a short human-readable description. */
    record Crash(String reason) implements ExitReason { }

    /** The host destroyed the machine. */
    record Destroyed() implements ExitReason { }
}
