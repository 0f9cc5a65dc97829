-- What the provisioning engine needs to be told and to remember between
-- cycles: an application's control record and the escrows of objects
-- waiting to be tried again. The same as the SQLite store's third
-- migration, which explains them, with PostgreSQL's types: the engine's
-- JSON (control, record) is json, as config is; text that is compared or
-- sorted is COLLATE "C", as in 00001, so that escrows list in the same
-- order as in SQLite.

-- +goose Up
ALTER TABLE apps ADD COLUMN control json;

CREATE TABLE app_escrows (
    app_id       text COLLATE "C" NOT NULL REFERENCES apps (id),
    source_type  text COLLATE "C" NOT NULL,
    source_id    text COLLATE "C" NOT NULL,
    source_name  text NOT NULL,
    attempts     integer NOT NULL,
    retryable    boolean NOT NULL,
    next_try     text COLLATE "C",
    first_failed text COLLATE "C" NOT NULL,
    last_failed  text COLLATE "C" NOT NULL,
    record       json,
    PRIMARY KEY (app_id, source_type, source_id)
);
CREATE INDEX app_escrows_due ON app_escrows (app_id, retryable, next_try);

-- +goose Down
DROP TABLE app_escrows;
ALTER TABLE apps DROP COLUMN control;
