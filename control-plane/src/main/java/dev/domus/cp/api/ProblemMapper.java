// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.domus.cp.domain.DomusException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Routes every exception type the API can raise to {@link Problems}; these override Quarkus' built-in mappers. */
public class ProblemMapper {

    @ServerExceptionMapper
    public Response domus(DomusException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response validation(ConstraintViolationException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response unknownField(com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response mismatch(com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response invalidFormat(com.fasterxml.jackson.databind.exc.InvalidFormatException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response parse(com.fasterxml.jackson.core.JsonParseException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response mapping(com.fasterxml.jackson.databind.JsonMappingException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response authenticationFailed(AuthenticationFailedException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        return Problems.from(e);
    }

    @ServerExceptionMapper
    public Response other(Exception e) {
        return Problems.from(e);
    }
}
