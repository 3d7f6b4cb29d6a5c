//! The supervisor: the organizations the user belongs to decide which streams run. It runs the
//! directory's stream (`organizations`, all of the user's) and, for every organization the
//! directory lists, one stream per organization table. When the directory changes — the user
//! joined an organization, or left it (also while the engine was stopped: the directory's
//! shape is then refetched) — it starts the new organization's streams, and stops the old
//! one's and purges its rows; no other organization's stream is touched or refetched.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::apply;
use super::context::{Context, Database};
use super::events::TableState;
use super::slices::{self, ORGANIZATION_TABLES, StreamKey};
use super::stream;

/// One organization's running streams and what stops them.
struct OrganizationStreams {
    keys: Vec<StreamKey>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl OrganizationStreams {
    fn start(context: &Arc<Context>, organization: &str) -> Self {
        let keys = StreamKey::of_organization(organization);
        context.hub.expect(&keys);
        let (stop, stopped) = watch::channel(false);
        let tasks = keys
            .iter()
            .map(|key| tokio::spawn(stream::run(context.clone(), key.clone(), stopped.clone())))
            .collect();
        Self { keys, stop, tasks }
    }

    /// Stops the streams and waits for them (a write under way finishes first).
    async fn stop(self) -> Vec<StreamKey> {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.keys
    }
}

/// Runs the directory and the organizations' streams until `stopped`.
pub(super) async fn run(context: Arc<Context>, mut stopped: watch::Receiver<bool>) {
    let directory = tokio::spawn(stream::run(
        context.clone(),
        StreamKey::directory(),
        stopped.clone(),
    ));
    let mut running = BTreeMap::new();
    match Database::open(&context).await {
        Ok(db) => loop {
            reconcile(&context, &db, &mut running).await;
            tokio::select! {
                () = context.organizations_changed.notified() => {}
                _ = stopped.wait_for(|s| *s) => break,
            }
        },
        Err(e) => {
            let state = TableState::Failed(e.to_string());
            context.hub.set_state(&StreamKey::directory().name(), state);
        }
    }
    for (_, streams) in std::mem::take(&mut running) {
        streams.stop().await;
    }
    let _ = directory.await;
}

/// Brings the running streams in line with the directory: stops and purges organizations it no
/// longer lists, starts the ones it newly lists.
async fn reconcile(
    context: &Arc<Context>,
    db: &Database,
    running: &mut BTreeMap<String, OrganizationStreams>,
) {
    let listed: BTreeSet<String> = match db.run(|c| slices::listed_organizations(c)).await {
        Ok(listed) => listed,
        Err(e) => {
            tracing::warn!(%e, "the directory cannot be read");
            return;
        }
    };
    let left: Vec<String> = running
        .keys()
        .filter(|o| !listed.contains(*o))
        .cloned()
        .collect();
    for organization in left {
        if let Some(streams) = running.remove(&organization) {
            let keys = streams.stop().await;
            context.hub.forget(&keys);
        }
    }
    match db.run(apply::purge_unlisted).await {
        Ok(0) => {}
        Ok(removed) => {
            tracing::info!(removed, "purged the rows of organizations the user left");
            for table in ORGANIZATION_TABLES {
                context.hub.tables_changed(table);
            }
        }
        Err(e) => tracing::warn!(%e, "purging organizations the user left failed"),
    }
    for organization in listed {
        if let std::collections::btree_map::Entry::Vacant(entry) = running.entry(organization) {
            let streams = OrganizationStreams::start(context, entry.key());
            entry.insert(streams);
        }
    }
}
