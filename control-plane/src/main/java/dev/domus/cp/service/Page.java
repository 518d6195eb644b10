// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.service;

import dev.domus.cp.domain.DomusException;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/** One page of a keyset-paginated list (ordered by time-ordered id); the token is the last id, opaque to clients. */
public record Page<T>(List<T> items, Optional<String> nextPageToken) {
    public Page {
        items = List.copyOf(items);
    }

    public <R> Page<R> map(Function<T, R> f) {
        return new Page<>(items.stream().map(f).toList(), nextPageToken);
    }

    /** Builds a page from up to {@code size + 1} rows fetched after the cursor. */
    public static <T> Page<T> of(List<T> rows, int size, Function<T, UUID> id) {
        if (rows.size() <= size) {
            return new Page<>(rows, Optional.empty());
        }
        List<T> items = rows.subList(0, size);
        return new Page<>(items, Optional.of(encode(id.apply(items.get(size - 1)))));
    }

    static String encode(UUID id) {
        ByteBuffer b = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    /** The cursor of a page token; a token that is not ours is a validation error. */
    public static Optional<UUID> cursor(String token) {
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        try {
            byte[] raw = Base64.getUrlDecoder().decode(token);
            if (raw.length != 16) {
                throw new IllegalArgumentException();
            }
            ByteBuffer b = ByteBuffer.wrap(raw);
            return Optional.of(new UUID(b.getLong(), b.getLong()));
        } catch (IllegalArgumentException e) {
            throw DomusException.invalid("page_token", "not a token from a previous page");
        }
    }

    /** Page size with the API default and bounds (the spec validates 1..200 too). */
    public static int size(Integer requested) {
        if (requested == null) {
            return 50;
        }
        if (requested < 1 || requested > 200) {
            throw DomusException.invalid("page_size", "must be 1..200, got " + requested);
        }
        return requested;
    }
}
