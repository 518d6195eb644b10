-- SPDX-License-Identifier: Apache-2.0
-- The latest utilization a host agent reported in host.heartbeat (shown on GET /v1/hosts/{id}); replaced on every
-- heartbeat, so its size is bounded by the number of VPSes on the host.
ALTER TABLE hosts ADD COLUMN utilization jsonb;
