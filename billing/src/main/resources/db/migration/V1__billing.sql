-- SPDX-License-Identifier: Apache-2.0
-- Billing schema: ingested usage and lifecycle (deduplicated by event id), price book, accounts, invoices with
-- immutable finalized lines, adjustments, promo codes, billing alerts.

-- One row per usage event ever accepted. The primary key is the exactly-once guard: the consumer inserts a whole
-- batch with ON CONFLICT DO NOTHING in one transaction and commits Kafka offsets only after it.
CREATE TABLE usage_event (
    event_id        uuid PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    resource_id     uuid NOT NULL,
    metric          text NOT NULL CHECK (metric IN ('vps_minutes', 'transfer_bytes', 'snapshot_gb_hours', 'volume_gb_hours')),
    quantity        bigint NOT NULL CHECK (quantity >= 0),
    plan            text,
    vps_state       text,
    period_start    timestamptz NOT NULL,
    period_end      timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end >= period_start),
    CHECK (metric <> 'vps_minutes' OR plan IS NOT NULL)
);
CREATE INDEX usage_event_org_time ON usage_event (organization_id, period_start);

CREATE TABLE vps_lifecycle (
    event_id        uuid PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    vps_id          uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('created', 'resized', 'deleted')),
    plan            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vps_lifecycle_org ON vps_lifecycle (organization_id, occurred_at);

-- Effective-dated prices in major units (exact NUMERIC); the price at t is the row with the latest effective_from <= t.
CREATE TABLE plan_price (
    plan                 text NOT NULL,
    currency             char(3) NOT NULL,
    effective_from       timestamptz NOT NULL,
    hourly               numeric(20, 8) NOT NULL CHECK (hourly >= 0),
    monthly              numeric(20, 8) NOT NULL CHECK (monthly >= 0),
    included_transfer_gb bigint NOT NULL CHECK (included_transfer_gb >= 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan, currency, effective_from)
);

CREATE TABLE unit_price (
    item           text NOT NULL CHECK (item IN ('transfer_gb', 'snapshot_gb_month', 'volume_gb_month')),
    currency       char(3) NOT NULL,
    effective_from timestamptz NOT NULL,
    price          numeric(20, 8) NOT NULL CHECK (price >= 0),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item, currency, effective_from)
);

CREATE TABLE billing_account (
    organization_id       uuid PRIMARY KEY,
    currency              char(3) NOT NULL,
    alert_threshold_minor bigint CHECK (alert_threshold_minor >= 0),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Finalized invoices only: a draft is rated live from usage and never stored.
CREATE TABLE invoice (
    id                uuid PRIMARY KEY,
    organization_id   uuid NOT NULL,
    period            date NOT NULL CHECK (extract(day FROM period) = 1),
    currency          char(3) NOT NULL,
    status            text NOT NULL CHECK (status = 'finalized'),
    usage_minor       bigint NOT NULL,
    adjustments_minor bigint NOT NULL,
    total_minor       bigint NOT NULL,
    finalized_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, period)
);

CREATE TABLE invoice_line (
    invoice_id   uuid NOT NULL REFERENCES invoice (id),
    line_no      integer NOT NULL,
    kind         text NOT NULL,
    description  text NOT NULL,
    project_id   uuid,
    resource_id  uuid,
    plan         text,
    quantity     numeric(30, 9) NOT NULL,
    unit         text NOT NULL,
    unit_price   numeric(20, 8) NOT NULL,
    amount_minor bigint NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);

-- Finalized invoices are immutable: lines are written in the finalizing transaction (the invoice row is inserted in
-- it), after that no update or delete of either table, and no new line, is possible.
CREATE FUNCTION billing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'finalized invoices are immutable (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER invoice_immutable BEFORE UPDATE OR DELETE ON invoice
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER invoice_line_immutable BEFORE UPDATE OR DELETE ON invoice_line
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

CREATE FUNCTION billing_line_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT xmin::text::bigint FROM invoice WHERE id = NEW.invoice_id) <> txid_current() % 4294967296 THEN
        RAISE EXCEPTION 'finalized invoices are immutable (line added to invoice % after it was finalized)', NEW.invoice_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER invoice_line_insert_guard BEFORE INSERT ON invoice_line
    FOR EACH ROW EXECUTE FUNCTION billing_line_insert_guard();

-- Credits, promo codes and manual adjustments: each one line on the invoice of the period it lands on (always an
-- open period: a closed one is never changed).
CREATE TABLE adjustment (
    id                   uuid PRIMARY KEY,
    organization_id      uuid NOT NULL,
    period               date NOT NULL CHECK (extract(day FROM period) = 1),
    kind                 text NOT NULL CHECK (kind IN ('credit', 'promo', 'adjustment')),
    description          text NOT NULL,
    currency             char(3) NOT NULL,
    amount_minor         bigint NOT NULL,
    reference_invoice_id uuid REFERENCES invoice (id),
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adjustment_org_period ON adjustment (organization_id, period);

CREATE TABLE promo_code (
    code         text PRIMARY KEY,
    description  text NOT NULL,
    currency     char(3) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    valid_until  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE promo_redemption (
    code            text NOT NULL REFERENCES promo_code (code),
    organization_id uuid NOT NULL,
    adjustment_id   uuid NOT NULL REFERENCES adjustment (id),
    redeemed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (code, organization_id)
);

-- One row per crossing (organization, period, threshold): the unique key makes the alert fire once; sent_at is
-- set when the event reached Kafka (a relay retries rows without it).
CREATE TABLE billing_alert (
    id                  uuid PRIMARY KEY,
    organization_id     uuid NOT NULL,
    period              date NOT NULL,
    currency            char(3) NOT NULL,
    threshold_minor     bigint NOT NULL,
    month_to_date_minor bigint NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    UNIQUE (organization_id, period, threshold_minor)
);

-- Price book seed, matching the control plane's catalog plans (s-1, s-2, s-4) in EUR, USD and JPY.
INSERT INTO plan_price (plan, currency, effective_from, hourly, monthly, included_transfer_gb) VALUES
    ('s-1', 'EUR', '2020-01-01T00:00:00Z', 0.0060, 4.00, 1000),
    ('s-2', 'EUR', '2020-01-01T00:00:00Z', 0.0180, 12.00, 2000),
    ('s-4', 'EUR', '2020-01-01T00:00:00Z', 0.0720, 48.00, 4000),
    ('s-1', 'USD', '2020-01-01T00:00:00Z', 0.0065, 4.40, 1000),
    ('s-2', 'USD', '2020-01-01T00:00:00Z', 0.0195, 13.20, 2000),
    ('s-4', 'USD', '2020-01-01T00:00:00Z', 0.0790, 52.80, 4000),
    ('s-1', 'JPY', '2020-01-01T00:00:00Z', 1, 650, 1000),
    ('s-2', 'JPY', '2020-01-01T00:00:00Z', 3, 1950, 2000),
    ('s-4', 'JPY', '2020-01-01T00:00:00Z', 12, 7800, 4000);
INSERT INTO unit_price (item, currency, effective_from, price) VALUES
    ('transfer_gb', 'EUR', '2020-01-01T00:00:00Z', 0.01),
    ('transfer_gb', 'USD', '2020-01-01T00:00:00Z', 0.011),
    ('transfer_gb', 'JPY', '2020-01-01T00:00:00Z', 1.5),
    ('snapshot_gb_month', 'EUR', '2020-01-01T00:00:00Z', 0.011),
    ('snapshot_gb_month', 'USD', '2020-01-01T00:00:00Z', 0.012),
    ('snapshot_gb_month', 'JPY', '2020-01-01T00:00:00Z', 2),
    ('volume_gb_month', 'EUR', '2020-01-01T00:00:00Z', 0.044),
    ('volume_gb_month', 'USD', '2020-01-01T00:00:00Z', 0.048),
    ('volume_gb_month', 'JPY', '2020-01-01T00:00:00Z', 7);
