-- The directory's sources (store.Sources): the same table as the SQLite
-- store's 00007, which explains it, with PostgreSQL's types.

-- +goose Up
CREATE TABLE sources (
    id               text COLLATE "C" PRIMARY KEY,
    tenant_id        text COLLATE "C" NOT NULL REFERENCES tenants (id),
    name             text COLLATE "C" NOT NULL,
    name_key         text COLLATE "C" NOT NULL,
    type             text COLLATE "C" NOT NULL,
    config           json,
    secret           bytea,
    enabled          boolean NOT NULL,
    version          bigint NOT NULL,
    created_at       text COLLATE "C" NOT NULL,
    last_modified    text COLLATE "C" NOT NULL,
    state            json,
    lease_owner      text COLLATE "C" NOT NULL,
    lease_expires    text COLLATE "C",
    lease_generation bigint NOT NULL
);
CREATE UNIQUE INDEX sources_name_key ON sources (tenant_id, name_key);

-- +goose Down
DROP TABLE sources;
