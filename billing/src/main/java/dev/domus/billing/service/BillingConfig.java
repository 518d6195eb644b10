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

    /** The usage consumer. */
    interface Consumer {
        /** Start the consumer thread at startup. */
        @WithDefault("true")
        boolean enabled();

        /** Kafka consumer group. */
        @WithDefault("domus-billing")
        String groupId();

        /** Records per poll = largest batch stored in one transaction. */
        @WithDefault("5000")
        int maxPollRecords();

        /** Pause before retrying a batch whose database transaction failed. */
        @WithDefault("PT1S")
        Duration retryBackoff();
    }

    /** Billing alert thresholds. */
    interface Alerts {
        /** How often month-to-date costs of organizations with a threshold are checked. */
        @WithDefault("PT30S")
        Duration interval();
    }
}
