//! The Windows build of the desktop, `superset.exe`, run under wine against a real server on
//! this machine: `login`, `sync --until-synced` and `status`, and then the SQLite file the
//! Windows program wrote must hold exactly what its user may see — the same oracle as the
//! desktop tests ([`differences`]); then the window opens on that profile, syncs a change made
//! meanwhile, and closes again. The refresh token goes to wine's Credential Manager, so the
//! Windows keyring store runs too. Runs when `SUPERSET_WINE_EXE` names the `.exe`
//! (`.ci/platforms` builds it and runs the test with a `WINEPREFIX` of its own, on a virtual
//! display); without it the test says so and passes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::desktop::support::{PASSWORD, Setup, differences, orgs_of};

/// A Linux path as the Windows program sees it: wine maps drive `Z:` to `/`.
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// Runs `superset.exe` with `args` (and `stdin`), and returns its stdout; fails the test, with
/// what the program said, unless it exits 0 within `limit`. Its output goes to files, so a
/// chatty program never blocks on a full pipe.
fn superset_exe(exe: &Path, args: &[&str], stdin: &str, limit: Duration) -> String {
    let out = tempfile::NamedTempFile::new().unwrap();
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("wine")
        .arg(exe)
        .args(args)
        .env("WINEDEBUG", "-all")
        .env("RUST_LOG", "warn")
        // The Windows keyring code runs: wine has a Credential Manager of its own.
        .env_remove("SUPERSET_KEYRING")
        .stdin(Stdio::piped())
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .expect("wine runs (dist/ensure-deps.sh platforms installs it)");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "superset.exe {args:?} did not finish within {limit:?}; it said:\n{}",
                std::fs::read_to_string(err.path()).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(out.path()).unwrap();
    assert!(
        status.success(),
        "superset.exe {args:?} failed ({status}):\nstdout: {stdout}\nstderr: {}",
        std::fs::read_to_string(err.path()).unwrap()
    );
    stdout
}

/// [`superset_exe`] off the async runtime, which serves the test's server meanwhile.
async fn run(exe: &Path, args: &[&str], stdin: &str, limit: Duration) -> String {
    let exe = exe.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        superset_exe(&exe, &args, &stdin, limit)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_windows_build_signs_in_syncs_and_holds_exactly_what_its_user_may_see() {
    let Some(exe) = std::env::var_os("SUPERSET_WINE_EXE") else {
        eprintln!("skipped: SUPERSET_WINE_EXE is not set (.ci/platforms sets it)");
        return;
    };
    let exe = Path::new(&exe);
    let setup = Setup::start(60).await;
    let pg = setup.sql().await;
    // Someone in one organization of two, so the other organization's rows must stay away.
    let mut single = None;
    for user in &setup.team.users {
        if orgs_of(&pg, user.id).await.len() == 1 {
            single = Some(user.clone());
            break;
        }
    }
    let user = single.expect("the seed has people in a single organization");
    let profile = tempfile::tempdir().unwrap();
    let data_dir = windows_path(profile.path());
    let minute = Duration::from_secs(60);

    let said = run(
        exe,
        &[
            "--data-dir",
            &data_dir,
            "login",
            "--server",
            &setup.server.base_url,
            "--email",
            &user.email,
        ],
        &format!("{PASSWORD}\n"),
        minute,
    )
    .await;
    assert!(said.contains(&user.email), "{said}");
    run(
        exe,
        &["--data-dir", &data_dir, "sync", "--until-synced"],
        "",
        2 * minute,
    )
    .await;
    let status = run(exe, &["--data-dir", &data_dir, "status"], "", minute).await;
    assert!(status.contains(&user.email), "{status}");
    assert!(
        status.contains("refresh token in the OS keyring"),
        "the token went to the Credential Manager:\n{status}"
    );

    let problems = differences(&pg, profile.path(), user.id).await;
    assert!(problems.is_empty(), "{problems:#?}\nstatus:\n{status}");
    let synced_tasks = status
        .lines()
        .find_map(|line| line.strip_prefix("tasks ")?.trim().parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no task count in the status:\n{status}"));
    assert!(synced_tasks > 0, "the user's tasks arrived:\n{status}");

    // The window opens on the profile (OpenGL through wine and Mesa), syncs what changed
    // meanwhile, and closes again. All of the test's wine programs share one display: wine's
    // desktop process keeps the display it was first started with.
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "run the test on a display, e.g. under xvfb-run, as .ci/platforms does"
    );
    let org = orgs_of(&pg, user.id).await[0];
    let renamed = pg
        .execute(
            "UPDATE tasks SET title = 'Renamed while the window was closed' \
             WHERE id = (SELECT id FROM tasks WHERE organization_id = $1 ORDER BY id LIMIT 1)",
            &[&org],
        )
        .await
        .unwrap();
    assert_eq!(renamed, 1);
    run(
        exe,
        &["--data-dir", &data_dir, "--quit-after", "10"],
        "",
        minute,
    )
    .await;
    let problems = differences(&pg, profile.path(), user.id).await;
    assert!(problems.is_empty(), "after the window: {problems:#?}");
    setup.stop().await;
}
