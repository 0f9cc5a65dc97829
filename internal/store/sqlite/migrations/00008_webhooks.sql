-- +goose Up
-- A tenant's webhooks (store.Webhook): where each one's deliveries stand
-- (cursor: the events cursor of the last event delivered or given up on;
-- attempts, first_failed, next_attempt, last_error: the event after it)
-- and the lease that lets one process at a time deliver it. types is a
-- JSON array; secret is sealed by the engine.
CREATE TABLE webhooks (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    url           TEXT NOT NULL,
    types         TEXT NOT NULL,
    secret        BLOB,
    enabled       INTEGER NOT NULL,
    cursor        TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    first_failed  TEXT,
    next_attempt  TEXT,
    last_error    TEXT NOT NULL,
    lease_owner   TEXT NOT NULL,
    lease_expires TEXT,
    version       INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at, id);

-- The delivery log, listed newest first by seq. No foreign key: the
-- webhook's row is deleted first (sqlstore.WebhookStore.DeleteWebhook).
CREATE TABLE webhook_deliveries (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    error       TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    at          TEXT NOT NULL,
    outcome     TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, seq);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
