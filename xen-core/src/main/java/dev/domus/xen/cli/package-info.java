// SPDX-License-Identifier: Apache-2.0
/**
 * The {@code xl} command line (plus {@code Boot} for a foreground boot and {@code RunElf} for bare-metal test
 * programs): parses verbs, validates configurations, launches domain runners and talks to them
 * through the control and console sockets of {@link dev.domus.xen.domain}. It holds no domain state of its own.
 */
package dev.domus.xen.cli;
