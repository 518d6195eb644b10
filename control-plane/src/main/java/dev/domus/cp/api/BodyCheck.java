// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import dev.domus.cp.domain.DomusException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Validator;
import java.util.Set;

/**
 * Validates request bodies against the constraints generated from the spec. Explicit because constraints declared
 * on the generated interfaces' parameters are not applied to the implementing resources.
 */
@ApplicationScoped
public class BodyCheck {
    @Inject
    Validator validator;

    <T> T valid(T body) {
        if (body == null) {
            throw DomusException.invalid("body", "a JSON body is required");
        }
        Set<ConstraintViolation<T>> v = validator.validate(body);
        if (!v.isEmpty()) {
            throw new ConstraintViolationException(v);
        }
        return body;
    }
}
