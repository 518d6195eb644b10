-- SPDX-License-Identifier: Apache-2.0
-- Control plane schema: tenancy, tokens, quotas, catalog, hosts, VPS, actions, outbox, idempotency, audit.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    subject     text NOT NULL UNIQUE,
    email       text NOT NULL UNIQUE,
    operator    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL
);

CREATE TABLE organizations (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    tier          text NOT NULL CHECK (tier IN ('free', 'standard', 'enterprise')),
    created_at    timestamptz NOT NULL
);

CREATE TABLE memberships (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users(id),
    role             text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at       timestamptz NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE projects (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name             text NOT NULL,
    description      text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    UNIQUE (organization_id, name)
);

-- Default limits per organization tier, copied into a project's quotas when it is created.
CREATE TABLE tier_quota_defaults (
    tier      text NOT NULL,
    resource  text NOT NULL,
    lim       bigint NOT NULL CHECK (lim >= 0),
    PRIMARY KEY (tier, resource)
);
INSERT INTO tier_quota_defaults (tier, resource, lim) VALUES
    ('free', 'vps', 3), ('free', 'vcpus', 4), ('free', 'memory_mb', 4096), ('free', 'disk_gb', 80),
    ('free', 'floating_ips', 1), ('free', 'snapshots', 2),
    ('standard', 'vps', 25), ('standard', 'vcpus', 50), ('standard', 'memory_mb', 102400),
    ('standard', 'disk_gb', 2000), ('standard', 'floating_ips', 10), ('standard', 'snapshots', 50),
    ('enterprise', 'vps', 500), ('enterprise', 'vcpus', 2000), ('enterprise', 'memory_mb', 4194304),
    ('enterprise', 'disk_gb', 100000), ('enterprise', 'floating_ips', 200), ('enterprise', 'snapshots', 2000);

-- Reserved with a conditional UPDATE (used + n <= lim) in the transaction that changes the resource.
CREATE TABLE quotas (
    project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    resource    text NOT NULL,
    lim         bigint NOT NULL CHECK (lim >= 0),
    used        bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (project_id, resource)
);

CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users(id),
    name          text NOT NULL,
    scopes        text NOT NULL,
    prefix        text NOT NULL,
    secret_hash   text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE plans (
    id                   uuid PRIMARY KEY,
    name                 text NOT NULL UNIQUE,
    vcpus                integer NOT NULL,
    memory_mb            integer NOT NULL,
    disk_gb              integer NOT NULL,
    transfer_gb          integer NOT NULL,
    price_hourly_minor   bigint NOT NULL,
    price_monthly_minor  bigint NOT NULL,
    currency             text NOT NULL,
    available            boolean NOT NULL DEFAULT true
);

CREATE TABLE images (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    arch         text NOT NULL,
    version      text NOT NULL,
    description  text NOT NULL DEFAULT '',
    status       text NOT NULL CHECK (status IN ('available', 'deprecated', 'disabled')),
    created_at   timestamptz NOT NULL
);

CREATE TABLE regions (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    available     boolean NOT NULL DEFAULT true
);

CREATE TABLE hosts (
    id                 uuid PRIMARY KEY,
    name               text NOT NULL UNIQUE,
    region             text NOT NULL,
    state              text NOT NULL CHECK (state IN ('up', 'cordoned', 'draining', 'down', 'standby')),
    cap_vcpus          integer NOT NULL,
    cap_memory_mb      bigint NOT NULL,
    cap_disk_gb        bigint NOT NULL,
    alloc_vcpus        integer NOT NULL DEFAULT 0 CHECK (alloc_vcpus >= 0),
    alloc_memory_mb    bigint NOT NULL DEFAULT 0 CHECK (alloc_memory_mb >= 0),
    alloc_disk_gb      bigint NOT NULL DEFAULT 0 CHECK (alloc_disk_gb >= 0),
    vps_count          integer NOT NULL DEFAULT 0 CHECK (vps_count >= 0),
    agent_version      text,
    last_heartbeat_at  timestamptz,
    created_at         timestamptz NOT NULL
);

CREATE TABLE ssh_keys (
    id           uuid PRIMARY KEY,
    project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         text NOT NULL,
    type         text NOT NULL,
    bits         integer NOT NULL,
    fingerprint  text NOT NULL,
    public_key   text NOT NULL,
    labels       jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    UNIQUE (project_id, fingerprint)
);

CREATE TABLE vps (
    id                 uuid PRIMARY KEY,
    project_id         uuid NOT NULL REFERENCES projects(id),
    name               text NOT NULL,
    status             text NOT NULL,
    plan_id            uuid NOT NULL REFERENCES plans(id),
    image_id           uuid NOT NULL REFERENCES images(id),
    region             text NOT NULL,
    host_id            uuid REFERENCES hosts(id),
    vcpus              integer NOT NULL,
    memory_mb          integer NOT NULL,
    disk_gb            integer NOT NULL,
    labels             jsonb NOT NULL DEFAULT '{}',
    ssh_key_ids        jsonb NOT NULL DEFAULT '[]',
    user_data          text NOT NULL DEFAULT '',
    epoch              bigint NOT NULL DEFAULT 0,
    current_action_id  uuid,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- Names are unique among a project's live servers.
CREATE UNIQUE INDEX vps_project_name ON vps(project_id, name) WHERE status <> 'deleted';
CREATE INDEX vps_project_id ON vps(project_id, id);
CREATE INDEX vps_labels ON vps USING gin (labels);

CREATE TABLE actions (
    id             uuid PRIMARY KEY,
    project_id     uuid NOT NULL REFERENCES projects(id),
    resource_type  text NOT NULL,
    resource_id    uuid NOT NULL,
    type           text NOT NULL,
    status         text NOT NULL CHECK (status IN ('running', 'success', 'error')),
    progress       integer NOT NULL DEFAULT 0,
    from_status    text NOT NULL,
    params         jsonb NOT NULL DEFAULT '{}',
    error_code     text,
    error_message  text,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz
);
CREATE INDEX actions_resource ON actions(resource_id, id);

-- Transactional outbox: written with the state change, relayed to Kafka by OutboxRelay.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    topic         text NOT NULL,
    msg_key       text NOT NULL,
    payload       text NOT NULL,
    created_at    timestamptz NOT NULL,
    published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox(id) WHERE published_at IS NULL;

-- Host events already applied (dedupe by event id, in the same transaction as the effect).
CREATE TABLE processed_events (
    event_id      uuid PRIMARY KEY,
    processed_at  timestamptz NOT NULL
);

CREATE TABLE idempotency_keys (
    scope            text NOT NULL,
    idem_key         text NOT NULL,
    request_hash     text NOT NULL,
    response_status  integer NOT NULL,
    response_body    text NOT NULL,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE audit_events (
    id               uuid PRIMARY KEY,
    organization_id  uuid,
    project_id       uuid,
    actor            text NOT NULL,
    actor_user_id    uuid,
    actor_token_id   uuid,
    method           text NOT NULL,
    path             text NOT NULL,
    resource_type    text,
    resource_id      text,
    status           integer NOT NULL,
    code             text,
    occurred_at      timestamptz NOT NULL
);
CREATE INDEX audit_events_org ON audit_events(organization_id, id);

-- Catalog seed: one region, a few plans, the Debian guest image.
INSERT INTO regions (id, name, display_name, available) VALUES
    ('0190a000-0000-7000-8000-000000000001', 'local-1', 'Local 1', true);
INSERT INTO plans (id, name, vcpus, memory_mb, disk_gb, transfer_gb, price_hourly_minor, price_monthly_minor, currency) VALUES
    ('0190a000-0000-7000-8000-000000000101', 's-1', 1, 512, 10, 1000, 1, 400, 'EUR'),
    ('0190a000-0000-7000-8000-000000000102', 's-2', 2, 2048, 40, 2000, 3, 1200, 'EUR'),
    ('0190a000-0000-7000-8000-000000000103', 's-4', 4, 8192, 80, 4000, 10, 4800, 'EUR');
INSERT INTO images (id, name, arch, version, description, status, created_at) VALUES
    ('0190a000-0000-7000-8000-000000000201', 'debian-12', 'riscv64', '12', 'Debian 12 (busybox + dropbear guest)', 'available', now());
