// SPDX-License-Identifier: Apache-2.0
/**
 * Interrupt plumbing: device interrupt lines, the harts' pending bits, the platform clock, and the controllers
 * that connect them (CLINT for timer and software interrupts, PLIC for external device interrupts).
 */
package dev.domus.xen.devices.irq;
