// SPDX-License-Identifier: Apache-2.0
package dev.domus.agent.api;

import dev.domus.agent.domain.AgentException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.Map;

/** Maps the agent's exception to {@code application/problem+json}. */
@Provider
public class ProblemMapper implements ExceptionMapper<AgentException> {
    @Override
    public Response toResponse(AgentException e) {
        int status = switch (e.code()) {
            case AgentException.NOT_FOUND, AgentException.IMAGE -> 404;
            case AgentException.BAD_RECORD -> 400;
            case AgentException.BAD_STATE -> 409;
            default -> 500;
        };
        return Response.status(status).type("application/problem+json")
                .entity(Map.of("type", "urn:domus:agent:" + e.code(), "title", e.code(), "status", status,
                        "detail", String.valueOf(e.getMessage())))
                .build();
    }
}
