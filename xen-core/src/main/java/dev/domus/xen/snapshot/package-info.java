// SPDX-License-Identifier: Apache-2.0
/**
 * The xen-core snapshot format: a versioned, CRC32C-checked section file holding the machine configuration, every
 * vCPU, every device (with virtqueue state) and guest RAM with zero pages elided. Reading validates every length
 * and count against limits before allocating and checks the whole file before a machine is built from it.
 */
package dev.domus.xen.snapshot;
