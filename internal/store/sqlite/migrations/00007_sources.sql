-- The directory's sources (store.Sources): an LDAP or Active Directory
-- server that fills a tenant's directory. config and state are the
-- runner's JSON documents, stored as text and never looked into; secret is
-- the bind password, sealed by the caller. name_key is the name folded
-- (sqlfilter.FoldKey), unique per tenant. The lease on the source's passes
-- is in its row: lease_owner is '' when nobody holds it, and
-- lease_generation grows as job_leases.generation does (00004).

-- +goose Up
CREATE TABLE sources (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    type             TEXT NOT NULL,
    config           TEXT,
    secret           BLOB,
    enabled          INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    last_modified    TEXT NOT NULL,
    state            TEXT,
    lease_owner      TEXT NOT NULL,
    lease_expires    TEXT,
    lease_generation INTEGER NOT NULL
);
CREATE UNIQUE INDEX sources_name_key ON sources (tenant_id, name_key);

-- +goose Down
DROP TABLE sources;
