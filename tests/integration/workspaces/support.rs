//! A signed-in profile whose engine is live, with a real clone of one of the organization's
//! repositories linked to it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use superset::gitlink::linking::{self, LinkOutcome};
use superset::profile;
use superset::server::seed;
use superset::store;

use crate::desktop::support::{Desktop, Setup};
use crate::window::support::git_repository;

/// A live profile of the multi-organization user and a linked clone of `repository`.
pub struct Linked {
    pub setup: Setup,
    pub profile: tempfile::TempDir,
    pub user: seed::User,
    pub desktop: Desktop,
    pub folders: tempfile::TempDir,
    pub clone: PathBuf,
    pub repository: seed::Repository,
}

impl Linked {
    pub async fn start() -> Self {
        let setup = Setup::start(30).await;
        let profile = tempfile::tempdir().unwrap();
        let user = setup.multi_org_user().clone();
        setup.login(profile.path(), &user.email).await;
        let mut desktop = Desktop::start(profile.path());
        desktop.wait_live(Duration::from_secs(30)).await;
        let repository = setup.team.repositories[0].clone();
        let folders = tempfile::tempdir().unwrap();
        let clone = folders.path().join(&repository.name);
        git_repository(&clone, Some(&repository.url));
        let db = profile::database_path(profile.path());
        let device: String = store::open(&db)
            .unwrap()
            .query_row("SELECT device_id FROM settings", [], |r| r.get(0))
            .unwrap();
        let outcome = linking::link(&db, &clone, &device).unwrap();
        assert!(matches!(outcome, LinkOutcome::Linked { .. }), "{outcome:?}");
        Self {
            setup,
            profile,
            user,
            desktop,
            folders,
            clone,
            repository,
        }
    }

    pub fn conn(&self) -> rusqlite::Connection {
        store::open(&profile::database_path(self.profile.path())).unwrap()
    }

    /// Local tasks of the repository's organization (their keys), at least `n`.
    pub fn task_keys(&self, n: usize) -> Vec<String> {
        let org = self.setup.team.organizations[self.repository.organization].id;
        let conn = self.conn();
        let mut statement = conn
            .prepare(
                "SELECT external_key FROM tasks WHERE organization_id = ?1 AND deleted_at IS NULL \
                 ORDER BY external_key LIMIT ?2",
            )
            .unwrap();
        let keys: Vec<String> = statement
            .query_map(rusqlite::params![org.to_string(), n as i64], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys.len(), n, "the seed has {n} tasks in the organization");
        keys
    }

    /// Wakes the outbox and waits until nothing is left to send.
    pub async fn sent(&self) {
        self.desktop.engine.as_ref().unwrap().outbox_added();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let pending: i64 = self
                .conn()
                .query_row(
                    "SELECT count(*) FROM outbox WHERE state = 'pending'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            if pending == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the outbox did not drain"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn stop(self) {
        self.desktop.stop().await;
        self.setup.stop().await;
    }
}

/// HEAD's branch of the repository at `path`.
pub fn head(path: &Path) -> String {
    git2::Repository::open(path)
        .unwrap()
        .head()
        .unwrap()
        .shorthand()
        .unwrap()
        .to_owned()
}
