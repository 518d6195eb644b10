// SPDX-License-Identifier: Apache-2.0
package dev.domus.cp.api;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** HTTP-level limits of the public API. */
@ConfigMapping(prefix = "domus.api")
public interface ApiConfig {
    /** Largest request body accepted (bigger: 400 {@code body_too_large}, nothing is read or written). */
    @WithDefault("65536")
    long maxBodyBytes();

    /** Rate limiting per credential (or per client address when anonymous). */
    RateLimit rateLimit();

    /** Fixed-window rate limit. */
    interface RateLimit {
        /** Requests per window. */
        @WithDefault("600")
        int requests();

        /** Window length. */
        @WithDefault("60s")
        Duration window();
    }
}
