-- +goose Up
-- What a create or update did (store.ChangeDetail as JSON): the state after
-- it, the attributes it changed, the members it added and removed. The
-- events API reads it; entries written before it have none.
ALTER TABLE changes ADD COLUMN detail TEXT;

-- +goose Down
ALTER TABLE changes DROP COLUMN detail;
