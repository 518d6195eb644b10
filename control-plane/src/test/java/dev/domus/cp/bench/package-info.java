// SPDX-License-Identifier: Apache-2.0
/**
 * The API benchmark ({@code control-plane/bench/run}): fixed-rate load on loopback against the packaged app with
 * real PostgreSQL and Kafka. Never run as a test.
 */
package dev.domus.cp.bench;
