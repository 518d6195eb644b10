// SPDX-License-Identifier: Apache-2.0
/**
 * End-to-end tests of the whole platform: local-stack's {@code Platform} starts PostgreSQL, Kafka, Keycloak, the
 * packaged control plane and host agents in network namespaces; the tests act only through the public API (OIDC
 * password grant, then a personal access token) and observe the hosts (runner processes, disks, taps) from outside.
 */
package dev.domus.e2e;
