// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.domus.cp.domain.DomusException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Routes every exception the API can raise to {@link Problems#from}, the one place that turns them into
 * problem+json. The specific types are listed so that this mapper wins over Quarkus' built-in mappers for them
 * (a mapper for a type beats one for its supertype); {@code Exception} catches the rest.
 */
public class ProblemMapper {

    @ServerExceptionMapper({DomusException.class, ConstraintViolationException.class,
            UnrecognizedPropertyException.class, MismatchedInputException.class, InvalidFormatException.class,
            JsonParseException.class, JsonMappingException.class, JsonProcessingException.class,
            UnauthorizedException.class, AuthenticationFailedException.class, ForbiddenException.class,
            WebApplicationException.class, Exception.class})
    public Response problem(Throwable e) {
        return Problems.from(e);
    }
}
