// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-blk: a raw (possibly sparse) image file as a guest disk, with read-only mode, flush that reaches the
 * host disk (fsync) and discard / write-zeroes that punch holes. Requests are served synchronously on the vCPU
 * thread that notified the queue.
 */
package dev.domus.xen.devices.virtio.blk;
