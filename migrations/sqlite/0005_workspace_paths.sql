-- Where each of this device's workspaces lives: a worktree of its own beside a linked clone
-- (or the clone itself when work was started by switching its checkout). Device-local, like
-- local_repos: kept on sign-out. Its owner, task, repository and branch are kept here too, so
-- they are known before sync brings the workspace back. `pr_checked_at`: when the API was last asked to look up the
-- branch's pull request (after a push), so it is asked once per push, not every poll.
CREATE TABLE workspace_paths (
    workspace_id   TEXT PRIMARY KEY NOT NULL,
    owner_id       TEXT,
    task_id        TEXT,
    repository_id  TEXT,
    branch         TEXT,
    local_path     TEXT NOT NULL,
    local_repo_id  TEXT,
    is_worktree    INTEGER NOT NULL DEFAULT 1 CHECK (is_worktree IN (0, 1)),
    pr_checked_at  TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Where new worktrees go (NULL: beside each clone, in `<clone>.worktrees/`), and the commands
-- that open a workspace (NULL: $VISUAL / $EDITOR, and $TERMINAL).
ALTER TABLE settings ADD COLUMN worktrees_folder TEXT;
ALTER TABLE settings ADD COLUMN editor_command TEXT;
ALTER TABLE settings ADD COLUMN terminal_command TEXT;
