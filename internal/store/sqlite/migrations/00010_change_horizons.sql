-- +goose Up
-- The change feed's retention (Store.PruneChanges): per tenant, the
-- highest seq of the changes deleted. A reader asking for the changes
-- after a seq below it has lost entries and is told so (ErrChangesPruned).
CREATE TABLE change_horizons (
    tenant_id TEXT PRIMARY KEY,
    seq       INTEGER NOT NULL
);

-- +goose Down
DROP TABLE change_horizons;
