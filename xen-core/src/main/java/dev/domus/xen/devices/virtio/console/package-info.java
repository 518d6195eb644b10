// SPDX-License-Identifier: Apache-2.0
/**
 * virtio-console: a single-port virtio console (no multiport) whose output joins the machine's console stream and
 * whose input comes from the console socket, so the guest can use it as its console ({@code console=hvc1} on the
 * Domus kernel, where {@code hvc0} is the SBI console).
 */
package dev.domus.xen.devices.virtio.console;
