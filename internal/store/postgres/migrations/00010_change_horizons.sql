-- +goose Up
-- See the SQLite migration for what the table holds.
CREATE TABLE change_horizons (
    tenant_id text COLLATE "C" PRIMARY KEY,
    seq       bigint NOT NULL
);

-- +goose Down
DROP TABLE change_horizons;
