// SPDX-License-Identifier: Apache-2.0
/**
 * The system bus: a fixed map from guest-physical ranges to {@link dev.domus.xen.bus.MmioDevice} register windows.
 * Devices see offsets only; the bus rejects overlapping mappings when the machine is assembled.
 */
package dev.domus.xen.bus;
