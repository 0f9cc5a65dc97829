-- A page of a listing deep into a directory (startIndex 99,901 of 100,000)
-- skips its first rows in id order. With the rid in the id index, the
-- skipping reads the index alone (an index-only scan), and only the page's
-- rows are read from the table.

-- +goose Up
CREATE INDEX resources_id_rid ON resources (tenant_id, type, id) INCLUDE (rid);
DROP INDEX resources_id;

-- +goose Down
CREATE INDEX resources_id ON resources (tenant_id, type, id);
DROP INDEX resources_id_rid;
