-- +goose Up
-- A tenant's extension schemas (store.SchemaExtension): definition is the
-- RFC 7643 §7 JSON the admin API accepted; urn_key is the URN folded to
-- lower case, since schema URNs compare ignoring case.
CREATE TABLE tenant_schemas (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    urn_key       TEXT NOT NULL,
    urn           TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    definition    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, urn_key)
);

-- +goose Down
DROP TABLE tenant_schemas;
