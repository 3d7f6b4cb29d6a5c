-- The six team-shared tables that sync to every desktop (the seed's "Synced Tables").
-- Enum-like columns are text with CHECK constraints rather than Postgres enums: the sync
-- protocol sends values as text, and adding a value later is a one-line constraint change
-- instead of an ALTER TYPE that cannot run inside a transaction.

-- Keeps updated_at honest without trusting every writer. A no-op UPDATE (nothing changed)
-- keeps the old timestamp, so clients do not see churn for writes that changed nothing.
CREATE FUNCTION superset_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    avatar_url  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text NOT NULL CHECK (position('@' IN email) > 1),
    name        text NOT NULL,
    avatar_url  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Sign-in looks users up by e-mail, case-insensitively.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE organization_members (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, user_id)
);
CREATE INDEX organization_members_organization_id_idx ON organization_members (organization_id);
CREATE INDEX organization_members_user_id_idx ON organization_members (user_id);

CREATE TABLE repositories (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text NOT NULL,
    slug             text NOT NULL,
    url              text NOT NULL,
    default_branch   text NOT NULL DEFAULT 'main',
    github_id        bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, url)
);
CREATE INDEX repositories_organization_id_idx ON repositories (organization_id);
CREATE INDEX repositories_github_id_idx ON repositories (github_id) WHERE github_id IS NOT NULL;

CREATE TABLE tasks (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- The repository Linear suggests (from the branch name); work itself lives on workspaces.
    repository_id      uuid REFERENCES repositories (id) ON DELETE SET NULL,
    title              text NOT NULL,
    description        text,
    status             text NOT NULL DEFAULT 'Backlog',
    status_color       text CHECK (status_color ~ '^#[0-9a-fA-F]{6}$'),
    priority           text NOT NULL DEFAULT 'none'
                       CHECK (priority IN ('urgent', 'high', 'medium', 'low', 'none')),
    assignee_id        uuid REFERENCES users (id) ON DELETE SET NULL,
    external_provider  text CHECK (external_provider IN ('linear', 'github')),
    external_id        text,
    external_key       text,
    external_url       text,
    branch             text,
    labels             jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(labels) = 'array'),
    due_date           date,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    UNIQUE (external_provider, external_id),
    CHECK ((external_provider IS NULL) = (external_id IS NULL))
);
CREATE INDEX tasks_organization_id_idx ON tasks (organization_id);
CREATE INDEX tasks_assignee_id_idx ON tasks (assignee_id);
CREATE INDEX tasks_repository_id_idx ON tasks (repository_id);

CREATE TABLE workspaces (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    task_id           uuid REFERENCES tasks (id) ON DELETE SET NULL,
    repository_id     uuid NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    owner_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type              text NOT NULL DEFAULT 'local' CHECK (type IN ('local', 'cloud')),
    device_name       text NOT NULL,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'idle', 'archived')),
    git_branch        text,
    git_status        jsonb CHECK (git_status IS NULL OR jsonb_typeof(git_status) = 'object'),
    pr_url            text,
    pr_number         integer CHECK (pr_number > 0),
    pr_status         text CHECK (pr_status IN ('draft', 'open', 'merged', 'closed')),
    last_activity_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspaces_organization_id_idx ON workspaces (organization_id);
CREATE INDEX workspaces_task_id_idx ON workspaces (task_id);
CREATE INDEX workspaces_owner_id_idx ON workspaces (owner_id);
-- Webhook lookups: a pull request event finds its workspace by URL, else by branch.
CREATE INDEX workspaces_pr_url_idx ON workspaces (pr_url);
CREATE INDEX workspaces_repository_id_git_branch_idx ON workspaces (repository_id, git_branch);

CREATE TRIGGER organizations_set_updated_at BEFORE UPDATE ON organizations
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();
CREATE TRIGGER organization_members_set_updated_at BEFORE UPDATE ON organization_members
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();
CREATE TRIGGER repositories_set_updated_at BEFORE UPDATE ON repositories
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();
CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();
CREATE TRIGGER workspaces_set_updated_at BEFORE UPDATE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();

-- Updates and deletes must carry every column (organization_id above all) so the sync
-- service can route them to shapes without a lookup.
ALTER TABLE organizations REPLICA IDENTITY FULL;
ALTER TABLE users REPLICA IDENTITY FULL;
ALTER TABLE organization_members REPLICA IDENTITY FULL;
ALTER TABLE repositories REPLICA IDENTITY FULL;
ALTER TABLE tasks REPLICA IDENTITY FULL;
ALTER TABLE workspaces REPLICA IDENTITY FULL;

CREATE PUBLICATION superset_sync FOR TABLE
    organizations, users, organization_members, repositories, tasks, workspaces;
