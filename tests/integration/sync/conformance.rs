//! The official Electric TypeScript client (`@electric-sql/client`, pinned in
//! `tests/conformance/package.json`) against the service: snapshot and value parsing, live
//! changes, a 409 after TRUNCATE, resuming from a stored handle and offset, and SSE.
//!
//! `tests/conformance/electric-client.mjs` runs under Node and does the client side; this test
//! starts the service, does every database write when the script asks for it (the script prints
//! `READY <phase>` and waits for `GO <json>` on stdin), and fails unless the script exits 0.
//! [`run_script`] and [`Phases`] do that for the other conformance scripts too
//! (`conformance_subsets`, `conformance_subqueries`). Needs `node` (>= 18) and `npm`:
//! `apt-get install nodejs npm`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use uuid::Uuid;

use super::support::Fixture;

const INSTALL_HINT: &str = "install Node.js and npm (`apt-get install nodejs npm`; tests/run.sh \
                            does it through dist/ensure-deps.sh)";
/// The whole exchange with the script; its own deadline is shorter, so this is a backstop.
const RUN_LIMIT: Duration = Duration::from_secs(90);

#[tokio::test]
async fn the_official_electric_client_syncs_against_the_service() {
    // A short SSE timeout makes the server close the event stream during the test, so the
    // client's SSE reconnect (resuming from `<lsn>_0`) is exercised too.
    let fx = Fixture::start_with(|c| c.sse_timeout = Duration::from_secs(3)).await;
    let org = fx.team.organizations[0].id;
    let other_org = fx.team.organizations[1].id;
    let driver = Driver {
        sql: fx.sql().await,
        org,
        other_org,
        live_rows: Vec::new(),
    };
    run_script(
        fx,
        "electric-client.mjs",
        &[
            ("ORG_ID", org.to_string()),
            ("OTHER_ORG_ID", other_org.to_string()),
        ],
        RUN_LIMIT,
        driver,
    )
    .await;
}

/// The Rust half of a script's handshake: at each `READY <phase>` it does the writes the phase
/// asks for and answers with what it did (or what Postgres holds).
pub(super) trait Phases {
    async fn phase(&mut self, phase: &str) -> Result<Value, String>;
}

/// Runs `tests/conformance/<script>` under Node against the fixture's service, with
/// `ELECTRIC_SHAPE_URL`, `DATABASE_URL`, `CONFORMANCE_TIMEOUT_MS` and `env` set, answering its
/// phases with `driver`; stops the fixture, then fails unless the script exited 0 within `limit`
/// (the script's own deadline is 30 s shorter).
pub(super) async fn run_script(
    fx: Fixture,
    script: &str,
    env: &[(&str, String)],
    limit: Duration,
    mut driver: impl Phases,
) {
    let dir = conformance_dir();
    require_node().await;
    ensure_client_installed(&dir).await;

    let script_limit = limit.saturating_sub(Duration::from_secs(30));
    let mut child = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .env("ELECTRIC_SHAPE_URL", format!("{}/v1/shape", fx.base()))
        .env("DATABASE_URL", &fx.database_url)
        .env(
            "CONFORMANCE_TIMEOUT_MS",
            script_limit.as_millis().to_string(),
        )
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `node {script}`: {e}; {INSTALL_HINT}"));

    let stderr = Arc::new(Mutex::new(String::new()));
    let stderr_task = {
        let stderr = stderr.clone();
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("node: {line}");
                let mut all = stderr.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        })
    };

    let mut phases = Vec::new();
    let outcome = tokio::time::timeout(limit, drive(&mut child, &mut driver, &mut phases)).await;
    let status = match &outcome {
        Ok(Ok(())) => tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .ok()
            .and_then(Result::ok),
        _ => None,
    };
    if status.is_none() {
        let _ = child.kill().await;
    }
    // Let the stderr reader drain what the script wrote before it ended.
    let _ = tokio::time::timeout(Duration::from_secs(5), stderr_task).await;
    let output = stderr.lock().unwrap().clone();
    let phases = phases.join(", ");
    drop(driver);
    fx.finish().await;

    match outcome {
        Err(_) => panic!(
            "the script {script} did not finish within {limit:?} (phases done: {phases})\n\
             --- script output ---\n{output}"
        ),
        Ok(Err(error)) => panic!(
            "driving the script {script} failed: {error} (phases done: {phases})\n\
             --- script output ---\n{output}"
        ),
        Ok(Ok(())) => {}
    }
    match status {
        Some(status) if status.success() => {}
        other => panic!(
            "the script {script} failed ({}; phases done: {phases})\n--- script output ---\n{output}",
            other.map_or_else(|| "did not exit".to_owned(), |s| s.to_string())
        ),
    }
}

/// Reads the script's stdout and answers each `READY <phase>` through `driver`, until the
/// script closes stdout; `phases` collects what was answered, for failure messages.
async fn drive(
    child: &mut Child,
    driver: &mut impl Phases,
    phases: &mut Vec<String>,
) -> Result<(), String> {
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(()), // the script ended; its exit status tells how
            Err(e) => return Err(format!("reading the script's stdout: {e}")),
        };
        if line == "DONE" {
            phases.push("done".to_owned());
            continue;
        }
        let Some(rest) = line.strip_prefix("READY ") else {
            eprintln!("node stdout: {line}");
            continue;
        };
        let phase = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let answer = driver
            .phase(&phase)
            .await
            .map_err(|e| format!("phase {phase}: {e}"))?;
        phases.push(phase.clone());
        reply(&mut stdin, &answer)
            .await
            .map_err(|e| format!("answering phase {phase}: {e}"))?;
    }
}

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Fails with an install hint when `node` is missing or too old.
async fn require_node() {
    let output = match Command::new("node").arg("--version").output().await {
        Ok(output) if output.status.success() => output,
        Ok(output) => panic!(
            "`node --version` failed ({}): {}; {INSTALL_HINT}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => panic!(
            "Node.js is needed for the Electric client conformance test but `node` cannot be run \
             ({e}); {INSTALL_HINT}"
        ),
    };
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 18,
        "Node.js {version} is too old for @electric-sql/client (needs 18 or later); {INSTALL_HINT}"
    );
}

/// Runs `npm ci` in `tests/conformance` unless every pinned package (the Electric client, TanStack
/// DB and its Electric collection) is already installed there at its pinned version.
async fn ensure_client_installed(dir: &Path) {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).unwrap()).unwrap();
    let pinned: Vec<(String, String)> = manifest["dependencies"]
        .as_object()
        .expect("package.json has dependencies")
        .iter()
        .map(|(name, version)| {
            let version = version.as_str().expect("a pinned version").to_owned();
            (name.clone(), version)
        })
        .collect();
    assert!(
        pinned
            .iter()
            .any(|(name, _)| name == "@electric-sql/client"),
        "package.json pins @electric-sql/client"
    );
    let installed = |name: &str| -> Option<String> {
        let text =
            std::fs::read_to_string(dir.join("node_modules").join(name).join("package.json"))
                .ok()?;
        let package: Value = serde_json::from_str(&text).ok()?;
        package["version"].as_str().map(str::to_owned)
    };
    let missing = || -> Vec<String> {
        pinned
            .iter()
            .filter(|(name, version)| installed(name).as_deref() != Some(version.as_str()))
            .map(|(name, version)| format!("{name}@{version}"))
            .collect()
    };
    let wanted = missing();
    if wanted.is_empty() {
        return;
    }
    let what = format!(
        "{} into tests/conformance/node_modules (run `npm ci` in tests/conformance with access \
         to the npm registry)",
        wanted.join(", ")
    );
    eprintln!("conformance: installing {what}");
    let npm = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(Duration::from_secs(300), npm).await {
        Err(_) => panic!("`npm ci` did not finish within 5 minutes; install {what}"),
        Ok(Err(e)) => panic!("cannot run `npm` ({e}); {INSTALL_HINT}, then install {what}"),
        Ok(Ok(output)) => output,
    };
    assert!(
        output.status.success(),
        "`npm ci` failed ({}); install {what}\n--- npm stdout ---\n{}\n--- npm stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        missing(),
        Vec::<String>::new(),
        "`npm ci` succeeded but did not install {what}"
    );
}

/// The Rust half of `electric-client.mjs`.
struct Driver {
    sql: tokio_postgres::Client,
    org: Uuid,
    other_org: Uuid,
    /// Rows inserted in the SSE phase.
    live_rows: Vec<Uuid>,
}

impl Phases for Driver {
    async fn phase(&mut self, phase: &str) -> Result<Value, String> {
        let result = match phase {
            "snapshot" => self.expected_snapshot().await,
            "live" => self.live_changes().await,
            "refetch" => self.truncate_and_refill().await,
            "resume" => self.changes_while_stopped().await,
            "sse" => self.sse_inserts().await,
            "sse-after-reconnect" => self.sse_update_and_delete().await,
            other => return Err(format!("the script asked for an unknown phase {other:?}")),
        };
        result.map_err(|e| format!("SQL failed: {e}"))
    }
}

impl Driver {
    /// What the first organization's tasks, workspaces and repositories hold.
    async fn expected_snapshot(&self) -> Result<Value, tokio_postgres::Error> {
        let text: String = self
            .sql
            .query_one(
                "SELECT json_build_object(
                   'tasks', (SELECT coalesce(json_agg(json_build_object(
                       'id', id, 'title', title, 'labels', labels,
                       'description', description, 'due_date', due_date::text)), '[]')
                     FROM tasks WHERE organization_id = $1),
                   'workspaces', (SELECT coalesce(json_agg(json_build_object(
                       'id', id, 'pr_number', pr_number, 'git_status', git_status)), '[]')
                     FROM workspaces WHERE organization_id = $1),
                   'repositories', (SELECT coalesce(json_agg(json_build_object(
                       'id', id, 'github_id', github_id::text)), '[]')
                     FROM repositories WHERE organization_id = $1)
                 )::text",
                &[&self.org],
            )
            .await?
            .get(0);
        Ok(serde_json::from_str(&text).expect("Postgres returns JSON"))
    }

    /// An insert, an update and a delete, each its own transaction.
    async fn live_changes(&self) -> Result<Value, tokio_postgres::Error> {
        let existing: Vec<Uuid> = self
            .sql
            .query(
                "SELECT id FROM tasks WHERE organization_id = $1 ORDER BY id LIMIT 2",
                &[&self.org],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let (updated, deleted) = (existing[0], existing[1]);
        let inserted = Uuid::new_v4();
        let labels = json!(["conformance", {"nested": [1, 2.5, null, "x\"y"]}]);
        let title = "Inserted by the conformance test";
        self.insert_task(inserted, self.org, title, &labels).await?;
        let new_title = "Renamed by the conformance test";
        self.sql
            .execute(
                "UPDATE tasks SET title = $2 WHERE id = $1",
                &[&updated, &new_title],
            )
            .await?;
        self.sql
            .execute("DELETE FROM tasks WHERE id = $1", &[&deleted])
            .await?;
        Ok(json!({
            "inserted": {"id": inserted.to_string(), "title": title, "labels": labels},
            "updated": {"id": updated.to_string(), "title": new_title},
            "deleted": deleted.to_string(),
        }))
    }

    /// TRUNCATE retires every shape on `tasks`; then three fresh rows in one transaction.
    async fn truncate_and_refill(&self) -> Result<Value, tokio_postgres::Error> {
        self.sql.batch_execute("TRUNCATE tasks CASCADE").await?;
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        self.sql
            .execute(
                "INSERT INTO tasks (id, organization_id, title, labels)
                 SELECT id, $2, 'Fresh after truncate', '[\"fresh\"]'::jsonb FROM unnest($1::uuid[]) AS id",
                &[&ids, &self.org],
            )
            .await?;
        Ok(json!({ "ids": strings(&ids) }))
    }

    /// While no client runs: an insert and an update of a row from the refill.
    async fn changes_while_stopped(&self) -> Result<Value, tokio_postgres::Error> {
        let inserted = Uuid::new_v4();
        self.insert_task(inserted, self.org, "Made while stopped", &json!([]))
            .await?;
        let updated: Uuid = self
            .sql
            .query_one(
                "SELECT id FROM tasks WHERE organization_id = $1 AND id <> $2 ORDER BY id LIMIT 1",
                &[&self.org, &inserted],
            )
            .await?
            .get(0);
        let title = "Updated while stopped";
        self.sql
            .execute(
                "UPDATE tasks SET title = $2 WHERE id = $1",
                &[&updated, &title],
            )
            .await?;
        Ok(json!({
            "inserted": inserted.to_string(),
            "updated": {"id": updated.to_string(), "title": title},
        }))
    }

    /// Two rows of the other organization in one transaction.
    async fn sse_inserts(&mut self) -> Result<Value, tokio_postgres::Error> {
        let ids: Vec<Uuid> = (0..2).map(|_| Uuid::new_v4()).collect();
        self.sql
            .execute(
                "INSERT INTO tasks (id, organization_id, title)
                 SELECT id, $2, 'Over SSE' FROM unnest($1::uuid[]) AS id",
                &[&ids, &self.other_org],
            )
            .await?;
        self.live_rows = ids.clone();
        Ok(json!({ "ids": strings(&ids) }))
    }

    /// An update of one SSE row and a delete of the other, in one transaction.
    async fn sse_update_and_delete(&mut self) -> Result<Value, tokio_postgres::Error> {
        let (updated, deleted) = (self.live_rows[0], self.live_rows[1]);
        let title = "Renamed over SSE";
        let tx = self.sql.transaction().await?;
        tx.execute(
            "UPDATE tasks SET title = $2 WHERE id = $1",
            &[&updated, &title],
        )
        .await?;
        tx.execute("DELETE FROM tasks WHERE id = $1", &[&deleted])
            .await?;
        tx.commit().await?;
        Ok(json!({
            "updated": {"id": updated.to_string(), "title": title},
            "deleted": deleted.to_string(),
        }))
    }

    async fn insert_task(
        &self,
        id: Uuid,
        org: Uuid,
        title: &str,
        labels: &Value,
    ) -> Result<(), tokio_postgres::Error> {
        self.sql
            .execute(
                "INSERT INTO tasks (id, organization_id, title, labels) VALUES ($1, $2, $3, $4)",
                &[&id, &org, &title, labels],
            )
            .await?;
        Ok(())
    }
}

pub(super) fn strings(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(Uuid::to_string).collect()
}

async fn reply(stdin: &mut ChildStdin, answer: &Value) -> std::io::Result<()> {
    stdin.write_all(format!("GO {answer}\n").as_bytes()).await?;
    stdin.flush().await
}
