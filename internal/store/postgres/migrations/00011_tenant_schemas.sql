-- +goose Up
-- A tenant's extension schemas: the same table as the SQLite store's
-- 00010, which explains it, with PostgreSQL's types.
CREATE TABLE tenant_schemas (
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (id),
    urn_key       text COLLATE "C" NOT NULL,
    urn           text COLLATE "C" NOT NULL,
    resource_type text COLLATE "C" NOT NULL,
    definition    text NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, urn_key)
);

-- +goose Down
DROP TABLE tenant_schemas;
