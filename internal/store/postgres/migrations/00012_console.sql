-- +goose Up
-- The admin console's admins and sessions: the same tables as the SQLite
-- store's 00012, which explains them, with PostgreSQL's types.
CREATE TABLE console_admins (
    id            text COLLATE "C" PRIMARY KEY,
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (id),
    email         text COLLATE "C" NOT NULL,
    email_key     text COLLATE "C" NOT NULL,
    role          text COLLATE "C" NOT NULL,
    password_hash text COLLATE "C" NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    CONSTRAINT console_admins_email_key UNIQUE (tenant_id, email_key)
);

CREATE TABLE console_sessions (
    hash         bytea PRIMARY KEY,
    tenant_id    text COLLATE "C" NOT NULL REFERENCES tenants (id),
    admin_id     text COLLATE "C" NOT NULL DEFAULT '',
    token_id     text COLLATE "C" NOT NULL DEFAULT '',
    actor        text NOT NULL,
    role         text COLLATE "C" NOT NULL,
    csrf         text COLLATE "C" NOT NULL,
    created_at   text COLLATE "C" NOT NULL,
    last_seen_at text COLLATE "C" NOT NULL,
    expires_at   text COLLATE "C" NOT NULL
);
CREATE INDEX console_sessions_admin ON console_sessions (admin_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);

-- +goose Down
DROP TABLE console_sessions;
DROP TABLE console_admins;
