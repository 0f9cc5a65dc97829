-- Fencing of the provisioning engine's jobs: a lease generation that grows
-- whenever the lease passes to a holder that did not hold it unexpired, so
-- that a process paused past its lease cannot write after a takeover, and
-- released leases kept as rows with no owner so that the generation
-- survives a release. The same as the SQLite store's fourth migration,
-- which explains it.

-- +goose Up
ALTER TABLE job_leases ADD COLUMN generation bigint NOT NULL DEFAULT 1;

-- +goose Down
DELETE FROM job_leases WHERE owner = '';
ALTER TABLE job_leases DROP COLUMN generation;
