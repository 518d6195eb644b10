// SPDX-License-Identifier: Apache-2.0
/**
 * Guest-physical RAM: one off-heap segment with little-endian, optionally atomic accessors, and the per-page dirty
 * log that snapshots and live migration read. Nothing here knows about CPUs or devices.
 */
package dev.domus.xen.memory;
