// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.devices.rtc;

/**
 * Snapshot of the Goldfish RTC. Time itself is not saved: after a restore the guest clock follows the host's wall
 * clock again, shifted by the same offset.
 *
 * @param offsetNanos  guest time minus host wall-clock time, in nanoseconds
 * @param alarmNanos   alarm time (guest nanoseconds since the epoch)
 * @param alarmRunning alarm armed and not yet fired (ALARM_STATUS)
 * @param irqEnabled   IRQ_ENABLED
 * @param irqPending   alarm fired and not yet acknowledged with CLEAR_INTERRUPT
 * @param timeHigh     high word latched by the last TIME_LOW read or TIME_HIGH write
 */
public record GoldfishRtcState(long offsetNanos, long alarmNanos, boolean alarmRunning, boolean irqEnabled,
                               boolean irqPending, int timeHigh) {
}
