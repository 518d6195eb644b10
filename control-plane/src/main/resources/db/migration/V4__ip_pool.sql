-- SPDX-License-Identifier: Apache-2.0
-- The IP pool (issue 8): a host registers its VPS network (gateway with prefix and the host-number range handed
-- out there); a server placed on it gets the lowest free address at placement, in the transaction that reserves
-- the host's capacity (that UPDATE holds the host row lock, so two placements cannot pick the same address; the
-- unique index is the backstop). A deleted server's address is free again.
ALTER TABLE hosts ADD COLUMN vps_gateway text;
ALTER TABLE hosts ADD COLUMN pool_first integer;
ALTER TABLE hosts ADD COLUMN pool_last integer;
ALTER TABLE vps ADD COLUMN ipv4 text;
CREATE UNIQUE INDEX vps_host_ipv4 ON vps(host_id, ipv4) WHERE status <> 'deleted' AND ipv4 IS NOT NULL;
