// SPDX-License-Identifier: Apache-2.0
/**
 * Domains: the xl.cfg-style configuration, the domain runner process that owns one machine and applies its
 * lifecycle policy, and the control and console sockets it serves in the run directory. {@link
 * dev.domus.xen.domain.DomainClient}, {@link dev.domus.xen.domain.ConsoleClient} and {@link
 * dev.domus.xen.domain.DomainLauncher} are the client side that {@code xl} and the host agent use.
 */
package dev.domus.xen.domain;
