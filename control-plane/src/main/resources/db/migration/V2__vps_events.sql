-- SPDX-License-Identifier: Apache-2.0
-- What hosts reported about a server (vps.state events: state changes, crashes, restarts), for GET /v1/vps/{id}/events.
CREATE TABLE vps_events (
    id           uuid PRIMARY KEY,
    vps_id       uuid NOT NULL REFERENCES vps(id),
    host_id      uuid NOT NULL,
    type         text NOT NULL CHECK (type IN ('state_changed', 'crashed', 'restarted', 'crash_loop')),
    state        text NOT NULL,
    code         text,
    message      text,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX vps_events_vps ON vps_events(vps_id, id);
