//! Notifications through a stand-in for the desktop's notification service: none for the
//! backlog of the first sync, one for each teammate's change that concerns me (assigned to me,
//! work started on my task, my pull request merged), none for my own changes, and none once
//! they are turned off.

use std::sync::Arc;

use eframe::egui;
use serde_json::json;
use uuid::Uuid;

use super::support::{Recorder, access_token, click, open_with, wait_for, wait_live};
use super::task_edits::{create_task, open_task, shown};
use crate::desktop::support::Setup;
use crate::support::{http_client, reply};

/// `PATCH`es (or `POST`s) `body` to `path` as `token`; the answer must be 2xx.
async fn write(
    base_url: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) {
    let answer = reply(
        http_client()
            .request(method, format!("{base_url}{path}"))
            .bearer_auth(token)
            .json(&body),
    )
    .await;
    assert!(
        answer.status < 300,
        "{path}: {} {}",
        answer.status,
        answer.body
    );
}

#[test]
fn each_trigger_notifies_once_never_for_the_backlog_or_my_own_changes() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(40));
    let me = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &me.email));
    // Before the window first syncs, a teammate assigned me three tasks: that is backlog.
    let organization = setup.team.organizations[0].id;
    let teammate = setup
        .team
        .members
        .iter()
        .filter(|m| m.organization == 0)
        .map(|m| setup.team.users[m.user].clone())
        .find(|u| u.id != me.id)
        .unwrap();
    let base = setup.server.base_url.clone();
    let theirs = runtime.block_on(access_token(&base, &teammate.email));
    for title in ["Old news 1", "Old news 2", "Old news 3"] {
        let id = runtime.block_on(create_task(&base, &theirs, organization, title));
        runtime.block_on(write(
            &base,
            &theirs,
            reqwest::Method::PATCH,
            &format!("/api/tasks/{id}"),
            json!({"assignee_id": me.id}),
        ));
    }
    let recorder = Arc::new(Recorder::default());
    let mut window = open_with(
        profile.path(),
        &runtime,
        recorder.clone(),
        egui::vec2(1280.0, 800.0),
    );
    wait_live(&mut window);
    wait_for(&mut window, "the backlog", |w| {
        shown(w, "Old news 3")
            .is_some_and(|t| t.assignee_id.as_deref() == Some(me.id.to_string().as_str()))
    });
    window.run_steps(5);
    assert!(
        recorder.titles().is_empty(),
        "the backlog is not news: {:?}",
        recorder.titles()
    );
    window
        .state_mut()
        .controller
        .apply(superset::app::actions::Action::SelectOrganization(
            organization.to_string(),
        ));

    let org_index = 0;
    let mine = runtime.block_on(access_token(&base, &me.email));

    // A teammate assigns me a task: one notification.
    let assigned = runtime.block_on(create_task(&base, &theirs, organization, "Yours now"));
    runtime.block_on(write(
        &base,
        &theirs,
        reqwest::Method::PATCH,
        &format!("/api/tasks/{assigned}"),
        json!({"assignee_id": me.id}),
    ));
    wait_for(&mut window, "the assignment notification", |_| {
        !recorder.titles().is_empty()
    });
    let key = shown(&window, "Yours now").unwrap().key().to_owned();
    assert_eq!(
        recorder.titles(),
        vec![format!("{key} was assigned to you")]
    );

    // I assign myself a task in the window: nothing.
    runtime.block_on(create_task(&base, &theirs, organization, "I take this"));
    wait_for(&mut window, "the task", |w| {
        shown(w, "I take this").is_some_and(|t| !t.pending)
    });
    let task = shown(&window, "I take this").unwrap();
    open_task(&mut window, &task);
    click(&mut window, "Assign to me");
    wait_for(&mut window, "my assignment to be confirmed", |w| {
        shown(w, "I take this").is_some_and(|t| {
            !t.pending && t.assignee_id.as_deref() == Some(me.id.to_string().as_str())
        })
    });
    window.run_steps(5);
    assert_eq!(recorder.titles().len(), 1, "{:?}", recorder.titles());

    // The teammate starts work on my task: one more.
    let repository = setup
        .team
        .repositories
        .iter()
        .find(|r| r.organization == org_index)
        .unwrap()
        .id;
    runtime.block_on(write(
        &base,
        &theirs,
        reqwest::Method::POST,
        "/api/workspaces",
        json!({
            "organization_id": organization, "task_id": assigned, "repository_id": repository,
            "type": "local", "device_name": "Mike's laptop", "git_branch": "mike/yours-now"
        }),
    ));
    wait_for(&mut window, "the started-work notification", |_| {
        recorder.titles().len() == 2
    });
    assert_eq!(
        recorder.titles()[1],
        format!("{} started work on {key}", teammate.name)
    );

    // My workspace's pull request is merged (by GitHub, not this window): one more.
    let workspace = Uuid::new_v4();
    runtime.block_on(write(
        &base,
        &mine,
        reqwest::Method::POST,
        "/api/workspaces",
        json!({
            "id": workspace, "organization_id": organization, "task_id": assigned,
            "repository_id": repository, "type": "cloud", "device_name": "Sandbox"
        }),
    ));
    let repo_url = setup
        .team
        .repositories
        .iter()
        .find(|r| r.id == repository)
        .unwrap()
        .url
        .clone();
    runtime.block_on(write(&base, &mine, reqwest::Method::PATCH, &format!("/api/workspaces/{workspace}"), json!({
        "pr_url": format!("{}/pull/9", repo_url.trim_end_matches(".git")), "pr_number": 9, "pr_status": "open"
    })));
    runtime.block_on(write(
        &base,
        &mine,
        reqwest::Method::PATCH,
        &format!("/api/workspaces/{workspace}"),
        json!({"pr_status": "merged"}),
    ));
    wait_for(&mut window, "the merged notification", |_| {
        recorder.titles().len() == 3
    });
    assert_eq!(recorder.titles()[2], "Your pull request #9 was merged");

    // Turned off: a further assignment says nothing.
    window
        .state_mut()
        .controller
        .apply(superset::app::actions::Action::SetNotifications(false));
    let quiet = runtime.block_on(create_task(&base, &theirs, organization, "Quietly yours"));
    runtime.block_on(write(
        &base,
        &theirs,
        reqwest::Method::PATCH,
        &format!("/api/tasks/{quiet}"),
        json!({"assignee_id": me.id}),
    ));
    wait_for(&mut window, "the quiet assignment", |w| {
        shown(w, "Quietly yours")
            .is_some_and(|t| t.assignee_id.as_deref() == Some(me.id.to_string().as_str()))
    });
    window.run_steps(5);
    assert_eq!(recorder.titles().len(), 3, "{:?}", recorder.titles());
    drop(window);
    runtime.block_on(setup.stop());
}
