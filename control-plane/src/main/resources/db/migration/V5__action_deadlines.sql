-- SPDX-License-Identifier: Apache-2.0
-- Actions that never finish (issue 8): every running action has a deadline, remembers the host command it sent
-- (re-published with the same command_id while the agent has not acknowledged it) and when the host first
-- answered. ActionSweeper fails actions past their deadline with host_unreachable or timeout.
ALTER TABLE actions ADD COLUMN command_id uuid;
ALTER TABLE actions ADD COLUMN command text;
ALTER TABLE actions ADD COLUMN acked_at timestamptz;
ALTER TABLE actions ADD COLUMN deadline_at timestamptz;
ALTER TABLE actions ADD COLUMN republished_at timestamptz;
ALTER TABLE actions ADD COLUMN republish_count integer NOT NULL DEFAULT 0;
-- Actions that were running before this migration get the default deadline.
UPDATE actions SET deadline_at = started_at + interval '15 minutes' WHERE status = 'running';
CREATE INDEX actions_running_deadline ON actions (deadline_at) WHERE status = 'running';
