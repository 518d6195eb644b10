// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.cp.service.Caller;
import dev.domus.cp.service.IdempotencyService;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

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

    /**
     * A POST under the caller's {@code Idempotency-Key}: {@code work} runs once and answers {@code status} with
     * its result; a retry with the same key and body ({@code route} + {@code body} identify the request) replays
     * the stored answer.
     */
    static Response idempotent(IdempotencyService idempotency, Caller c, String idempotencyKey, String route,
                               Object body, int status, Supplier<Object> work) {
        return stored(idempotency.execute(c, Optional.ofNullable(idempotencyKey), List.of(route, body),
                () -> new IdempotencyService.Result(status, work.get())));
    }
}
