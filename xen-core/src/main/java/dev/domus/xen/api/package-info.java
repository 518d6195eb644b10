// SPDX-License-Identifier: Apache-2.0
/**
 * The public face of xen-core: machine configuration, the running machine, its listener callbacks and exit reasons.
 * The domain runner, the xl CLI and the host agent depend on this package only.
 */
package dev.domus.xen.api;
