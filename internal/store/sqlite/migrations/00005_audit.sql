-- The audit log of the provisioning engine: one entry per thing an
-- administrator did to an application (created, changed or deleted it,
-- turned it On or Off, restarted it, retried its failures, allowed or
-- rejected staged deletes, assigned or unassigned someone), with who (the
-- admin token's name), when, and the engine's JSON record of what changed
-- (details, stored as text and never looked into, as in 00002).
--
-- Entries are listed newest first by (at, seq), exactly as provisioning
-- logs are (see 00002): seq numbers them in the order they were appended,
-- never reused. They outlive their application (no foreign keys): an
-- application deleted since is found by the name it had, app_name_key
-- being that name folded (sqlfilter.FoldKey).

-- +goose Up
CREATE TABLE app_audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    app_name     TEXT NOT NULL,
    app_name_key TEXT NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    details      TEXT
);
CREATE UNIQUE INDEX app_audit_id ON app_audit (id);
CREATE INDEX app_audit_app ON app_audit (tenant_id, app_id, at, seq);
CREATE INDEX app_audit_name ON app_audit (tenant_id, app_name_key, at, seq);

-- +goose Down
DROP TABLE app_audit;
