-- +goose Up
-- The trigram index (attribute_values_fts) is written once per committed
-- batch instead of once per statement. FTS5 flushes its pending terms to a
-- new index segment at every statement's savepoint, so the insert trigger
-- made each resource write produce, and later merge, a segment of its own.
-- New rows now only note their rowid in attribute_values_fts_pending; the
-- writer moves the noted rows into the index by one statement just before
-- each batch commits (writer.go), so the index and the table never differ
-- in what is committed.
CREATE TABLE attribute_values_fts_pending (
    rid INTEGER PRIMARY KEY
);

DROP TRIGGER attribute_values_fts_insert;
DROP TRIGGER attribute_values_fts_delete;

-- +goose StatementBegin
CREATE TRIGGER attribute_values_fts_insert AFTER INSERT ON attribute_values WHEN new.fts = 1
BEGIN
    INSERT INTO attribute_values_fts_pending (rid) VALUES (new.rowid);
END;
-- +goose StatementEnd

-- A row deleted before its batch indexed it is only struck from the
-- pending list; the others leave the index.
-- +goose StatementBegin
CREATE TRIGGER attribute_values_fts_delete AFTER DELETE ON attribute_values WHEN old.fts = 1
BEGIN
    DELETE FROM attribute_values_fts
        WHERE rowid = old.rowid AND old.rowid NOT IN (SELECT rid FROM attribute_values_fts_pending);
    DELETE FROM attribute_values_fts_pending WHERE rid = old.rowid;
END;
-- +goose StatementEnd

-- +goose Down
INSERT INTO attribute_values_fts (rowid, val)
    SELECT p.rid, v.val FROM attribute_values_fts_pending p CROSS JOIN attribute_values v ON v.rowid = p.rid;
DROP TRIGGER attribute_values_fts_delete;
DROP TRIGGER attribute_values_fts_insert;
DROP TABLE attribute_values_fts_pending;

-- +goose StatementBegin
CREATE TRIGGER attribute_values_fts_insert AFTER INSERT ON attribute_values WHEN new.fts = 1
BEGIN
    INSERT INTO attribute_values_fts (rowid, val) VALUES (new.rowid, new.val);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER attribute_values_fts_delete AFTER DELETE ON attribute_values WHEN old.fts = 1
BEGIN
    DELETE FROM attribute_values_fts WHERE rowid = old.rowid;
END;
-- +goose StatementEnd
