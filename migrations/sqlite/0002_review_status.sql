-- The review state of a workspace's pull request, set by GitHub's pull_request_review webhook.
ALTER TABLE workspaces ADD COLUMN pr_review_status TEXT;
ALTER TABLE staging_workspaces ADD COLUMN pr_review_status TEXT;
