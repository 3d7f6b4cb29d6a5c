-- Every table but `organizations` now syncs as one stream per (table, organization), positions
-- keyed `tasks@<organization id>`. A shape's handle does not carry over to another where
-- clause, so the per-user positions of those tables are forgotten; their rows stay visible
-- until each organization's first snapshot (loaded into staging beside them) replaces them.
-- `organizations` keeps its position: it is the same shape as before.
DELETE FROM electric_sync_state
 WHERE table_name IN ('users', 'organization_members', 'repositories', 'tasks', 'workspaces');
DELETE FROM staging_users;
DELETE FROM staging_organization_members;
DELETE FROM staging_repositories;
DELETE FROM staging_tasks;
DELETE FROM staging_workspaces;
-- Tags are now kept per stream (`users@<organization id>`); the per-user shape's go.
DELETE FROM synced_row_tags;
-- Staging holds several organizations' refetches at once: each is found by its organization.
CREATE INDEX staging_organization_members_organization_id ON staging_organization_members (organization_id);
CREATE INDEX staging_repositories_organization_id ON staging_repositories (organization_id);
CREATE INDEX staging_tasks_organization_id ON staging_tasks (organization_id);
CREATE INDEX staging_workspaces_organization_id ON staging_workspaces (organization_id);
