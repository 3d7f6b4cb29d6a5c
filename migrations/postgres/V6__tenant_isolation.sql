-- Tenant isolation: nothing one organization does reaches another. Every table here is
-- server-only (not in the publication); the one change to a synced table is the tasks' key.

-- A Linear organization belongs to at most one of ours, and the link is proven by the
-- webhook signing secret Linear gave that organization's admin (sealed with the server's key,
-- the Linear organization id as associated data). Links made before secrets existed keep a
-- NULL secret; the deployment's LINEAR_WEBHOOK_SECRET verifies them while they are its only
-- link.
CREATE TABLE linear_links (
    external_organization_id  text PRIMARY KEY
                              CHECK (length(external_organization_id) BETWEEN 1 AND 200),
    organization_id           uuid NOT NULL UNIQUE REFERENCES organizations (id) ON DELETE CASCADE,
    secret_ciphertext         bytea,
    secret_nonce              bytea CHECK (length(secret_nonce) = 24),
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK ((secret_ciphertext IS NULL) = (secret_nonce IS NULL))
);
CREATE TRIGGER linear_links_set_updated_at BEFORE UPDATE ON linear_links
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();

-- When a link covers only some teams of its Linear organization, these are they.
CREATE TABLE linear_link_teams (
    external_organization_id  text NOT NULL
                              REFERENCES linear_links (external_organization_id) ON DELETE CASCADE,
    team_id                   text NOT NULL CHECK (length(team_id) BETWEEN 1 AND 200),
    PRIMARY KEY (external_organization_id, team_id)
);

-- The old links: each Linear organization goes to the organization that linked it first; any
-- later claim of it (or of one of its teams) by another organization is dropped.
INSERT INTO linear_links (external_organization_id, organization_id, created_at)
SELECT DISTINCT ON (external_organization_id) external_organization_id, organization_id, created_at
FROM integrations
WHERE provider = 'linear'
  AND organization_id NOT IN (
      -- An organization keeps one Linear organization (the API replaced links, so this is
      -- every organization's only one, unless two were claimed at once).
      SELECT organization_id FROM integrations GROUP BY organization_id
      HAVING count(DISTINCT external_organization_id) > 1)
ORDER BY external_organization_id, created_at;
INSERT INTO linear_link_teams (external_organization_id, team_id)
SELECT i.external_organization_id, i.external_team_id
FROM integrations i
JOIN linear_links l ON l.external_organization_id = i.external_organization_id
                   AND l.organization_id = i.organization_id
WHERE i.external_team_id IS NOT NULL
ON CONFLICT DO NOTHING;
DROP TABLE integrations;

-- A task's identity is (organization, provider, external id): a webhook updates or removes a
-- task only inside the organization its link belongs to, and never moves one.
ALTER TABLE tasks DROP CONSTRAINT tasks_external_provider_external_id_key;
ALTER TABLE tasks ADD CONSTRAINT tasks_organization_external_key
    UNIQUE (organization_id, external_provider, external_id);

-- Membership by invitation: adding someone creates a pending invitation that they accept or
-- decline. The organization sees only the invited e-mail until then.
CREATE TABLE invitations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    role             text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    invited_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX invitations_organization_email_key ON invitations (organization_id, lower(email));
CREATE INDEX invitations_email_idx ON invitations (lower(email));

-- Who created which organization, for the per-user limit on organizations.
CREATE TABLE organization_creators (
    organization_id  uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organization_creators_user_id_idx ON organization_creators (user_id);

-- Failed sign-ins per e-mail address and per client address, shared by every API replica:
-- `credit` attempts are left, refilled at a steady rate; at none, the key is blocked until
-- `blocked_until`.
CREATE TABLE login_attempts (
    key            text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 400),
    credit         double precision NOT NULL,
    checked_at     timestamptz NOT NULL DEFAULT now(),
    blocked_until  timestamptz
);
CREATE INDEX login_attempts_checked_at_idx ON login_attempts (checked_at);

-- A removed member's live requests end at once: every API replica listens for this.
CREATE FUNCTION superset_membership_removed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('superset_membership_removed',
                      json_build_object('organization_id', OLD.organization_id,
                                        'user_id', OLD.user_id)::text);
    RETURN OLD;
END
$$;
CREATE TRIGGER organization_members_removed AFTER DELETE ON organization_members
    FOR EACH ROW EXECUTE FUNCTION superset_membership_removed();
