-- The desktop's local database: a mirror of the six synced tables plus device-only tables.
--
-- Synced tables keep Postgres's column names. Values are stored as Electric sends them:
-- uuids and timestamps as text (RFC 3339), jsonb as JSON text, integers as integers.
-- They carry no foreign keys on purpose: the six shape streams arrive independently, so a
-- task may land before its repository, and must-refetch swaps one table at a time.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    avatar_url  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL,
    avatar_url  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE organization_members (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    role             TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX organization_members_organization_id_idx ON organization_members (organization_id);
CREATE INDEX organization_members_user_id_idx ON organization_members (user_id);

CREATE TABLE repositories (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL,
    url              TEXT NOT NULL,
    default_branch   TEXT NOT NULL,
    github_id        INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX repositories_organization_id_idx ON repositories (organization_id);

CREATE TABLE tasks (
    id                 TEXT PRIMARY KEY NOT NULL,
    organization_id    TEXT NOT NULL,
    repository_id      TEXT,
    title              TEXT NOT NULL,
    description        TEXT,
    status             TEXT NOT NULL,
    status_color       TEXT,
    priority           TEXT NOT NULL,
    assignee_id        TEXT,
    external_provider  TEXT,
    external_id        TEXT,
    external_key       TEXT,
    external_url       TEXT,
    branch             TEXT,
    labels             TEXT NOT NULL DEFAULT '[]',
    due_date           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT
) STRICT;
CREATE INDEX tasks_organization_id_idx ON tasks (organization_id);
CREATE INDEX tasks_assignee_id_idx ON tasks (assignee_id);

CREATE TABLE workspaces (
    id                TEXT PRIMARY KEY NOT NULL,
    organization_id   TEXT NOT NULL,
    task_id           TEXT,
    repository_id     TEXT NOT NULL,
    owner_id          TEXT NOT NULL,
    type              TEXT NOT NULL,
    device_name       TEXT NOT NULL,
    status            TEXT NOT NULL,
    git_branch        TEXT,
    git_status        TEXT,
    pr_url            TEXT,
    pr_number         INTEGER,
    pr_status         TEXT,
    last_activity_at  TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX workspaces_organization_id_idx ON workspaces (organization_id);
CREATE INDEX workspaces_task_id_idx ON workspaces (task_id);

-- Device-only tables.

-- A folder on this machine, linked (or not yet) to an org repository. remote_url is the
-- normalised origin URL, kept so links can be re-matched after signing in again.
CREATE TABLE local_repos (
    id              TEXT PRIMARY KEY NOT NULL,
    repository_id   TEXT,
    local_path      TEXT NOT NULL UNIQUE,
    remote_url      TEXT,
    device_id       TEXT NOT NULL,
    color           TEXT,
    last_opened_at  TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX local_repos_repository_id_idx ON local_repos (repository_id);

-- Exactly one row (id = 1): this device's preferences and session pointers.
CREATE TABLE settings (
    id                        INTEGER PRIMARY KEY CHECK (id = 1),
    active_organization_id    TEXT,
    last_active_workspace_id  TEXT,
    theme                     TEXT NOT NULL DEFAULT 'system' CHECK (theme IN ('system', 'dark', 'light')),
    terminal_presets          TEXT NOT NULL DEFAULT '[]',
    server_url                TEXT,
    device_id                 TEXT NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    device_name               TEXT
) STRICT;
INSERT INTO settings (id) VALUES (1);

-- Where each shape stream stands. Written in the same transaction as the rows it describes,
-- so the rows are always exactly those of `shape_offset` (the seed's open question, settled).
-- `refetching` is set while a replacement snapshot loads into staging_<table> after a 409;
-- the old rows stay visible until it is complete and swapped in.
CREATE TABLE electric_sync_state (
    table_name      TEXT PRIMARY KEY NOT NULL,
    handle          TEXT,
    shape_offset    TEXT NOT NULL DEFAULT '-1',
    last_synced_at  TEXT,
    refetching      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Writes waiting to reach the API, applied optimistically until the synced row confirms them.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    command       TEXT NOT NULL,
    entity_table  TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    txid          INTEGER,
    last_error    TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX outbox_state_idx ON outbox (state, id);

-- Where a replacement snapshot loads after a must-refetch, beside the rows still shown; the
-- batch that completes it swaps it in (see src/store/synced.rs).
CREATE TABLE staging_organizations AS SELECT * FROM organizations WHERE 0;
CREATE UNIQUE INDEX staging_organizations_id ON staging_organizations (id);
CREATE TABLE staging_users AS SELECT * FROM users WHERE 0;
CREATE UNIQUE INDEX staging_users_id ON staging_users (id);
CREATE TABLE staging_organization_members AS SELECT * FROM organization_members WHERE 0;
CREATE UNIQUE INDEX staging_organization_members_id ON staging_organization_members (id);
CREATE TABLE staging_repositories AS SELECT * FROM repositories WHERE 0;
CREATE UNIQUE INDEX staging_repositories_id ON staging_repositories (id);
CREATE TABLE staging_tasks AS SELECT * FROM tasks WHERE 0;
CREATE UNIQUE INDEX staging_tasks_id ON staging_tasks (id);
CREATE TABLE staging_workspaces AS SELECT * FROM workspaces WHERE 0;
CREATE UNIQUE INDEX staging_workspaces_id ON staging_workspaces (id);
