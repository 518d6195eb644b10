// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.cp.service.IdempotencyService;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** Small helpers to build responses. */
final class Responses {
    private Responses() {
    }

    static Response ok(Object body) {
        return Response.ok(body, MediaType.APPLICATION_JSON_TYPE).build();
    }

    static Response noContent() {
        return Response.noContent().build();
    }

    /** A stored (or just produced) idempotent response: its JSON as is. */
    static Response stored(IdempotencyService.Stored s) {
        return Response.status(s.status()).type(MediaType.APPLICATION_JSON_TYPE).entity(s.json()).build();
    }
}
