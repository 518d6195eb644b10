// SPDX-License-Identifier: Apache-2.0
/**
 * Pre-copy live migration over TCP: a handshake (format version, machine configuration), full RAM while the guest
 * runs, rounds of dirty pages until the rest fits the downtime target, then a short stop-and-copy of the last pages
 * and the device state. The source resumes its guest on any failure before the target's acknowledgement.
 */
package dev.domus.xen.migration;
