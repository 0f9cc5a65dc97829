-- The tenant directory: tenants, SCIM tokens, resources, their memberships,
-- the attribute index filters run on, and the change feed. The same tables
-- as the SQLite store's first migration, with PostgreSQL's types and
-- indexes; package sqlfilter writes the queries for both.
--
-- Text that is compared or sorted is COLLATE "C": byte order, which for
-- UTF-8 is code point order, as in SQLite. The database's own collation
-- (en_US, say) would order and compare differently.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tenants (
    id         text COLLATE "C" PRIMARY KEY,
    name       text COLLATE "C" NOT NULL UNIQUE,
    created_at text COLLATE "C" NOT NULL
);

CREATE TABLE scim_tokens (
    id         text COLLATE "C" PRIMARY KEY,
    tenant_id  text COLLATE "C" NOT NULL REFERENCES tenants (id),
    name       text NOT NULL,
    prefix     text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at text COLLATE "C" NOT NULL,
    revoked_at text COLLATE "C"
);
CREATE INDEX scim_tokens_tenant ON scim_tokens (tenant_id, created_at);

-- See the SQLite migration for rid, id_key and name_key. Timestamps are the
-- same fixed-width UTC text (sqlfilter.TimeKey), which the filter SQL
-- compares and slices as text.
CREATE TABLE resources (
    rid           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (id),
    type          text COLLATE "C" NOT NULL,
    id            text COLLATE "C" NOT NULL,
    id_key        text COLLATE "C" NOT NULL,
    name_key      text COLLATE "C",
    display       text COLLATE "C",
    version       bigint NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    last_modified text COLLATE "C" NOT NULL,
    doc           text NOT NULL
);
CREATE UNIQUE INDEX resources_id_key ON resources (tenant_id, id_key);
CREATE INDEX resources_id ON resources (tenant_id, type, id);
-- Names can be longer than a B-tree entry holds: uniqueness is on their
-- md5, and nothing looks resources up by name_key.
CREATE UNIQUE INDEX resources_name_key ON resources (tenant_id, type, md5(name_key)) WHERE name_key IS NOT NULL;
CREATE INDEX resources_created ON resources (tenant_id, type, created_at);
CREATE INDEX resources_modified ON resources (tenant_id, type, last_modified);

-- Resources per tenant and type, moved by the writes that create and
-- delete them, in the same transaction.
CREATE TABLE resource_counts (
    tenant_id text COLLATE "C" NOT NULL,
    type      text COLLATE "C" NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (tenant_id, type)
);

CREATE TABLE memberships (
    group_rid  bigint NOT NULL REFERENCES resources (rid),
    member_rid bigint NOT NULL REFERENCES resources (rid),
    PRIMARY KEY (group_rid, member_rid)
);
CREATE INDEX memberships_member ON memberships (member_rid, group_rid);

CREATE TABLE attr_paths (
    aid       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text COLLATE "C" NOT NULL,
    type      text COLLATE "C" NOT NULL,
    path      text COLLATE "C" NOT NULL,
    UNIQUE (tenant_id, type, path)
);

-- One row per scalar value of every resource document (sqlfilter.Flatten).
-- vid lets a write delete the rows of a document that changed and keep the
-- others. A B-tree entry holds at most about 2,700 bytes, and values can
-- be longer, so the value index holds the first 200 characters: the SQL
-- of the Postgres dialect compares that prefix to find candidates in the
-- index, then the whole value.
CREATE TABLE attribute_values (
    vid  bigint GENERATED ALWAYS AS IDENTITY,
    rid  bigint NOT NULL,
    aid  bigint NOT NULL,
    elem integer NOT NULL,
    kind integer NOT NULL,
    val  text COLLATE "C",
    eqv  text COLLATE "C",
    num  text COLLATE "C",
    fts  boolean NOT NULL
);
CREATE INDEX attribute_values_val ON attribute_values (aid, left(val, 200), rid, elem);
CREATE INDEX attribute_values_num ON attribute_values (aid, num, rid, elem) WHERE num IS NOT NULL;
CREATE INDEX attribute_values_rid ON attribute_values (rid, aid, elem);
-- Substring search (co, ew): trigrams of the rows Flatten marks.
CREATE INDEX attribute_values_trgm ON attribute_values USING gin (val gin_trgm_ops) WHERE fts;

-- The change feed. seq is allocated per tenant from change_seqs, whose row
-- a writing transaction updates last, just before it commits: the row lock
-- makes the next writer of the tenant wait until this one has committed,
-- so sequence numbers become visible in order, and a reader that has seen
-- seq N never later finds a new row below N (see changes.go).
CREATE TABLE change_seqs (
    tenant_id text COLLATE "C" PRIMARY KEY,
    seq       bigint NOT NULL
);

CREATE TABLE changes (
    tenant_id text COLLATE "C" NOT NULL,
    seq       bigint NOT NULL,
    type      text COLLATE "C" NOT NULL,
    id        text COLLATE "C" NOT NULL,
    op        text COLLATE "C" NOT NULL,
    at        text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

-- +goose Down
DROP TABLE changes;
DROP TABLE change_seqs;
DROP TABLE attribute_values;
DROP TABLE attr_paths;
DROP TABLE memberships;
DROP TABLE resource_counts;
DROP TABLE resources;
DROP TABLE scim_tokens;
DROP TABLE tenants;
