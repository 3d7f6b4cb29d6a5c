//! This device's workspaces from the window: starting work on a task or exploratory work,
//! finishing (asking first what removing the worktree would lose), opening one in the editor,
//! a terminal or the file manager, and making a vanished worktree again. The git and SQLite
//! work runs on the blocking pool; results come back as `Finished` work.

use std::sync::Arc;

use super::{Controller, Finished, FinishedFolder};
use crate::app::actions::WorkAction;
use crate::app::state::{ExploreForm, FinishPrompt};
use crate::gitlink::worktrees::Loss;
use crate::store;
use crate::workspaces::open::{Opener, SystemOpener};
use crate::workspaces::start::{self, Started};
use crate::workspaces::{WorkError, finish};

impl Controller {
    pub(super) fn apply_work_action(&mut self, action: WorkAction) {
        let db = self.database();
        match action {
            WorkAction::Start {
                task_id,
                folder_id,
                mode,
            } => {
                let Some(me) = self.me.clone() else { return };
                let key = self.vm.task(&task_id).map_or("the task", |t| t.key());
                self.ui.busy = Some(format!("Starting work on {key}…"));
                self.background(move || {
                    Finished::WorkStarted(store::open(&db).map_err(WorkError::from).and_then(
                        |mut conn| {
                            start::start_work(&mut conn, &task_id, Some(&folder_id), mode, &me)
                        },
                    ))
                });
            }
            WorkAction::AskExplore { folder_id } => self.ask_explore(folder_id),
            WorkAction::Explore { folder_id, branch } => {
                let Some(me) = self.me.clone() else { return };
                self.ui.exploring = None;
                self.ui.busy = Some(format!("Starting {branch}…"));
                self.background(move || {
                    Finished::WorkStarted(
                        store::open(&db)
                            .map_err(WorkError::from)
                            .and_then(|mut conn| {
                                start::explore(&mut conn, &folder_id, &branch, &me)
                            }),
                    )
                });
            }
            WorkAction::CancelExplore => self.ui.exploring = None,
            WorkAction::AskFinish { workspace_id } => self.background(move || {
                let loss = store::open(&db)
                    .map_err(WorkError::from)
                    .and_then(|conn| finish::what_would_be_lost(&conn, &workspace_id));
                Finished::FinishAsked(workspace_id, loss)
            }),
            WorkAction::Finish {
                workspace_id,
                remove,
            } => {
                self.ui.finishing = None;
                self.background(move || {
                    Finished::WorkDone(
                        store::open(&db)
                            .map_err(WorkError::from)
                            .and_then(|mut conn| finish::finish(&mut conn, &workspace_id, remove)),
                    )
                });
            }
            WorkAction::CancelFinish => self.ui.finishing = None,
            WorkAction::Open { workspace_id, how } => {
                let chosen = self.options.opener.clone();
                self.background(move || {
                    Finished::Opened(store::open(&db).map_err(WorkError::from).and_then(|conn| {
                        let path = crate::workspaces::open::folder_of(&conn, &workspace_id)?;
                        let opener: Arc<dyn Opener> = match chosen {
                            Some(opener) => opener,
                            None => Arc::new(SystemOpener::from_settings(&conn)?),
                        };
                        opener.open(how, &path)
                    }))
                });
            }
            WorkAction::Recreate { workspace_id } => self.background(move || {
                Finished::WorkStarted(
                    store::open(&db)
                        .map_err(WorkError::from)
                        .and_then(|mut conn| start::recreate(&mut conn, &workspace_id)),
                )
            }),
        }
    }

    /// The exploratory-work form for a folder, with a branch name of the person's own.
    fn ask_explore(&mut self, folder_id: String) {
        let name = self.vm.me.as_ref().map_or("me", |m| m.name.as_str());
        let taken = |branch: &str| {
            self.vm
                .workspaces
                .iter()
                .any(|w| w.branch.as_deref() == Some(branch))
        };
        let branch = start::exploration_branch(name, taken);
        self.ui.exploring = Some(ExploreForm { folder_id, branch });
    }

    pub(super) fn on_work_started(&mut self, result: Result<Started, WorkError>) {
        self.ui.busy = None;
        match result {
            Ok(started) => {
                if let Some(engine) = &self.engine {
                    engine.outbox_added();
                }
                self.notice(started.message, false);
            }
            Err(e) => self.notice(e.to_string(), true),
        }
        self.reload();
    }

    pub(super) fn on_finish_asked(&mut self, id: String, loss: Result<Loss, WorkError>) {
        match loss {
            Ok(loss) => {
                let workspace = self.vm.workspaces.iter().find(|w| w.id == id);
                self.ui.finishing = Some(FinishPrompt {
                    path: workspace.and_then(|w| w.local_path.clone()),
                    workspace_id: id,
                    loss,
                });
            }
            Err(e) => self.notice(e.to_string(), true),
        }
    }

    pub(super) fn on_work_finished(&mut self, result: Result<FinishedFolder, WorkError>) {
        match result {
            Ok(folder) => {
                if let Some(engine) = &self.engine {
                    engine.outbox_added();
                }
                let error = matches!(folder, FinishedFolder::KeptBecause(..));
                self.notice(format!("done — {}", folder.describe()), error);
            }
            Err(e) => self.notice(e.to_string(), true),
        }
        self.reload();
    }
}
