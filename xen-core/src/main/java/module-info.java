// SPDX-License-Identifier: Apache-2.0
/**
 * xen-core: the Domus RISC-V machine, domains and the xl toolstack. The host agent uses {@code api}, {@code boot}
 * (the machine factory) and {@code domain} (runner, client, configuration); everything else is internal and only
 * exported to keep tools such as benchmarks and the bare-metal runner on the public surface they need.
 */
module dev.domus.xen {
    requires java.logging;
    requires java.management;
    requires jdk.management;

    exports dev.domus.xen.api;
    exports dev.domus.xen.boot;
    exports dev.domus.xen.domain;
    exports dev.domus.xen.cli;
}
