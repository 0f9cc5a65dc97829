-- +goose Up
-- A number that every change to a tenant's extension schemas moves: a
-- server that keeps the tenant's catalog reads it in the same statement as
-- a resource, and reads the declarations again only when it moved.
ALTER TABLE tenants ADD COLUMN schemas_version INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tenants DROP COLUMN schemas_version;
