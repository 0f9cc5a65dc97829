-- +goose Up
-- See the SQLite migration for what the columns hold.
CREATE TABLE webhooks (
    id            text COLLATE "C" PRIMARY KEY,
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (id),
    url           text NOT NULL,
    types         text NOT NULL,
    secret        bytea,
    enabled       boolean NOT NULL,
    cursor        text COLLATE "C" NOT NULL,
    attempts      integer NOT NULL,
    first_failed  text COLLATE "C",
    next_attempt  text COLLATE "C",
    last_error    text NOT NULL,
    lease_owner   text COLLATE "C" NOT NULL,
    lease_expires text COLLATE "C",
    version       bigint NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    last_modified text COLLATE "C" NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, created_at, id);

CREATE TABLE webhook_deliveries (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  text COLLATE "C" NOT NULL,
    event_id    text COLLATE "C" NOT NULL,
    event_type  text COLLATE "C" NOT NULL,
    attempt     integer NOT NULL,
    status      integer NOT NULL,
    error       text NOT NULL,
    duration_ms bigint NOT NULL,
    at          text COLLATE "C" NOT NULL,
    outcome     text COLLATE "C" NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, seq);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
