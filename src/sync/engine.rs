//! The running engine: the `organizations` supervisor (the directory's stream and one stream
//! per table of each organization the user belongs to) and the outbox `sender`, spawned on
//! tokio, stopped together. The window and the command line start it with a profile's
//! database, session and HTTP client, and read what it does through [`Events`].

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Notify, watch};

use super::context::Context;
use super::events::{Events, Hub};
use super::session::Session;
use super::{organizations, sender};

/// A running engine; dropping it stops the streams.
pub struct Engine {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    outbox: Arc<Notify>,
}

impl Engine {
    /// Starts the streams and the outbox sender. `waker` is called after every event.
    pub fn start(
        db_path: PathBuf,
        session: Arc<Session>,
        http: reqwest::Client,
        waker: impl Fn() + Send + Sync + 'static,
    ) -> (Self, Events) {
        let (hub, events) = Hub::new(waker);
        let context = Arc::new(Context {
            db_path,
            session,
            http,
            hub,
            organizations_changed: Notify::new(),
        });
        let (stop, stopped) = watch::channel(false);
        let outbox = Arc::new(Notify::new());
        let tasks = vec![
            tokio::spawn(organizations::run(context.clone(), stopped.clone())),
            tokio::spawn(sender::run(context, outbox.clone(), stopped)),
        ];
        (
            Self {
                stop,
                tasks,
                outbox,
            },
            events,
        )
    }

    /// Wakes the outbox sender after a command was enqueued.
    pub fn outbox_added(&self) {
        self.outbox.notify_one();
    }

    /// What wakes the outbox sender, for background tasks that enqueue commands.
    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox.clone()
    }

    /// Stops every stream and waits for them (an in-flight write finishes first).
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
