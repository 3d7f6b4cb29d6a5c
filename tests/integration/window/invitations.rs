//! Invitations as the invited person meets them: a notice in the window ("… invited you to …")
//! with Accept and Decline, and `superset invitations` on the command line. Accepting brings the
//! organization's rows through sync; declining leaves nothing behind.

use egui_kittest::kittest::Queryable;
use serde_json::json;

use super::support::{click, open, wait_for, wait_live};
use crate::desktop::support::Setup;

/// `owner` (a token) invites `email` to the organization `org` with `role`.
async fn invite(setup: &Setup, owner: &str, org: uuid::Uuid, email: &str) {
    let reply = crate::support::reply(
        crate::support::http_client()
            .post(format!(
                "{}/api/organizations/{org}/members",
                setup.server.base_url
            ))
            .bearer_auth(owner)
            .json(&json!({"email": email, "role": "member"})),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}

/// An access token for `email`, signed in with the seed's password.
async fn sign_in(setup: &Setup, email: &str) -> String {
    super::support::access_token(&setup.server.base_url, email).await
}

#[test]
fn an_invitation_shows_in_the_window_and_accepting_brings_the_organization() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(20));
    // Someone of organization 1 only, invited to organization 0 by its owner.
    let invited = setup
        .team
        .users
        .iter()
        .enumerate()
        .find(|(u, _)| {
            let orgs: Vec<usize> = setup
                .team
                .members
                .iter()
                .filter(|m| m.user == *u)
                .map(|m| m.organization)
                .collect();
            orgs == [1]
        })
        .map(|(_, user)| user.clone())
        .unwrap();
    let owner_user = setup
        .team
        .members
        .iter()
        .find(|m| m.organization == 0 && m.role == "owner")
        .map(|m| setup.team.users[m.user].clone())
        .unwrap();
    let org = setup.team.organizations[0].clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        setup.login(profile.path(), &invited.email).await;
        let owner = sign_in(&setup, &owner_user.email).await;
        invite(&setup, &owner, org.id, &invited.email).await;
    });
    // The command line lists it.
    let listed = runtime
        .block_on(superset::commands::invitations(profile.path(), None))
        .unwrap();
    assert!(
        listed.contains(&format!("invited you to {}", org.name)),
        "{listed}"
    );

    let mut window = open(profile.path(), &runtime);
    wait_live(&mut window);
    wait_for(&mut window, "the invitation notice", |w| {
        !w.state().controller.ui.invitations.is_empty()
    });
    window.get_by_label_contains(&format!("invited you to {}", org.name));
    assert!(
        !window
            .state()
            .controller
            .vm
            .organizations
            .iter()
            .any(|o| o.id == org.id.to_string()),
        "nothing of the organization before accepting"
    );
    click(&mut window, "Accept");
    wait_for(&mut window, "the organization to arrive", |w| {
        w.state()
            .controller
            .vm
            .organizations
            .iter()
            .any(|o| o.id == org.id.to_string())
    });
    assert!(window.state().controller.ui.invitations.is_empty());
    let listed = runtime
        .block_on(superset::commands::invitations(profile.path(), None))
        .unwrap();
    assert_eq!(listed, "no invitations\n");
    window.state_mut().controller.shutdown();
    runtime.block_on(setup.stop());
}
