-- Integrations with GitHub and Linear. The new tables are server-only: none is in the
-- publication, so nothing here ever syncs to a desktop. The one synced change is a column on
-- workspaces for the pull request's review state.

-- Every webhook delivery we acted on, keyed by the provider's delivery id
-- (`X-GitHub-Delivery`, `Linear-Delivery`). It is written in the same transaction as the
-- delivery's effect, so a redelivery is applied at most once and a crash cannot lose one that
-- was answered 200.
CREATE TABLE webhook_deliveries (
    provider     text NOT NULL CHECK (provider IN ('github', 'linear')),
    delivery_id  text NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 200),
    event        text NOT NULL,
    -- What the delivery did: applied, unmatched, stale, ignored (see the handlers).
    outcome      text NOT NULL DEFAULT 'received',
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, delivery_id)
);
-- For pruning old deliveries.
CREATE INDEX webhook_deliveries_received_at_idx ON webhook_deliveries (received_at);

-- The newest source timestamp applied per object (a pull request, an issue). Deliveries can
-- arrive out of order (and redeliveries are manual); an older one must not overwrite newer
-- state.
CREATE TABLE webhook_versions (
    provider           text NOT NULL CHECK (provider IN ('github', 'linear')),
    object_key         text NOT NULL,
    source_updated_at  timestamptz NOT NULL,
    PRIMARY KEY (provider, object_key)
);

-- Which of our organizations a Linear organization (workspace) or one of its teams belongs to.
-- A team link wins over its organization's link. One Linear organization/team maps to exactly
-- one of ours, because a Linear issue is one task (tasks are unique on the external id).
CREATE TABLE integrations (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider                  text NOT NULL CHECK (provider IN ('linear')),
    external_organization_id  text NOT NULL CHECK (length(external_organization_id) BETWEEN 1 AND 200),
    -- NULL: the whole external organization.
    external_team_id          text CHECK (length(external_team_id) BETWEEN 1 AND 200),
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX integrations_external_key
    ON integrations (provider, external_organization_id, coalesce(external_team_id, ''));
CREATE INDEX integrations_organization_id_idx ON integrations (organization_id);
CREATE TRIGGER integrations_set_updated_at BEFORE UPDATE ON integrations
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();

-- One GitHub token per organization, for listing and importing repositories. Encrypted with
-- the server's key (XChaCha20-Poly1305, the organization id as associated data); the
-- plaintext is never stored.
CREATE TABLE github_tokens (
    organization_id  uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    ciphertext       bytea NOT NULL,
    nonce            bytea NOT NULL CHECK (length(nonce) = 24),
    created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER github_tokens_set_updated_at BEFORE UPDATE ON github_tokens
    FOR EACH ROW EXECUTE FUNCTION superset_set_updated_at();

-- The latest review decision on a workspace's pull request (from pull_request_review
-- webhooks). Adding a column to a published table keeps it in the publication and keeps
-- REPLICA IDENTITY FULL.
ALTER TABLE workspaces ADD COLUMN pr_review_status text
    CHECK (pr_review_status IN ('approved', 'changes_requested', 'commented'));
