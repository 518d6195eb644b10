// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.domus.api.model.FieldError;
import dev.domus.api.model.Problem;
import dev.domus.cp.domain.DomusException;
import dev.domus.cp.service.AuditContext;
import io.quarkus.arc.Arc;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/** Builds {@code application/problem+json} responses with a stable {@code code}; the one place errors are shaped. */
public final class Problems {
    static final String PROBLEM_JSON = "application/problem+json";
    private static final Logger LOG = Logger.getLogger(Problems.class);
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setSerializationInclusion(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL);

    private Problems() {
    }

    static int status(DomusException.Kind kind) {
        return switch (kind) {
            case BAD_REQUEST -> 400;
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case UNPROCESSABLE -> 422;
            case RATE_LIMITED -> 429;
            case UNAVAILABLE -> 503;
        };
    }

    static Response of(int status, String code, String title, String detail, List<FieldError> errors) {
        Problem p = new Problem().type("https://docs.domus.dev/problems/" + code).title(title).status(status)
                .code(code).detail(detail);
        if (!errors.isEmpty()) {
            p.errors(errors);
        }
        var ctx = Arc.container().requestContext();
        if (ctx.isActive()) {
            Arc.container().instance(AuditContext.class).get().failed(code);
        }
        String body;
        try {
            body = MAPPER.writeValueAsString(p);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Response.ResponseBuilder b = Response.status(status).type(PROBLEM_JSON).entity(body);
        if (status == 401) {
            b.header("WWW-Authenticate", "Bearer");
        }
        return b.build();
    }

    /** Maps any throwable the API can see to a problem response. */
    public static Response from(Throwable t) {
        if (t instanceof DomusException e) {
            List<FieldError> errs = new ArrayList<>();
            for (DomusException.FieldError f : e.errors()) {
                errs.add(new FieldError().field(f.field()).message(f.message()));
            }
            return of(status(e.kind()), e.code(), title(e.code()), e.getMessage(), errs);
        }
        if (t instanceof ConstraintViolationException cve) {
            List<FieldError> errs = new ArrayList<>();
            for (ConstraintViolation<?> v : cve.getConstraintViolations()) {
                errs.add(new FieldError().field(field(v.getPropertyPath().toString())).message(v.getMessage()));
            }
            errs.sort((a, b) -> a.getField().compareTo(b.getField()));
            return of(400, "validation_failed", "Validation failed",
                    errs.stream().map(e -> e.getField() + ": " + e.getMessage()).collect(Collectors.joining("; ")), errs);
        }
        if (t instanceof UnrecognizedPropertyException u) {
            return of(400, "unknown_field", "Unknown field", "unknown field '" + u.getPropertyName() + "'",
                    List.of(new FieldError().field(u.getPropertyName()).message("unknown field")));
        }
        if (t instanceof JsonParseException p) {
            return of(400, "malformed_json", "Malformed JSON", "the body is not valid JSON: " + p.getOriginalMessage(),
                    List.of());
        }
        if (t instanceof MismatchedInputException m) {
            String path = path(m);
            return of(400, "validation_failed", "Validation failed", path + ": wrong type or format",
                    List.of(new FieldError().field(path).message("wrong type or format")));
        }
        if (t instanceof JsonProcessingException j) {
            return of(400, "malformed_json", "Malformed JSON", j.getOriginalMessage(), List.of());
        }
        if (t instanceof UnauthorizedException || t instanceof AuthenticationFailedException) {
            return of(401, "unauthenticated", "Unauthenticated", "missing, invalid, expired or revoked credentials",
                    List.of());
        }
        if (t instanceof ForbiddenException) {
            return of(403, "forbidden", "Forbidden", "not allowed", List.of());
        }
        if (t instanceof WebApplicationException w) {
            Throwable c = w.getCause();
            if (c instanceof JsonProcessingException || c instanceof DomusException) {
                return from(c);
            }
            int s = w.getResponse().getStatus();
            String code = switch (s) {
                case 400 -> "bad_request";
                case 404 -> "not_found";
                case 405 -> "method_not_allowed";
                case 406 -> "not_acceptable";
                case 413 -> "body_too_large";
                case 415 -> "unsupported_media_type";
                default -> s >= 500 ? "internal" : "bad_request";
            };
            return of(s, code, title(code), w.getMessage() == null ? code : w.getMessage(), List.of());
        }
        if (t instanceof org.hibernate.exception.ConstraintViolationException) {
            return of(409, "already_exists", "Already exists", "a resource with these unique fields exists", List.of());
        }
        if (t.getCause() != null && t.getCause() != t && !(t instanceof IllegalStateException)) {
            Throwable root = t.getCause();
            if (root instanceof DomusException || root instanceof org.hibernate.exception.ConstraintViolationException) {
                return from(root);
            }
        }
        LOG.errorf(t, "event=api.internal_error error=\"%s\"", t.toString());
        return of(500, "internal", "Internal error", "unexpected error; it has been logged", List.of());
    }

    private static String path(JsonMappingException m) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) {
                if (!b.isEmpty()) {
                    b.append('.');
                }
                b.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.isEmpty() ? "body" : b.toString();
    }

    /** "userData" -> "user_data", "labels[k]" kept: clients know the JSON names, not Java properties. */
    private static String field(String propertyPath) {
        return propertyPath.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }

    private static String title(String code) {
        String s = code.replace('_', ' ');
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
