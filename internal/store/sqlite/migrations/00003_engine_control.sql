-- What the provisioning engine needs to be told and to remember between
-- cycles: an application's control record (what administrators asked of
-- its job: a new configuration, a restart, a reset, a retry), and the
-- escrows of directory objects whose processing failed and wait to be
-- tried again. Both are JSON the engine defines, stored as text and never
-- looked into, as in 00002.

-- +goose Up
-- In the application's row rather than in job_states: a request goes with
-- the configuration it was made against, in one versioned write.
ALTER TABLE apps ADD COLUMN control TEXT;

-- One escrow per object of an application, replaced at each failure and
-- deleted once the object is processed; it goes with its application.
-- next_try is NULL when the failure is not retryable. Timestamps are
-- fixed-width UTC text (sqlfilter.TimeKey), as in the other tables.
-- app_escrows_due finds the retryable escrows due by a time, for the
-- cycle that retries them, without reading those that wait for a change.
CREATE TABLE app_escrows (
    app_id       TEXT NOT NULL REFERENCES apps (id),
    source_type  TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    source_name  TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    retryable    INTEGER NOT NULL,
    next_try     TEXT,
    first_failed TEXT NOT NULL,
    last_failed  TEXT NOT NULL,
    record       TEXT,
    PRIMARY KEY (app_id, source_type, source_id)
) WITHOUT ROWID;
CREATE INDEX app_escrows_due ON app_escrows (app_id, retryable, next_try);

-- +goose Down
DROP TABLE app_escrows;
ALTER TABLE apps DROP COLUMN control;
