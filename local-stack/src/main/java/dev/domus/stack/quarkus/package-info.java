// SPDX-License-Identifier: Apache-2.0
/**
 * Quarkus test resources for the real services: each starts its service once per test JVM (shared by every test
 * class that declares it), returns the configuration an app needs and leaves stopping to a shutdown hook.
 * Apps declare them with {@code @WithTestResource(value = ..., scope = TestResourceScope.GLOBAL)}.
 */
package dev.domus.stack.quarkus;
