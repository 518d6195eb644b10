// SPDX-License-Identifier: Apache-2.0
/**
 * JAX-RS resources implementing the interfaces generated from {@code api-spec/openapi.yaml}, the mapping between
 * generated models and entities, the problem+json mapper and the cross-cutting filters (body limit, rate limit,
 * audit). Resources hold no logic: they translate and delegate to {@code service}.
 */
package dev.domus.cp.api;
