// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.domain;

import java.util.List;

/**
 * The one exception of the control plane: a kind (which the api layer maps to an HTTP status), a stable code for
 * clients, a human detail and optional field errors. Factories name the common cases.
 */
public final class DomusException extends RuntimeException {
    /** Error classes; each maps to exactly one HTTP status. */
    public enum Kind { BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, UNPROCESSABLE, RATE_LIMITED, UNAVAILABLE }

    /** One invalid field. */
    public record FieldError(String field, String message) {
    }

    private final Kind kind;
    private final String code;
    private final List<FieldError> errors;

    public DomusException(Kind kind, String code, String detail, List<FieldError> errors) {
        super(detail);
        this.kind = kind;
        this.code = code;
        this.errors = List.copyOf(errors);
    }

    public DomusException(Kind kind, String code, String detail) {
        this(kind, code, detail, List.of());
    }

    public Kind kind() {
        return kind;
    }

    public String code() {
        return code;
    }

    public List<FieldError> errors() {
        return errors;
    }

    public static DomusException notFound(String resource, Object id) {
        return new DomusException(Kind.NOT_FOUND, "not_found", resource + " " + id + " not found");
    }

    public static DomusException forbidden(String detail) {
        return new DomusException(Kind.FORBIDDEN, "forbidden", detail);
    }

    public static DomusException insufficientScope(String needed) {
        return new DomusException(Kind.FORBIDDEN, "insufficient_scope", "this call needs a token with scope " + needed);
    }

    public static DomusException invalid(String field, String message) {
        return new DomusException(Kind.BAD_REQUEST, "validation_failed", field + ": " + message,
                List.of(new FieldError(field, message)));
    }

    public static DomusException conflict(String code, String detail) {
        return new DomusException(Kind.CONFLICT, code, detail);
    }

    public static DomusException unprocessable(String code, String detail) {
        return new DomusException(Kind.UNPROCESSABLE, code, detail);
    }
}
