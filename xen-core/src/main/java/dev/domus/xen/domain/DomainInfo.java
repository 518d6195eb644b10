// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

/**
 * What the {@code info} command reports about one domain.
 *
 * @param name          domain name
 * @param state         current state
 * @param pid           process id of the domain runner (shown as the ID column of {@code xl list})
 * @param vcpus         number of vCPUs
 * @param memoryMiB     guest RAM
 * @param uptimeMillis  wall time since the current machine started
 * @param cpuTimeMillis host CPU time used by the current machine's vCPU threads
 * @param instructions  instructions retired by the current machine
 * @param config        absolute path of the configuration file
 * @param restarts      how often the machine was rebuilt by a {@code restart} policy
 */
public record DomainInfo(String name, DomainState state, long pid, int vcpus, int memoryMiB, long uptimeMillis,
                         long cpuTimeMillis, long instructions, String config, int restarts) { }
