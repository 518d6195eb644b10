// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.api;

/**
 * Statistics of a machine.
 *
 * @param vcpus           number of harts
 * @param memoryMiB       guest RAM size
 * @param instructions    instructions retired over all harts
 * @param uptimeMillis    wall time since start
 * @param cpuTimeMillis   host CPU time used by the vCPU threads
 */
public record MachineInfo(int vcpus, int memoryMiB, long instructions, long uptimeMillis, long cpuTimeMillis) { }
