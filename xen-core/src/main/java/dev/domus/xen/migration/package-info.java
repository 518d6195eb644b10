// SPDX-License-Identifier: Apache-2.0
/**
 * Pre-copy live migration over TCP: a handshake (format version, machine configuration), optional mirroring of
 * local disks, full RAM while the guest runs, rounds of dirty pages until the rest fits the downtime target, then a
 * short stop-and-copy of the last pages and the device state, ended by a READY / COMMIT / DONE hand-over so that
 * two copies never run: the source resumes its guest on any failure before COMMIT, the target runs it only after
 * reading COMMIT.
 */
package dev.domus.xen.migration;
