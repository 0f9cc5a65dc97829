-- +goose Up
-- The admin console's people (store.Admin): email is kept as given and
-- email_key, the email in lower case, is what makes it unique in the
-- tenant, since emails compare ignoring case. password_hash is the
-- password's Argon2id PHC string (internal/password).
CREATE TABLE console_admins (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, email_key)
);

-- The console's sign-ins (store.Session), by the SHA-256 hash of the
-- session's secret as scim_tokens keeps its tokens: a read of the table
-- signs nobody in. admin_id is '' for a sign-in with an admin API token
-- (token_id). The indexes serve the deletes: of an admin's sessions when
-- the admin is removed or its password set, and of the sessions expired
-- or idle (DeleteSessionsBefore, whose two conditions each have one).
CREATE TABLE console_sessions (
    hash         BLOB PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    admin_id     TEXT NOT NULL DEFAULT '',
    token_id     TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX console_sessions_admin ON console_sessions (admin_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);

-- +goose Down
DROP TABLE console_sessions;
DROP TABLE console_admins;
