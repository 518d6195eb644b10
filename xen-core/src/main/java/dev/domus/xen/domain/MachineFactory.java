// SPDX-License-Identifier: Apache-2.0
package dev.domus.xen.domain;

import dev.domus.xen.api.Machine;
import dev.domus.xen.api.MachineConfig;
import dev.domus.xen.api.MachineListener;

/** How a domain obtains machines: {@code Machines::create} in the runner, a test double in unit tests. */
@FunctionalInterface
interface MachineFactory {
    Machine create(MachineConfig config, MachineListener listener);
}
