// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Every billing knob. */
@ConfigMapping(prefix = "domus.billing")
public interface BillingConfig {
    /** Currency of an organization's account when billing first sees it (ISO 4217). */
    @WithDefault("EUR")
    String defaultCurrency();

    /** How long after a month ends its invoices are finalized (late usage reports land within this window). */
    @WithDefault("PT2H")
    Duration closeGrace();

    /** How often the period closer runs (a duration, or {@code off} to disable it). */
    @WithDefault("PT5M")
    String closeEvery();

    Consumer consumer();

    Alerts alerts();

    ControlPlane controlPlane();

    /** The usage consumer. */
    interface Consumer {
        /** Start the consumer thread at startup. */
        @WithDefault("true")
        boolean enabled();

        /** Kafka consumer group. */
        @WithDefault("domus-billing")
        String groupId();

        /** Records per poll = largest batch stored in one transaction. */
        @WithDefault("10000")
        int maxPollRecords();

        /**
         * How usage rows are written: {@code copy} (binary COPY into a temporary table + one insert, the fast path)
         * or {@code unnest} (one insert of text arrays, the original path, kept for A/B benchmarks).
         */
        @WithDefault("copy")
        IngestService.StoreMethod storeMethod();

        /**
         * Overlap the next poll and decode with the current batch's database transaction (one batch in flight;
         * its offsets are still committed only after its transaction). {@code false} = strictly one at a time.
         */
        @WithDefault("true")
        boolean pipeline();

        /** Pause before retrying a batch whose database transaction failed. */
        @WithDefault("PT1S")
        Duration retryBackoff();
    }

    /**
     * The control plane, which owns organizations, memberships and personal access tokens: billing asks it (with
     * its own client-credentials token) whether a caller may read an organization's billing.
     */
    interface ControlPlane {
        /** Base URL of the control plane (its {@code /internal/billing/access}). */
        @WithDefault("http://127.0.0.1:8080")
        String url();

        /** Keycloak token endpoint for billing's client credentials. */
        @WithDefault("http://127.0.0.1:8180/realms/domus/protocol/openid-connect/token")
        String tokenUrl();

        /** Billing's Keycloak client (realm role {@code billing}). */
        @WithDefault("domus-billing")
        String clientId();

        /** Its secret. */
        @WithDefault("domus-billing-dev-secret")
        String clientSecret();

        /**
         * How long an answer (allowed, not a member, token resolved) is reused: also the longest a removed member or
         * a revoked personal token keeps reading billing.
         */
        @WithDefault("PT30S")
        Duration cacheTtl();

        /** Most cached answers; the cache is emptied when it is full (answers are cheap to fetch again). */
        @WithDefault("10000")
        int cacheSize();

        /** Timeout of one call to the control plane or Keycloak. */
        @WithDefault("PT10S")
        Duration timeout();
    }

    /** Billing alert thresholds. */
    interface Alerts {
        /** How often month-to-date costs of organizations with a threshold are checked. */
        @WithDefault("PT30S")
        Duration interval();
    }
}
