-- +goose Up
-- The SQLite store's 00013, which explains it.
ALTER TABLE tenants ADD COLUMN schemas_version bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tenants DROP COLUMN schemas_version;
