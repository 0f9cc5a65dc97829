-- The provisioning engine's records (store.Provisioning): token scopes,
-- applications, their assignments, links between directory objects and
-- target objects, each job's state and lease, and the provisioning logs.
-- JSON documents the engine defines (config, exported, state, record) are
-- stored as text and never looked into. Timestamps are fixed-width UTC text
-- (sqlfilter.TimeKey), as in the directory's tables.

-- +goose Up
ALTER TABLE scim_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'scim';

-- App ids are unique across tenants: links, job state and leases are
-- addressed by the app id alone. name_key is the folded name
-- (sqlfilter.FoldKey), unique per tenant.
CREATE TABLE apps (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    template      TEXT NOT NULL,
    config        TEXT,
    secret        BLOB,
    enabled       INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    last_modified TEXT NOT NULL
);
CREATE UNIQUE INDEX apps_name_key ON apps (tenant_id, name_key);

-- principal_rid is the assigned resource's row: deleting the resource
-- deletes its assignments by it, and AssignedTo joins it with memberships.
CREATE TABLE app_assignments (
    app_id         TEXT NOT NULL REFERENCES apps (id),
    principal_type TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    principal_rid  INTEGER NOT NULL REFERENCES resources (rid),
    role           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (app_id, principal_type, principal_id)
) WITHOUT ROWID;
CREATE INDEX app_assignments_principal ON app_assignments (principal_rid, app_id);

CREATE TABLE app_links (
    app_id      TEXT NOT NULL REFERENCES apps (id),
    source_type TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    exported    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (app_id, source_type, source_id)
) WITHOUT ROWID;
-- LinkByTarget reads the first link to a target by source id, off the
-- index.
CREATE INDEX app_links_target ON app_links (app_id, source_type, target_id, source_id);

CREATE TABLE job_states (
    app_id     TEXT PRIMARY KEY REFERENCES apps (id),
    watermark  INTEGER NOT NULL,
    state      TEXT,
    updated_at TEXT NOT NULL
);

-- A lease is held until expires_at (exclusive).
CREATE TABLE job_leases (
    app_id     TEXT PRIMARY KEY REFERENCES apps (id),
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Logs are listed newest first by (at, seq): seq numbers the records in the
-- order they were appended, so that records of one instant have an exact
-- order, and a listing continues exactly after the record it ended on
-- (LogQuery.Before) however many share its instant. seq is the rowid,
-- never reused (AUTOINCREMENT); the indexes end with (at, seq), so a page
-- is read in order off an index. Logs outlive their application (no
-- foreign keys). source_name_key is the folded source name. Source ids are
-- unique in a tenant, so one index on them serves a source's logs in one
-- application and across them. provisioning_logs_at serves PruneLogs.
CREATE TABLE provisioning_logs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    app_id          TEXT NOT NULL,
    cycle_id        TEXT NOT NULL,
    at              TEXT NOT NULL,
    action          TEXT NOT NULL,
    status          TEXT NOT NULL,
    source_type     TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    source_name_key TEXT NOT NULL,
    source_name     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    record          TEXT
);
CREATE UNIQUE INDEX provisioning_logs_id ON provisioning_logs (id);
CREATE INDEX provisioning_logs_tenant ON provisioning_logs (tenant_id, at, seq);
CREATE INDEX provisioning_logs_app ON provisioning_logs (tenant_id, app_id, at, seq);
CREATE INDEX provisioning_logs_source ON provisioning_logs (tenant_id, source_id, at, seq);
CREATE INDEX provisioning_logs_name ON provisioning_logs (tenant_id, source_name_key, at, seq);
CREATE INDEX provisioning_logs_at ON provisioning_logs (at);

-- +goose Down
DROP TABLE provisioning_logs;
DROP TABLE job_leases;
DROP TABLE job_states;
DROP TABLE app_links;
DROP TABLE app_assignments;
DROP TABLE apps;
ALTER TABLE scim_tokens DROP COLUMN scope;
