//! `GET /api/electric/{table}`: the server, not the client, defines every shape.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use superset::protocol::SYNCED_TABLES;
use superset::server::api::accounts;
use uuid::Uuid;

use super::support::{Api, PASSWORD, assert_privately_cached, columns, visible_ids};

/// Query strings a client might add to widen its shape. None of them may change what it sees.
fn attempts(other_org: Uuid, other_user: Uuid) -> Vec<String> {
    vec![
        String::new(),
        "where=1=1".to_owned(),
        "where=true".to_owned(),
        "where=1%3D1%20OR%201%3D1".to_owned(),
        "table=users".to_owned(),
        "table=organizations&where=1=1".to_owned(),
        "table=user_credentials".to_owned(),
        format!("params[1]={other_org}"),
        format!("params%5B1%5D={other_org}"),
        format!("params[1]={other_org}&params[1]={other_org}&params[2]={other_org}"),
        format!("where=organization_id%20%3D%20%241&params%5B1%5D={other_org}"),
        format!("where=id%20%3D%20%241&params[1]={other_user}"),
        format!("where[]=1=1&table[]=users&params[][1]={other_org}&params[x]=1"),
        "where=1=1&where=1=1&table=users&table=tasks".to_owned(),
        "columns=id".to_owned(),
        "columns=id,organization_id&replica=full".to_owned(),
        "replica=full".to_owned(),
        "secret=wrong".to_owned(),
        "secret=sync-secret&where=1=1".to_owned(),
        "api_secret=wrong".to_owned(),
        "source_id=elsewhere&secret=wrong".to_owned(),
        "%77here=1%3D1".to_owned(),
        "%74able=users&%77%68%65%72%65=true".to_owned(),
        format!("%70arams%5B1%5D={other_org}&%70arams[2]={other_org}"),
        "WHERE=1=1&Table=users&Params[1]=x".to_owned(),
        "where=1=1;table=users".to_owned(),
        "where%3D1%3D1".to_owned(),
        "where+=1=1&+where=1=1&where%00=1=1".to_owned(),
    ]
}

#[tokio::test]
async fn each_user_sees_exactly_their_orgs_whatever_the_query_string_says() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let a = api.only_in(0, "member");
    let b = api.only_in(1, "member");
    let people = [(a, api.org(1), api.user(b)), (b, api.org(0), api.user(a))];
    // One of them signs in as the desktop does; tokens are the same either way.
    let login = api.login(api.email(a), PASSWORD).await.ok(200);
    let token_a = login["access_token"].as_str().unwrap().to_owned();
    let tokens = [token_a, api.token(api.user(b))];

    let mut seen: BTreeMap<(usize, &str), BTreeSet<String>> = BTreeMap::new();
    for ((user, other_org, other_user), token) in people.iter().zip(&tokens) {
        let id = api.user(*user);
        for table in SYNCED_TABLES {
            let expected = visible_ids(&sql, table, id).await;
            assert!(!expected.is_empty(), "the seed gives {table} rows");
            let all_columns = columns(&sql, table).await;

            // A plain request first: Electric's headers come through, privately cached.
            let first = api
                .get(&format!("/api/electric/{table}?offset=-1"), Some(token))
                .await;
            assert_eq!(first.status, 200, "{table}: {}", first.body);
            assert_privately_cached(&first);
            let cache = first.header("cache-control").unwrap();
            assert!(cache.contains("private"), "{table}: {cache}");
            assert_eq!(first.header("vary"), Some("Authorization"));
            for header in ["electric-handle", "electric-offset", "electric-schema"] {
                assert!(first.header(header).is_some(), "{table}: no {header}");
            }

            let mut handles = BTreeSet::new();
            for attempt in attempts(*other_org, *other_user) {
                // The attempt both before and after the protocol parameters.
                for before in [true, false] {
                    let mut shape = api.shape(table, token);
                    if before {
                        shape.prefix = attempt.clone();
                    } else {
                        shape.suffix = attempt.clone();
                    }
                    shape.catch_up().await;
                    assert_eq!(
                        shape.ids(),
                        expected,
                        "user {user} on {table} with {attempt:?} (before: {before})"
                    );
                    for row in shape.rows.values() {
                        let keys: BTreeSet<String> = row.keys().cloned().collect();
                        assert_eq!(
                            keys, all_columns,
                            "{table} rows come whole whatever `columns` says ({attempt:?})"
                        );
                    }
                    handles.insert(shape.handle.clone().unwrap());
                }
            }
            // Protocol parameters given twice: the proxy's first, the rest ignored.
            for duplicated in [
                "offset=0_0&handle=nonsense",
                "offset=now",
                "offset=-1&live=false",
            ] {
                let mut shape = api.shape(table, token);
                shape.suffix = duplicated.to_owned();
                shape.catch_up().await;
                assert_eq!(shape.ids(), expected, "{table} with {duplicated:?}");
                handles.insert(shape.handle.clone().unwrap());
            }
            assert_eq!(
                handles.len(),
                1,
                "the same user gets the same shape for {table} whatever they send: {handles:?}"
            );
            seen.insert((*user, table), expected);
        }
    }
    // The two really see different things.
    for table in SYNCED_TABLES {
        if table != "users" {
            assert!(
                seen[&(a, table)].is_disjoint(&seen[&(b, table)]),
                "{table}: users of different orgs share rows"
            );
        }
    }
    // Another user's handle and offset get a 409 pointing at one's own shape, never their data.
    for table in SYNCED_TABLES {
        let mut theirs = api.shape(table, &tokens[0]);
        theirs.catch_up().await;
        let mut mine = api.shape(table, &tokens[1]);
        mine.catch_up().await;
        for live in ["", "&live=true"] {
            let reply = api
                .get(
                    &format!(
                        "/api/electric/{table}?offset={}&handle={}{live}&cursor={}",
                        theirs.offset,
                        theirs.handle.as_deref().unwrap(),
                        theirs.cursor
                    ),
                    Some(&tokens[1]),
                )
                .await;
            assert_eq!(reply.status, 409, "{table}{live}: {}", reply.body);
            assert_eq!(reply.header("electric-handle"), mine.handle.as_deref());
            assert_privately_cached(&reply);
        }
    }
    api.finish().await;
}

#[tokio::test]
async fn a_user_without_organizations_gets_valid_empty_shapes() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let hash = accounts::hash_password(PASSWORD.to_owned()).await.unwrap();
    let loner = accounts::create_user(&sql, "loner@example.com", "Lone Wolf", &hash)
        .await
        .unwrap();
    let login = api.login("loner@example.com", PASSWORD).await.ok(200);
    let token = login["access_token"].as_str().unwrap();
    let me = api.get("/api/me", Some(token)).await.ok(200);
    assert_eq!(me["id"], loner.to_string());
    assert_eq!(me["memberships"], serde_json::json!([]));
    for table in SYNCED_TABLES {
        for attempt in ["", "where=1=1", "table=users&where=true"] {
            let mut shape = api.shape(table, token);
            shape.prefix = attempt.to_owned();
            shape.catch_up().await;
            assert!(
                shape.rows.is_empty(),
                "{table} ({attempt:?}) must be empty, got {} rows",
                shape.rows.len()
            );
        }
    }
    api.finish().await;
}

#[tokio::test]
async fn only_the_six_synced_tables_exist_and_only_for_signed_in_users() {
    let api = Api::start().await;
    let token = api.token(api.user(0));
    for table in [
        "user_credentials",
        "refresh_tokens",
        "Tasks",
        "task",
        "pg_user",
        "public.tasks",
        "%22tasks%22",
        "tasks%00",
        "refinery_schema_history",
    ] {
        let reply = api
            .get(&format!("/api/electric/{table}?offset=-1"), Some(&token))
            .await;
        reply.error(404, "not_found");
    }
    // Not under the proxy at all.
    api.get("/api/electric?offset=-1&table=tasks", Some(&token))
        .await
        .error(404, "not_found");
    api.get("/api/nothing-here", Some(&token))
        .await
        .error(404, "not_found");
    for table in SYNCED_TABLES {
        api.get(&format!("/api/electric/{table}?offset=-1"), None)
            .await
            .error(401, "missing_token");
        api.get(
            &format!("/api/electric/{table}?offset=-1&secret=sync-secret"),
            Some("not-a-token"),
        )
        .await
        .error(401, "invalid_token");
    }
    api.finish().await;
}

#[tokio::test]
async fn a_removed_member_must_refetch_and_loses_the_org() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let member = api.multi_org_user();
    let member_id = api.user(member);
    let orgs = api.orgs_of(member);
    assert_eq!(orgs.len(), 2);
    // Removed from an org where someone else is owner.
    let (kept, lost) = if api.role(member, orgs[1]) != Some("owner") {
        (orgs[0], orgs[1])
    } else {
        (orgs[1], orgs[0])
    };
    let owner = api.only_in(lost, "owner");
    let token = api.token(member_id);

    let mut shapes = Vec::new();
    for table in SYNCED_TABLES {
        let mut shape = api.shape(table, &token);
        shape.catch_up().await;
        assert_eq!(shape.ids(), visible_ids(&sql, table, member_id).await);
        shapes.push((table, shape));
    }
    let lost_tasks: BTreeSet<String> = api
        .team
        .tasks
        .iter()
        .filter(|t| t.organization == lost)
        .map(|t| t.id.to_string())
        .collect();
    let tasks = &shapes.iter().find(|(t, _)| *t == "tasks").unwrap().1;
    assert!(lost_tasks.is_subset(&tasks.ids()));

    api.delete(
        &format!("/api/organizations/{}/members/{member_id}", api.org(lost)),
        Some(&api.token(api.user(owner))),
    )
    .await
    .ok(204);

    for (table, shape) in &mut shapes {
        // The next request (live, with the old handle) is told to refetch at once.
        let reply = tokio::time::timeout(Duration::from_secs(10), shape.step())
            .await
            .unwrap_or_else(|_| panic!("{table}: no answer in 10 s after the removal"));
        assert_eq!(reply.status, 409, "{table}: {}", reply.body);
        assert!(reply.header("electric-handle").is_some());
        shape.catch_up().await;
        assert_eq!(shape.refetches, 1);
        assert_eq!(
            shape.ids(),
            visible_ids(&sql, table, member_id).await,
            "{table} after the removal"
        );
    }
    let tasks = &shapes.iter().find(|(t, _)| *t == "tasks").unwrap().1;
    assert!(tasks.ids().is_disjoint(&lost_tasks));
    assert!(
        tasks
            .rows
            .values()
            .all(|row| row["organization_id"] == api.org(kept).to_string())
    );
    let organizations = &shapes
        .iter()
        .find(|(t, _)| *t == "organizations")
        .unwrap()
        .1;
    assert_eq!(
        organizations.ids(),
        BTreeSet::from([api.org(kept).to_string()])
    );
    api.finish().await;
}

/// The ids of `table`'s rows that belong to organization `org` alone.
async fn ids_of_organization(
    sql: &tokio_postgres::Client,
    table: &str,
    org: Uuid,
) -> BTreeSet<String> {
    let condition = match table {
        "organizations" => "id = $1",
        "users" => "id IN (SELECT user_id FROM organization_members WHERE organization_id = $1)",
        _ => "organization_id = $1",
    };
    sql.query(
        &format!("SELECT id::text FROM {table} WHERE {condition}"),
        &[&org],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn an_organizations_shapes_are_shared_by_its_members_and_refused_to_others() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let org = api.org(0);
    let (a, b) = (api.only_in(0, "member"), api.multi_org_user());
    assert!(api.orgs_of(b).contains(&0));
    let outsider = api.only_in(1, "member");
    for table in SYNCED_TABLES {
        let mut handles = Vec::new();
        for member in [a, b] {
            let mut shape = api.shape(table, &api.token(api.user(member)));
            shape.suffix = format!("organization_id={org}");
            shape.catch_up().await;
            assert_eq!(
                shape.ids(),
                ids_of_organization(&sql, table, org).await,
                "{table} of one organization"
            );
            handles.push(shape.handle.clone());
        }
        assert_eq!(
            handles[0], handles[1],
            "{table}: both members share one shape"
        );
        let path = format!("/api/electric/{table}?offset=-1&organization_id={org}");
        let refused = api.get(&path, Some(&api.token(api.user(outsider)))).await;
        assert_eq!(refused.status, 403, "{table}: {}", refused.body);
        assert!(refused.body.contains("not a member"), "{}", refused.body);
        let bad = format!("/api/electric/{table}?offset=-1&organization_id=nope");
        let refused = api.get(&bad, Some(&api.token(api.user(a)))).await;
        assert_eq!(refused.status, 400, "{table}: {}", refused.body);
    }
    api.finish().await;
}

#[tokio::test]
async fn removal_ends_a_held_request_for_that_organizations_shape_within_a_second() {
    let api = Api::start().await;
    let member = api.multi_org_user();
    let member_id = api.user(member);
    let orgs = api.orgs_of(member);
    let lost = *orgs
        .iter()
        .find(|&&o| api.role(member, o) != Some("owner"))
        .expect("the member is not the owner of every org");
    let owner = api.with_role(lost, "owner");
    let mut shape = api.shape("tasks", &api.token(member_id));
    shape.suffix = format!("organization_id={}", api.org(lost));
    shape.catch_up().await;
    // An event stream of the same organization's shape, from where it is up to date.
    let sse = format!(
        "{}/api/electric/tasks?offset={}&handle={}&live=true&live_sse=true&organization_id={}",
        api.base(),
        shape.offset,
        shape.handle.as_deref().unwrap(),
        api.org(lost)
    );
    let stream = api
        .http
        .get(&sse)
        .bearer_auth(api.token(member_id))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200, "{sse}");
    let streaming = tokio::spawn(async move {
        let body = stream.text().await.unwrap_or_default();
        (body, std::time::Instant::now())
    });
    let held = tokio::spawn(async move {
        let reply = shape.step().await;
        (reply.status, std::time::Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.delete(
        &format!("/api/organizations/{}/members/{member_id}", api.org(lost)),
        Some(&api.token(api.user(owner))),
    )
    .await
    .ok(204);
    let removed = std::time::Instant::now();
    let (status, answered) = tokio::time::timeout(Duration::from_secs(5), held)
        .await
        .expect("the held request ended")
        .unwrap();
    assert_eq!(status, 409, "the held request is told to start over");
    assert!(
        answered.duration_since(removed) < Duration::from_secs(1),
        "ended {:?} after the removal",
        answered.duration_since(removed)
    );
    let (_, closed) = tokio::time::timeout(Duration::from_secs(5), streaming)
        .await
        .expect("the event stream ended")
        .unwrap();
    assert!(
        closed.duration_since(removed) < Duration::from_secs(1),
        "the event stream ended {:?} after the removal",
        closed.duration_since(removed)
    );
    let path = format!(
        "/api/electric/tasks?offset=-1&organization_id={}",
        api.org(lost)
    );
    let refused = api.get(&path, Some(&api.token(member_id))).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    api.finish().await;
}

/// A shape of all the user's organizations (no `organization_id`) is another shape once they
/// join one: its held request ends within a second and says to fetch afresh; an
/// organization's own shape goes on.
#[tokio::test]
async fn joining_ends_a_held_request_for_all_organizations_within_a_second() {
    let api = Api::start().await;
    let org = 0;
    let joiner = api.only_in(1, "member");
    let joiner_id = api.user(joiner);
    let token = api.token(joiner_id);
    let mut all = api.shape("organizations", &token);
    all.catch_up().await;
    let mut own = api.shape("tasks", &token);
    own.suffix = format!("organization_id={}", api.org(1));
    own.catch_up().await;
    let held_all = tokio::spawn(async move {
        let reply = all.step().await;
        (reply.status, std::time::Instant::now())
    });
    let held_own = tokio::spawn(async move { own.step().await.status });
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.sql()
        .await
        .execute(
            "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
            &[&api.org(org), &joiner_id],
        )
        .await
        .unwrap();
    let joined = std::time::Instant::now();
    let (status, answered) = tokio::time::timeout(Duration::from_secs(5), held_all)
        .await
        .expect("the held request ended")
        .unwrap();
    assert_eq!(status, 409, "the held request is told to start over");
    assert!(
        answered.duration_since(joined) < Duration::from_secs(1),
        "ended {:?} after the join",
        answered.duration_since(joined)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !held_own.is_finished(),
        "the organization's own shape ended too"
    );
    held_own.abort();
    api.finish().await;
}
