//! Workspaces: owned by their creator, updated only by the owner, archived by the owner or an
//! admin, each write answered with its synced txid.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{txid_of, written};
use crate::api::support::Api;

#[tokio::test]
async fn workspaces_belong_to_their_creator_and_admins_may_archive_them() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let org = api.org(0);
    let members: Vec<usize> = (0..api.team.users.len())
        .filter(|&u| api.orgs_of(u) == [0] && api.role(u, 0) == Some("member"))
        .collect();
    let (owner, other) = (api.user(members[0]), api.user(members[1]));
    let admin = api.user(api.only_in(0, "admin"));
    let outsider = api.user(api.only_in(1, "member"));
    let token = api.token(owner);

    let mut shape = api.shape("workspaces", &token);
    shape.catch_up().await;
    // A pull request of the workspace's own repository.
    let repository_url = &api
        .team
        .repositories
        .iter()
        .find(|r| r.id == api.repository_of(0))
        .unwrap()
        .url;
    let pr_url = format!("{repository_url}/pull/7");

    let reply = api
        .post(
            "/api/workspaces",
            Some(&token),
            json!({
                "organization_id": org,
                "task_id": api.task_of(0),
                "repository_id": api.repository_of(0),
                "type": "local",
                "device_name": "Ada's laptop",
                "git_branch": "feature/api",
            }),
        )
        .await;
    let (id, txid) = written(&reply);
    let row = sql
        .query_one(
            "SELECT owner_id, organization_id, task_id, repository_id, type, device_name, status, \
             git_branch FROM workspaces WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Uuid>(0), owner, "the caller owns it");
    assert_eq!(row.get::<_, Uuid>(1), org);
    assert_eq!(row.get::<_, Option<Uuid>>(2), Some(api.task_of(0)));
    assert_eq!(row.get::<_, Uuid>(3), api.repository_of(0));
    assert_eq!(row.get::<_, String>(4), "local");
    assert_eq!(row.get::<_, String>(5), "Ada's laptop");
    assert_eq!(row.get::<_, String>(6), "active");
    assert_eq!(
        row.get::<_, Option<String>>(7).as_deref(),
        Some("feature/api")
    );
    shape
        .until(Duration::from_secs(30), |s| !s.changes_of(id).is_empty())
        .await;
    assert_eq!(txid_of(shape.changes_of(id)[0]), txid);

    // Without a task; and a client-chosen id.
    let chosen = Uuid::new_v4();
    let (second, _) = written(
        &api.post(
            "/api/workspaces",
            Some(&token),
            json!({
                "id": chosen,
                "organization_id": org,
                "repository_id": api.repository_of(0),
                "type": "cloud",
                "device_name": "cloud-1",
            }),
        )
        .await,
    );
    assert_eq!(second, chosen);

    // The owner updates it.
    written(
        &api.patch(
            &format!("/api/workspaces/{id}"),
            Some(&token),
            json!({
                "status": "idle",
                "git_status": {"ahead": 2, "behind": 0, "dirty": true},
                "git_branch": "feature/api-2",
                "last_activity_at": "2026-01-02T03:04:05Z",
                "pr_url": pr_url,
                "pr_number": 7,
                "pr_status": "open",
            }),
        )
        .await,
    );
    let row = sql
        .query_one(
            "SELECT status, git_status, git_branch, last_activity_at = '2026-01-02T03:04:05Z', \
             pr_url, pr_number, pr_status FROM workspaces WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "idle");
    assert_eq!(
        row.get::<_, Option<Value>>(1),
        Some(json!({"ahead": 2, "behind": 0, "dirty": true}))
    );
    assert_eq!(
        row.get::<_, Option<String>>(2).as_deref(),
        Some("feature/api-2")
    );
    assert!(row.get::<_, bool>(3));
    assert_eq!(
        row.get::<_, Option<String>>(4).as_deref(),
        Some(pr_url.as_str())
    );
    assert_eq!(row.get::<_, Option<i32>>(5), Some(7));
    assert_eq!(row.get::<_, Option<String>>(6).as_deref(), Some("open"));
    written(
        &api.patch(
            &format!("/api/workspaces/{id}"),
            Some(&token),
            json!({"pr_url": null, "pr_number": null, "pr_status": null, "git_status": null}),
        )
        .await,
    );
    let cleared: (Option<String>, Option<i32>, Option<Value>) = {
        let row = sql
            .query_one(
                "SELECT pr_url, pr_number, git_status FROM workspaces WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(cleared, (None, None, None));

    // Nobody else updates it: not a fellow member, not an admin, not an outsider.
    for who in [other, admin] {
        api.patch(
            &format!("/api/workspaces/{id}"),
            Some(&api.token(who)),
            json!({"status": "active"}),
        )
        .await
        .error(403, "forbidden");
    }
    api.patch(
        &format!("/api/workspaces/{id}"),
        Some(&api.token(outsider)),
        json!({"status": "active"}),
    )
    .await
    .error(403, "forbidden");

    // A plain member may not archive another's workspace; neither may an outsider.
    api.post(
        &format!("/api/workspaces/{id}/archive"),
        Some(&api.token(other)),
        json!({}),
    )
    .await
    .error(403, "forbidden");
    api.post(
        &format!("/api/workspaces/{id}/archive"),
        Some(&api.token(outsider)),
        json!({}),
    )
    .await
    .error(403, "forbidden");
    let status: String = sql
        .query_one("SELECT status FROM workspaces WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "idle", "refused writes change nothing");

    // An admin may.
    written(
        &api.post(
            &format!("/api/workspaces/{id}/archive"),
            Some(&api.token(admin)),
            json!({}),
        )
        .await,
    );
    // And the owner may archive their own.
    written(
        &api.post(
            &format!("/api/workspaces/{second}/archive"),
            Some(&token),
            json!({}),
        )
        .await,
    );
    let archived: i64 = sql
        .query_one(
            "SELECT count(*) FROM workspaces WHERE id = ANY($1) AND status = 'archived'",
            &[&vec![id, second]],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(archived, 2);
    api.finish().await;
}
