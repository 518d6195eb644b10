// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.power;

/** Snapshot of the SiFive test device, which has no state; kept so every device saves and restores alike. */
public record SifiveTestState() {
}
