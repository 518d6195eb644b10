// SPDX-License-Identifier: Apache-2.0
/**
 * Devices through which the guest reports its power state: the SiFive test device (poweroff, reset, failure) and
 * the pvpanic device (kernel panic). Both only translate register writes into {@link
 * dev.domus.xen.devices.power.PowerEvents}; what happens next is the domain's on_poweroff/on_reboot/on_crash policy.
 */
package dev.domus.xen.devices.power;
