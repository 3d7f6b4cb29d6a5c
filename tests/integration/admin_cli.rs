//! `superset-server admin …` and `seed` as an operator runs them.

use std::process::Command;

use superset::server::db;
use superset::testkit;

fn server_cli(database_url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_superset-server"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("running superset-server");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn admin_commands_manage_users_and_organizations() {
    let url = testkit::fresh_database().await;
    let run = |args: &[&str]| server_cli(&url, args);
    let (ok, out) = run(&[
        "admin",
        "create-user",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--password",
        "correct horse",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "admin",
        "create-user",
        "--email",
        "bob@example.com",
        "--name",
        "Bob",
        "--password",
        "battery staple",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "admin",
        "create-user",
        "--email",
        "eve@example.com",
        "--name",
        "Eve",
        "--password",
        "short",
    ]);
    assert!(!ok && out.contains("at least 8 characters"), "{out}");
    let (ok, out) = run(&[
        "admin",
        "create-org",
        "--name",
        "Acme",
        "--slug",
        "acme",
        "--owner",
        "ada@example.com",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "admin",
        "add-member",
        "--org",
        "acme",
        "--email",
        "bob@example.com",
        "--role",
        "admin",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "admin",
        "remove-member",
        "--org",
        "acme",
        "--email",
        "ada@example.com",
    ]);
    assert!(
        !ok && out.contains("needs an owner"),
        "the last owner cannot leave: {out}"
    );
    let (ok, out) = run(&[
        "admin",
        "set-role",
        "--org",
        "acme",
        "--email",
        "bob@example.com",
        "--role",
        "owner",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "admin",
        "remove-member",
        "--org",
        "acme",
        "--email",
        "ada@example.com",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = run(&[
        "admin",
        "add-member",
        "--org",
        "nope",
        "--email",
        "bob@example.com",
    ]);
    assert!(
        !ok && out.contains("no organization has the slug nope"),
        "{out}"
    );
    let client = db::connect(&url).await.unwrap();
    let members: Vec<(String, String)> = client
        .query(
            "SELECT u.email, m.role FROM organization_members m JOIN users u ON u.id = m.user_id ORDER BY u.email",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        members,
        [("bob@example.com".to_owned(), "owner".to_owned())]
    );
}

#[tokio::test]
async fn seed_prints_who_can_sign_in_and_sets_their_password() {
    let url = testkit::fresh_database().await;
    let (ok, out) = server_cli(&url, &["seed", "--password", "letmein!"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("sarah.chen@example.com") && out.contains("owner"),
        "{out}"
    );
    assert!(out.contains("letmein!"), "{out}");
    let client = db::connect(&url).await.unwrap();
    let hash: String = client
        .query_one(
            "SELECT password_hash FROM user_credentials c JOIN users u ON u.id = c.user_id \
             WHERE u.email = 'sarah.chen@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        superset::server::api::accounts::verify_password("letmein!".into(), hash.clone()).await
    );
    assert!(!superset::server::api::accounts::verify_password("superset".into(), hash).await);
}
