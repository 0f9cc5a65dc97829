-- The audit log of the provisioning engine: what administrators did to each
-- application, who and when. The same as the SQLite store's fifth
-- migration, which explains it, with PostgreSQL's types: details is json;
-- text that is compared or sorted is COLLATE "C", as in 00002, so that
-- entries list in the same order as in SQLite. Application names are at
-- most 256 characters, so their key is indexed as it is.

-- +goose Up
CREATE TABLE app_audit (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text COLLATE "C" NOT NULL,
    tenant_id    text COLLATE "C" NOT NULL,
    app_id       text COLLATE "C" NOT NULL,
    app_name     text NOT NULL,
    app_name_key text COLLATE "C" NOT NULL,
    at           text COLLATE "C" NOT NULL,
    actor        text NOT NULL,
    action       text COLLATE "C" NOT NULL,
    details      json
);
CREATE UNIQUE INDEX app_audit_id ON app_audit (id);
CREATE INDEX app_audit_app ON app_audit (tenant_id, app_id, at, seq);
CREATE INDEX app_audit_name ON app_audit (tenant_id, app_name_key, at, seq);

-- +goose Down
DROP TABLE app_audit;
