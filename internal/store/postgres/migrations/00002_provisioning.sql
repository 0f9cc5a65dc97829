-- The provisioning engine's records (store.Provisioning): token scopes,
-- applications, their assignments, links between directory objects and
-- target objects, each job's state and lease, and the provisioning logs.
-- The same tables as the SQLite store's second migration, with
-- PostgreSQL's types. The engine's JSON documents (config, exported, state,
-- record) are json, which keeps the text as written; nothing queries into
-- them. Text that is compared or sorted is COLLATE "C", as in 00001.

-- +goose Up
ALTER TABLE scim_tokens ADD COLUMN scope text COLLATE "C" NOT NULL DEFAULT 'scim';

-- See the SQLite migration for ids and name_key. Names are at most 256
-- characters (the stores check), so name_key fits a B-tree entry.
CREATE TABLE apps (
    id            text COLLATE "C" PRIMARY KEY,
    tenant_id     text COLLATE "C" NOT NULL REFERENCES tenants (id),
    name          text COLLATE "C" NOT NULL,
    name_key      text COLLATE "C" NOT NULL,
    template      text COLLATE "C" NOT NULL,
    config        json,
    secret        bytea,
    enabled       boolean NOT NULL,
    version       bigint NOT NULL,
    created_at    text COLLATE "C" NOT NULL,
    last_modified text COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX apps_name_key ON apps (tenant_id, name_key);

CREATE TABLE app_assignments (
    app_id         text COLLATE "C" NOT NULL REFERENCES apps (id),
    principal_type text COLLATE "C" NOT NULL,
    principal_id   text COLLATE "C" NOT NULL,
    principal_rid  bigint NOT NULL REFERENCES resources (rid),
    role           text COLLATE "C" NOT NULL,
    created_at     text COLLATE "C" NOT NULL,
    PRIMARY KEY (app_id, principal_type, principal_id)
);
CREATE INDEX app_assignments_principal ON app_assignments (principal_rid, app_id);

CREATE TABLE app_links (
    app_id      text COLLATE "C" NOT NULL REFERENCES apps (id),
    source_type text COLLATE "C" NOT NULL,
    source_id   text COLLATE "C" NOT NULL,
    target_id   text COLLATE "C" NOT NULL,
    exported    json,
    created_at  text COLLATE "C" NOT NULL,
    updated_at  text COLLATE "C" NOT NULL,
    PRIMARY KEY (app_id, source_type, source_id)
);
-- LinkByTarget reads the first link to a target by source id, off the
-- index.
CREATE INDEX app_links_target ON app_links (app_id, source_type, target_id, source_id);

CREATE TABLE job_states (
    app_id     text COLLATE "C" PRIMARY KEY REFERENCES apps (id),
    watermark  bigint NOT NULL,
    state      json,
    updated_at text COLLATE "C" NOT NULL
);

-- A lease is held until expires_at (exclusive).
CREATE TABLE job_leases (
    app_id     text COLLATE "C" PRIMARY KEY REFERENCES apps (id),
    owner      text COLLATE "C" NOT NULL,
    expires_at text COLLATE "C" NOT NULL
);

-- See the SQLite migration for (at, seq). seq is an identity column: a
-- batch's records take their numbers in the batch's order. Source names
-- can be longer than a B-tree entry holds, so their index is on the md5
-- of the folded name, and queries compare both.
CREATE TABLE provisioning_logs (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              text COLLATE "C" NOT NULL,
    tenant_id       text COLLATE "C" NOT NULL,
    app_id          text COLLATE "C" NOT NULL,
    cycle_id        text COLLATE "C" NOT NULL,
    at              text COLLATE "C" NOT NULL,
    action          text COLLATE "C" NOT NULL,
    status          text COLLATE "C" NOT NULL,
    source_type     text COLLATE "C" NOT NULL,
    source_id       text COLLATE "C" NOT NULL,
    source_name_key text COLLATE "C" NOT NULL,
    source_name     text NOT NULL,
    target_id       text COLLATE "C" NOT NULL,
    record          json
);
CREATE UNIQUE INDEX provisioning_logs_id ON provisioning_logs (id);
CREATE INDEX provisioning_logs_tenant ON provisioning_logs (tenant_id, at, seq);
CREATE INDEX provisioning_logs_app ON provisioning_logs (tenant_id, app_id, at, seq);
CREATE INDEX provisioning_logs_source ON provisioning_logs (tenant_id, source_id, at, seq);
CREATE INDEX provisioning_logs_name ON provisioning_logs (tenant_id, md5(source_name_key), at, seq);
CREATE INDEX provisioning_logs_at ON provisioning_logs (at);

-- +goose Down
DROP TABLE provisioning_logs;
DROP TABLE job_leases;
DROP TABLE job_states;
DROP TABLE app_links;
DROP TABLE app_assignments;
DROP TABLE apps;
ALTER TABLE scim_tokens DROP COLUMN scope;
