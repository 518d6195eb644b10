// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.domus.api.billing.model.BillingProblem;
import dev.domus.billing.service.BillingException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error the API can raise, as {@code application/problem+json} with a stable code. */
public class ProblemMapper {
    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);

    static Response problem(int status, String code, String detail) {
        BillingProblem p = new BillingProblem().type("https://domus.dev/problems/" + code)
                .title(Response.Status.fromStatusCode(status) == null ? code
                        : Response.Status.fromStatusCode(status).getReasonPhrase())
                .status(status).code(code).detail(detail);
        return Response.status(status).type("application/problem+json").entity(p).build();
    }

    @ServerExceptionMapper
    public Response billing(BillingException e) {
        if (e.code() == BillingException.Code.UNAVAILABLE) {
            LOG.errorf("event=api.unavailable error=\"%s\"", e.getMessage());
        }
        if (e.code() == BillingException.Code.UNAUTHENTICATED) {
            return unauthenticated(e.getMessage());
        }
        return problem(e.code().status(), e.code().wire(), e.getMessage());
    }

    static Response unauthenticated(String detail) {
        return Response.fromResponse(problem(401, "unauthenticated", detail)).header("WWW-Authenticate", "Bearer")
                .build();
    }

    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e) {
        return unauthenticated("a bearer token is required");
    }

    @ServerExceptionMapper
    public Response authenticationFailed(AuthenticationFailedException e) {
        // A BillingException (control plane unreachable) while resolving a personal token keeps its status.
        if (e.getCause() instanceof BillingException b) {
            return billing(b);
        }
        return unauthenticated("invalid, expired or revoked token");
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e) {
        return problem(403, "forbidden", "not allowed");
    }

    @ServerExceptionMapper
    public Response rating(dev.domus.billing.rating.RatingException e) {
        return problem(400, "invalid", e.getMessage());
    }

    @ServerExceptionMapper
    public Response validation(ConstraintViolationException e) {
        return problem(400, "invalid", e.getMessage());
    }

    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        return problem(400, "invalid", "malformed JSON: " + e.getOriginalMessage());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int s = e.getResponse().getStatus();
        return problem(s, s == 404 ? "not_found" : s == 405 ? "method_not_allowed" : s < 500 ? "invalid" : "internal",
                e.getMessage());
    }

    @ServerExceptionMapper
    public Response other(Exception e) {
        LOG.errorf(e, "event=api.internal_error error=\"%s\"", e.getMessage());
        return problem(500, "internal", "internal error");
    }
}
