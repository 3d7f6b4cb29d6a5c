//! "On this device": the user's own workspaces report their linked folder's git state and
//! branch, and activity, through the outbox — and nothing at all when nothing changed.

use superset::outbox::{self, Command};
use superset::store;
use superset::workspaces::report::report;

use super::support::git_repository;

const ME: &str = "00000000-0000-0000-0000-000000000001";
const WORKSPACE: &str = "00000000-0000-0000-0000-0000000000aa";

#[test]
fn own_workspaces_report_git_state_and_activity_only_when_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("profile.db");
    let folder = dir.path().join("api");
    git_repository(&folder, Some("git@github.com:acme/api.git"));
    let mut conn = store::open(&db).unwrap();
    let stamp = "2026-11-25 09:00:00+00";
    conn.execute_batch(&format!(
        "UPDATE settings SET device_name = 'ada-laptop';
         INSERT INTO repositories VALUES ('r1', 'o1', 'api', 'api', 'https://github.com/acme/api', 'main', NULL, '{stamp}', '{stamp}');
         INSERT INTO local_repos (id, repository_id, local_path, remote_url, device_id)
                VALUES ('f1', 'r1', '{}', 'git@github.com:acme/api.git', 'd');
         INSERT INTO workspaces (id, organization_id, task_id, repository_id, owner_id, type, device_name, status,
                                 git_branch, git_status, last_activity_at, created_at, updated_at)
                VALUES ('{WORKSPACE}', 'o1', NULL, 'r1', '{ME}', 'local', 'ada-laptop', 'active',
                        'main', '{{\"uncommitted\": 0, \"ahead\": 0, \"behind\": 0}}', '{stamp}', '{stamp}', '{stamp}');
         -- Someone else's workspace on another device is never touched.
         INSERT INTO workspaces (id, organization_id, task_id, repository_id, owner_id, type, device_name, status,
                                 created_at, updated_at)
                VALUES ('00000000-0000-0000-0000-0000000000bb', 'o1', NULL, 'r1', 'someone', 'local', 'other', 'active',
                        '{stamp}', '{stamp}');",
        folder.display()
    ))
    .unwrap();
    let pending = |conn: &rusqlite::Connection| outbox::overlay(conn).unwrap();

    // Clean, on main, no heartbeat asked: nothing to say.
    assert_eq!(report(&mut conn, ME, false, false).unwrap().queued, 0);
    assert!(pending(&conn).is_empty());

    // Two uncommitted files: one update with the new git state.
    std::fs::write(folder.join("README.md"), "changed\n").unwrap();
    std::fs::write(folder.join("new.txt"), "new\n").unwrap();
    assert_eq!(report(&mut conn, ME, false, false).unwrap().queued, 1);
    let entries = pending(&conn);
    assert_eq!(entries.len(), 1);
    let Command::UpdateWorkspace { id, fields } = &entries[0].command else {
        panic!("{:?}", entries[0].command)
    };
    assert_eq!(id.to_string(), WORKSPACE);
    assert_eq!(fields["git_status"]["uncommitted"], 2);
    assert!(
        !fields.contains_key("git_branch"),
        "the branch did not change"
    );

    // Asked again with nothing new: the pending update already says it.
    report(&mut conn, ME, false, false).unwrap();
    let again = pending(&conn);
    assert_eq!(again, entries, "nothing new is queued or sent");

    // A heartbeat adds the activity to the same unsent update; going idle sets the status.
    report(&mut conn, ME, true, false).unwrap();
    let entries = pending(&conn);
    assert_eq!(entries.len(), 1, "coalesced into the unsent update");
    let Command::UpdateWorkspace { fields, .. } = &entries[0].command else {
        unreachable!()
    };
    assert!(fields.contains_key("last_activity_at"));
    conn.execute("DELETE FROM outbox", []).unwrap();
    conn.execute(
        "UPDATE workspaces SET git_status = '{\"uncommitted\": 2, \"ahead\": 0, \"behind\": 0}' WHERE id = ?1",
        [WORKSPACE],
    )
    .unwrap();
    report(&mut conn, ME, false, true).unwrap();
    let entries = pending(&conn);
    let Command::UpdateWorkspace { fields, .. } = &entries[0].command else {
        unreachable!()
    };
    assert_eq!(fields["status"], "idle");
}
