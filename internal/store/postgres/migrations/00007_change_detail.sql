-- +goose Up
-- What a create or update did (store.ChangeDetail as JSON): the state after
-- it, the attributes it changed, the members it added and removed. The
-- events API reads it; entries written before it have none. Text, not
-- jsonb: it is only ever read whole, as the SQLite store reads it.
ALTER TABLE changes ADD COLUMN detail text;

-- +goose Down
ALTER TABLE changes DROP COLUMN detail;
