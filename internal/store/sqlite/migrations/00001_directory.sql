-- The tenant directory: tenants, SCIM tokens, resources, their memberships,
-- the attribute index filters run on, and the change feed.

-- +goose Up
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE scim_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX scim_tokens_tenant ON scim_tokens (tenant_id, created_at);

-- rid is the integer every other table refers to a resource by: small rows,
-- fast joins. id_key is the id folded (sqlfilter.FoldKey), unique per tenant
-- across types, so that member ids resolve case-insensitively and
-- unambiguously. name_key is the folded userName (Users) or displayName
-- (Groups), unique per tenant and type. Timestamps are fixed-width UTC text.
CREATE TABLE resources (
    rid           INTEGER PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    type          TEXT NOT NULL,
    id            TEXT NOT NULL,
    id_key        TEXT NOT NULL,
    name_key      TEXT,
    display       TEXT,
    version       INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    doc           TEXT NOT NULL
);
CREATE UNIQUE INDEX resources_id_key ON resources (tenant_id, id_key);
CREATE INDEX resources_id ON resources (tenant_id, type, id);
CREATE UNIQUE INDEX resources_name_key ON resources (tenant_id, type, name_key) WHERE name_key IS NOT NULL;
CREATE INDEX resources_created ON resources (tenant_id, type, created_at);
CREATE INDEX resources_modified ON resources (tenant_id, type, last_modified);

-- The number of resources per tenant and type, so that an unfiltered list
-- does not count them one by one.
CREATE TABLE resource_counts (
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, type)
) WITHOUT ROWID;

CREATE TABLE memberships (
    group_rid  INTEGER NOT NULL REFERENCES resources (rid),
    member_rid INTEGER NOT NULL REFERENCES resources (rid),
    PRIMARY KEY (group_rid, member_rid)
) WITHOUT ROWID;
CREATE INDEX memberships_member ON memberships (member_rid, group_rid);

-- One integer per attribute path per tenant and type: attribute_values rows
-- carry it instead of the tenant, type and path text.
CREATE TABLE attr_paths (
    aid       INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    path      TEXT NOT NULL,
    UNIQUE (tenant_id, type, path)
);

-- One row per scalar value of every resource document (sqlfilter.Flatten).
-- fts is 1 for rows in the trigram index.
CREATE TABLE attribute_values (
    rid  INTEGER NOT NULL,
    aid  INTEGER NOT NULL,
    elem INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    val  TEXT,
    eqv  TEXT,
    num  TEXT,
    fts  INTEGER NOT NULL
);
CREATE INDEX attribute_values_val ON attribute_values (aid, val, eqv, rid, elem);
CREATE INDEX attribute_values_num ON attribute_values (aid, num, rid, elem) WHERE num IS NOT NULL;
CREATE INDEX attribute_values_rid ON attribute_values (rid, aid, elem);

-- Substring search (co, ew) over attribute_values.val. Contentless: the text
-- lives in attribute_values; rows are deleted by rowid.
CREATE VIRTUAL TABLE attribute_values_fts USING fts5 (
    val,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

-- +goose StatementBegin
CREATE TRIGGER attribute_values_fts_insert AFTER INSERT ON attribute_values WHEN new.fts = 1
BEGIN
    INSERT INTO attribute_values_fts (rowid, val) VALUES (new.rowid, new.val);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER attribute_values_fts_delete AFTER DELETE ON attribute_values WHEN old.fts = 1
BEGIN
    DELETE FROM attribute_values_fts WHERE rowid = old.rowid;
END;
-- +goose StatementEnd

CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    id        TEXT NOT NULL,
    op        TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX changes_tenant ON changes (tenant_id, seq);

-- +goose Down
DROP TABLE changes;
DROP TRIGGER attribute_values_fts_delete;
DROP TRIGGER attribute_values_fts_insert;
DROP TABLE attribute_values_fts;
DROP TABLE attribute_values;
DROP TABLE attr_paths;
DROP TABLE memberships;
DROP TABLE resource_counts;
DROP TABLE resources;
DROP TABLE scim_tokens;
DROP TABLE tenants;
