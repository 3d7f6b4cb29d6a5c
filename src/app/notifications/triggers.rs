//! What deserves a notification, found by comparing each view model with the last one seen:
//! a task newly assigned to me (not by me), a pull request of my workspace newly merged or
//! newly sent back with changes requested, a teammate's new workspace on a task assigned to me.
//!
//! Each change fires once: what was seen becomes the next baseline. While the first sync (or a
//! resync) is still loading, models only become the baseline — the backlog is not news — and
//! tasks this device wrote lately are skipped: one's own actions are never announced.

use std::collections::{HashMap, HashSet};

use super::Notification;
use crate::app::view_model::{PullRequest, ViewModel};

/// What the last view model showed, as far as the triggers care.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    /// Who the snapshot was taken for, and the tasks assigned to them (only these: a model of
    /// 100,000 tasks must not be kept twice for the sake of a few).
    me: Option<String>,
    assigned_to_me: HashSet<String>,
    /// Workspace id → its pull request's status and review.
    pull_requests: HashMap<String, (String, Option<String>)>,
    workspaces: HashSet<String>,
}

impl Snapshot {
    fn of(vm: &ViewModel, me: Option<&str>) -> Self {
        Self {
            me: me.map(str::to_owned),
            assigned_to_me: vm
                .tasks
                .iter()
                .filter(|t| me.is_some() && t.assignee_id.as_deref() == me)
                .map(|t| t.id().to_owned())
                .collect(),
            pull_requests: vm
                .workspaces
                .iter()
                .filter_map(|w| {
                    let pr = w.pull_request.as_ref()?;
                    Some((w.id.clone(), (pr.status.clone(), pr.review.clone())))
                })
                .collect(),
            workspaces: vm.workspaces.iter().map(|w| w.id.clone()).collect(),
        }
    }
}

/// Remembers the last view model and turns what changed since into notifications.
#[derive(Debug, Default)]
pub struct Watch {
    baseline: Option<Snapshot>,
    /// The baseline was read after the sync finished (else it may lack the backlog).
    synced: bool,
}

impl Watch {
    /// The notifications `vm` calls for, for `me`. `synced`: the model was read after the sync
    /// finished (else it only becomes the baseline, as does the first one that was). `own`:
    /// tasks this device changed lately. A partial model (the first screen) is skipped.
    pub fn observe(
        &mut self,
        vm: &ViewModel,
        me: Option<&str>,
        synced: bool,
        own: &HashSet<String>,
    ) -> Vec<Notification> {
        if vm.partial {
            return Vec::new();
        }
        let snapshot = Snapshot::of(vm, me);
        let before = self.baseline.replace(snapshot);
        // The first model read after the sync finished is the baseline: everything in it is
        // backlog, however it got there.
        let compare = synced && std::mem::replace(&mut self.synced, synced);
        match (before, me) {
            (Some(before), Some(me)) if compare => {
                let mut out = assigned(vm, &before, me, own);
                out.extend(pull_requests(vm, &before, me));
                out.extend(started(vm, &before, me));
                out
            }
            _ => Vec::new(),
        }
    }
}

fn assigned(
    vm: &ViewModel,
    before: &Snapshot,
    me: &str,
    own: &HashSet<String>,
) -> Vec<Notification> {
    if before.me.as_deref() != Some(me) {
        // Signed in as someone else since: what they were assigned before is not known.
        return Vec::new();
    }
    vm.tasks
        .iter()
        .filter(|t| t.assignee_id.as_deref() == Some(me) && !own.contains(t.id()))
        .filter(|t| !before.assigned_to_me.contains(t.id()))
        .map(|t| Notification {
            title: format!("{} was assigned to you", t.key()),
            body: t.title().to_owned(),
        })
        .collect()
}

fn pull_requests(vm: &ViewModel, before: &Snapshot, me: &str) -> Vec<Notification> {
    let mut out = Vec::new();
    for workspace in vm.workspaces.iter().filter(|w| w.owner_id == me) {
        let Some(pr) = &workspace.pull_request else {
            continue;
        };
        let (was_status, was_review) = match before.pull_requests.get(&workspace.id) {
            Some((status, review)) => (Some(status.as_str()), review.as_deref()),
            None => (None, None),
        };
        let about = workspace
            .task_id
            .as_ref()
            .and_then(|id| vm.task(id))
            .map(|t| format!("{}  {}", t.key(), t.title()))
            .or_else(|| workspace.branch.clone())
            .unwrap_or_default();
        if pr.status == "merged" && was_status != Some("merged") {
            out.push(notice(pr, "was merged", &about));
        } else if pr.review.as_deref() == Some("changes_requested")
            && was_review != Some("changes_requested")
        {
            out.push(notice(pr, "has changes requested", &about));
        }
    }
    out
}

fn notice(pr: &PullRequest, what: &str, about: &str) -> Notification {
    Notification {
        title: format!("Your pull request #{} {what}", pr.number),
        body: about.to_owned(),
    }
}

fn started(vm: &ViewModel, before: &Snapshot, me: &str) -> Vec<Notification> {
    vm.workspaces
        .iter()
        .filter(|w| w.owner_id != me && !before.workspaces.contains(&w.id))
        .filter_map(|w| {
            let task = vm.task(w.task_id.as_deref()?)?;
            (task.assignee_id.as_deref() == Some(me)).then(|| Notification {
                title: format!("{} started work on {}", w.owner_name, task.key()),
                body: format!("{} · {}", task.title(), w.device_name),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::view_model::{Labels, Shared, Task, TaskIndex, TaskText, Workspace};

    fn task(id: &str, assignee: Option<&str>) -> Task {
        let (key, title) = (format!("K-{id}"), format!("Task {id}"));
        Task {
            text: TaskText::new([Some(id), Some(&key), Some(&title), None, None, None]),
            organization_id: "o".into(),
            repository_id: None,
            status: "Todo".into(),
            status_color: None,
            priority: "none".into(),
            assignee_id: assignee.map(Shared::from),
            assignee_name: None,
            labels: Labels::default(),
            due_date: None,
            provider: None,
            pending: false,
        }
    }

    fn workspace(id: &str, owner: &str, task: &str, pr: Option<(&str, Option<&str>)>) -> Workspace {
        Workspace {
            id: id.into(),
            organization_id: "o".into(),
            task_id: Some(task.into()),
            repository_id: "r".into(),
            owner_id: owner.into(),
            owner_name: "Mike".into(),
            cloud: false,
            device_name: "laptop".into(),
            status: "active".into(),
            branch: None,
            git: None,
            pull_request: pr.map(|(status, review)| PullRequest {
                number: 7,
                status: status.into(),
                review: review.map(str::to_owned),
                url: None,
            }),
            last_activity_at: None,
            local_path: None,
            pending: false,
        }
    }

    fn model(tasks: Vec<Task>, workspaces: Vec<Workspace>) -> ViewModel {
        let task_index = TaskIndex::of(&tasks);
        ViewModel {
            tasks,
            workspaces,
            task_index,
            ..ViewModel::default()
        }
    }

    #[test]
    fn each_trigger_fires_once_and_not_before_the_first_sync() {
        let none = HashSet::new();
        let mut watch = Watch::default();
        let backlog = model(vec![task("a", Some("me")), task("b", None)], Vec::new());
        assert!(watch.observe(&backlog, Some("me"), false, &none).is_empty());
        // The first model after the sync finished is backlog too, even with more in it.
        let more = model(
            vec![
                task("a", Some("me")),
                task("b", None),
                task("c", Some("me")),
            ],
            Vec::new(),
        );
        assert!(watch.observe(&more, Some("me"), true, &none).is_empty());
        assert!(watch.observe(&backlog, Some("me"), true, &none).is_empty());

        let assigned = model(
            vec![task("a", Some("me")), task("b", Some("me"))],
            Vec::new(),
        );
        let said = watch.observe(&assigned, Some("me"), true, &none);
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(said[0].title, "K-b was assigned to you");
        assert!(watch.observe(&assigned, Some("me"), true, &none).is_empty());

        let started = model(
            assigned.tasks.clone(),
            vec![
                workspace("w1", "mike", "b", None),
                workspace("w2", "me", "a", Some(("open", None))),
            ],
        );
        let said = watch.observe(&started, Some("me"), true, &none);
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(said[0].title, "Mike started work on K-b");

        let reviewed = model(
            assigned.tasks.clone(),
            vec![
                workspace("w1", "mike", "b", None),
                workspace("w2", "me", "a", Some(("open", Some("changes_requested")))),
            ],
        );
        let said = watch.observe(&reviewed, Some("me"), true, &none);
        assert_eq!(said[0].title, "Your pull request #7 has changes requested");
        let merged = model(
            assigned.tasks.clone(),
            vec![
                workspace("w1", "mike", "b", None),
                workspace("w2", "me", "a", Some(("merged", Some("changes_requested")))),
            ],
        );
        let said = watch.observe(&merged, Some("me"), true, &none);
        assert_eq!(said.len(), 1);
        assert_eq!(said[0].title, "Your pull request #7 was merged");
        assert!(watch.observe(&merged, Some("me"), true, &none).is_empty());
    }

    #[test]
    fn my_own_assignment_is_not_announced() {
        let mut watch = Watch::default();
        watch.observe(
            &model(vec![task("a", None)], Vec::new()),
            Some("me"),
            true,
            &HashSet::new(),
        );
        let own = HashSet::from(["a".to_owned()]);
        let mine = model(vec![task("a", Some("me"))], Vec::new());
        assert!(watch.observe(&mine, Some("me"), true, &own).is_empty());
    }
}
