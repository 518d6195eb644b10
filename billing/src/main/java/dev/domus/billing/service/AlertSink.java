// SPDX-License-Identifier: Apache-2.0
package dev.domus.billing.service;

import dev.domus.api.events.BillingAlertEvent;

/** Where billing alerts go (Kafka topic {@code domus.billing-alerts} in production). */
public interface AlertSink {
    /** Delivers the event or throws; the caller retries undelivered alerts on its next round. */
    void send(BillingAlertEvent event);
}
