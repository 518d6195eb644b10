// SPDX-License-Identifier: Apache-2.0
/**
 * The Goldfish real-time clock: wall-clock time for the guest (read by Linux at boot for hctosys) and a one-shot
 * alarm interrupt. Guest time is the host's wall clock plus an offset the guest or the toolstack may set.
 */
package dev.domus.xen.devices.rtc;
