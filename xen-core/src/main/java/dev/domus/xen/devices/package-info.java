// SPDX-License-Identifier: Apache-2.0
/**
 * Platform devices of the virtual machine, one sub-package per device family. Every device is an
 * {@link dev.domus.xen.bus.MmioDevice} and treats every guest-supplied value as hostile.
 */
package dev.domus.xen.devices;
