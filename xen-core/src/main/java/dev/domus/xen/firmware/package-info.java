// SPDX-License-Identifier: Apache-2.0
/**
 * What the machine hands the guest at boot instead of a BIOS: the device tree describing the platform (and, in
 * sibling packages, the SBI implementation). Nothing here touches guest memory directly; it produces bytes and
 * handles requests.
 */
package dev.domus.xen.firmware;
