// SPDX-License-Identifier: Apache-2.0
/**
 * Test-only kit for integration tests that need real Linux networking: {@link dev.domus.xen.testing.NetNs}
 * creates throw-away network namespaces (with bridges, veths and processes inside) and removes them on close, and
 * {@link dev.domus.xen.testing.Frames} builds and parses the Ethernet/ARP/IPv4/ICMP frames such tests exchange;
 * {@link dev.domus.xen.testing.RamMachine} is the base of the RAM-only stand-in machines of single-class tests.
 * Nothing here ships; it needs root (CAP_NET_ADMIN/CAP_SYS_ADMIN) and iproute2.
 */
package dev.domus.xen.testing;
