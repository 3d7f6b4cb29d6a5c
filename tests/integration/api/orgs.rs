//! Organizations: creators own them, owners and admins manage members, only owners touch
//! owners, and an organization always keeps an owner.

use serde_json::{Value, json};
use uuid::Uuid;

use super::support::Api;

/// The caller's role in `org` according to `/api/me`.
async fn role_in(api: &Api, user: Uuid, org: Uuid) -> Option<String> {
    let me = api.get("/api/me", Some(&api.token(user))).await.ok(200);
    me["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization_id"] == org.to_string())
        .map(|m| m["role"].as_str().unwrap().to_owned())
}

fn members(org: Uuid) -> String {
    format!("/api/organizations/{org}/members")
}

fn member(org: Uuid, user: Uuid) -> String {
    format!("/api/organizations/{org}/members/{user}")
}

/// The invitation in `invited` (a 201), accepted by `user`.
async fn accept(api: &Api, user: Uuid, invited: Value) {
    let id = invited["id"].as_str().expect("an invitation id");
    api.post(
        &format!("/api/invitations/{id}/accept"),
        Some(&api.token(user)),
        json!({}),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn roles_are_enforced_when_managing_members() {
    let api = Api::start().await;
    // Five people from the seed, none of them in the new org yet.
    let [founder, admin, plain, newcomer, stranger] = [1, 2, 3, 4, 5].map(|u| api.user(u));
    let founder_token = api.token(founder);

    // Creating an org makes its creator the owner.
    let created = api
        .post(
            "/api/organizations",
            Some(&founder_token),
            json!({"name": "Skunkworks", "slug": "skunkworks"}),
        )
        .await
        .ok(201);
    assert_eq!(created["name"], "Skunkworks");
    assert_eq!(created["slug"], "skunkworks");
    let org = Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
    let me = api.get("/api/me", Some(&founder_token)).await.ok(200);
    let mine = me["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["organization_id"] == org.to_string())
        .unwrap_or_else(|| panic!("the new org is not in /api/me: {me}"));
    assert_eq!(mine["role"], "owner");
    assert_eq!(mine["name"], "Skunkworks");
    // It reaches the creator's synced organizations at once.
    let mut shape = api.shape("organizations", &founder_token);
    shape.catch_up().await;
    assert!(shape.ids().contains(&org.to_string()));
    // Slugs are unique.
    api.post(
        "/api/organizations",
        Some(&api.token(stranger)),
        json!({"name": "Copycat", "slug": "skunkworks"}),
    )
    .await
    .error(409, "conflict");

    // The owner invites an admin and a member by e-mail (any case); they accept.
    let invited = api
        .post(
            &members(org),
            Some(&founder_token),
            json!({"email": api.email(2).to_uppercase(), "role": "admin"}),
        )
        .await
        .ok(201);
    accept(&api, admin, invited).await;
    let invited = api
        .post(
            &members(org),
            Some(&founder_token),
            json!({"email": api.email(3), "role": "member"}),
        )
        .await
        .ok(201);
    accept(&api, plain, invited).await;
    assert_eq!(role_in(&api, admin, org).await.as_deref(), Some("admin"));
    assert_eq!(role_in(&api, plain, org).await.as_deref(), Some("member"));
    // Twice is a conflict; an unknown address is invited like any other (no probing of
    // addresses); a made-up role is refused.
    api.post(
        &members(org),
        Some(&founder_token),
        json!({"email": api.email(3), "role": "member"}),
    )
    .await
    .error(409, "conflict");
    api.post(
        &members(org),
        Some(&founder_token),
        json!({"email": "nobody@example.com", "role": "member"}),
    )
    .await
    .ok(201);
    api.post(
        &members(org),
        Some(&founder_token),
        json!({"email": api.email(4), "role": "root"}),
    )
    .await
    .error(400, "bad_request");

    // An admin invites members and changes non-owner roles, but makes no owners and touches
    // none.
    let admin_token = api.token(admin);
    let invited = api
        .post(
            &members(org),
            Some(&admin_token),
            json!({"email": api.email(4), "role": "member"}),
        )
        .await
        .ok(201);
    accept(&api, newcomer, invited).await;
    api.post(
        &members(org),
        Some(&admin_token),
        json!({"email": api.email(5), "role": "owner"}),
    )
    .await
    .error(403, "forbidden");
    api.patch(
        &member(org, newcomer),
        Some(&admin_token),
        json!({"role": "owner"}),
    )
    .await
    .error(403, "forbidden");
    api.patch(
        &member(org, admin),
        Some(&admin_token),
        json!({"role": "owner"}),
    )
    .await
    .error(403, "forbidden");
    api.patch(
        &member(org, founder),
        Some(&admin_token),
        json!({"role": "member"}),
    )
    .await
    .error(403, "forbidden");
    api.delete(&member(org, founder), Some(&admin_token))
        .await
        .error(403, "forbidden");
    api.patch(
        &member(org, newcomer),
        Some(&admin_token),
        json!({"role": "admin"}),
    )
    .await
    .ok(204);
    assert_eq!(role_in(&api, newcomer, org).await.as_deref(), Some("admin"));
    api.patch(
        &member(org, newcomer),
        Some(&admin_token),
        json!({"role": "member"}),
    )
    .await
    .ok(204);
    assert_eq!(role_in(&api, founder, org).await.as_deref(), Some("owner"));

    // A plain member manages nothing; a stranger even less.
    let plain_token = api.token(plain);
    let stranger_token = api.token(stranger);
    for token in [&plain_token, &stranger_token] {
        api.post(
            &members(org),
            Some(token),
            json!({"email": api.email(6), "role": "member"}),
        )
        .await
        .error(403, "forbidden");
        api.patch(
            &member(org, newcomer),
            Some(token),
            json!({"role": "admin"}),
        )
        .await
        .error(403, "forbidden");
        api.delete(&member(org, newcomer), Some(token))
            .await
            .error(403, "forbidden");
    }
    assert_eq!(
        role_in(&api, newcomer, org).await.as_deref(),
        Some("member")
    );
    assert_eq!(role_in(&api, api.user(6), org).await, None);

    // The owner changes roles and removes members; an admin removes plain members.
    api.patch(
        &member(org, plain),
        Some(&founder_token),
        json!({"role": "admin"}),
    )
    .await
    .ok(204);
    assert_eq!(role_in(&api, plain, org).await.as_deref(), Some("admin"));
    api.delete(&member(org, newcomer), Some(&admin_token))
        .await
        .ok(204);
    assert_eq!(role_in(&api, newcomer, org).await, None);
    api.delete(&member(org, plain), Some(&founder_token))
        .await
        .ok(204);
    assert_eq!(role_in(&api, plain, org).await, None);
    // Anyone may leave.
    api.delete(&member(org, admin), Some(&admin_token))
        .await
        .ok(204);
    assert_eq!(role_in(&api, admin, org).await, None);
    // Removing someone who is not a member.
    api.delete(&member(org, stranger), Some(&founder_token))
        .await
        .error(404, "not_found");

    // What Postgres holds in the end.
    let sql = api.sql().await;
    let rows: Vec<(Uuid, String)> = sql
        .query(
            "SELECT user_id, role FROM organization_members WHERE organization_id = $1",
            &[&org],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, vec![(founder, "owner".to_owned())]);
    api.finish().await;
}

#[tokio::test]
async fn the_last_owner_can_neither_leave_nor_be_demoted() {
    let api = Api::start().await;
    let org_index = 1;
    let org = api.org(org_index);
    let owner = api.user(api.only_in(org_index, "owner"));
    let admin = api.user(api.only_in(org_index, "admin"));
    let owner_token = api.token(owner);

    let message = api
        .delete(&member(org, owner), Some(&owner_token))
        .await
        .error(409, "conflict");
    assert!(message.contains("owner"), "{message}");
    for role in ["admin", "member"] {
        api.patch(
            &member(org, owner),
            Some(&owner_token),
            json!({"role": role}),
        )
        .await
        .error(409, "conflict");
    }
    assert_eq!(role_in(&api, owner, org).await.as_deref(), Some("owner"));

    // With a second owner, either may go.
    api.patch(
        &member(org, admin),
        Some(&owner_token),
        json!({"role": "owner"}),
    )
    .await
    .ok(204);
    assert_eq!(role_in(&api, admin, org).await.as_deref(), Some("owner"));
    // The new owner may demote the old one, who may then leave.
    let admin_token = api.token(admin);
    api.patch(
        &member(org, owner),
        Some(&admin_token),
        json!({"role": "admin"}),
    )
    .await
    .ok(204);
    api.patch(
        &member(org, owner),
        Some(&admin_token),
        json!({"role": "owner"}),
    )
    .await
    .ok(204);
    api.delete(&member(org, owner), Some(&owner_token))
        .await
        .ok(204);
    assert_eq!(role_in(&api, owner, org).await, None);
    // Now the other one is the last owner.
    api.delete(&member(org, admin), Some(&admin_token))
        .await
        .error(409, "conflict");
    api.patch(
        &member(org, admin),
        Some(&admin_token),
        json!({"role": "member"}),
    )
    .await
    .error(409, "conflict");
    let owners: Vec<Uuid> = api
        .sql()
        .await
        .query(
            "SELECT user_id FROM organization_members WHERE organization_id = $1 AND role = 'owner'",
            &[&org],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(owners, vec![admin]);
    // The former owner, no longer a member, manages nothing.
    let refused: Value = api
        .post(
            &members(org),
            Some(&owner_token),
            json!({"email": api.email(7), "role": "member"}),
        )
        .await
        .ok(403);
    assert_eq!(refused["error"]["code"], "forbidden");
    api.finish().await;
}
