//! `superset demo` as a newcomer runs it: the window comes up on a virtual display, the
//! teammate simulator's webhook-driven changes reach the desktop's SQLite, and quitting stops
//! everything the demo started.

use std::process::Command;

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(needle) {
            found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

#[test]
fn the_demo_shows_live_teammates_and_stops_everything_it_started() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        println!(
            "skipped: xvfb-run is not installed (tests/run.sh installs it: apt-get install xvfb)"
        );
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let output = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_superset"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["demo", "--quit-after", "25"])
        .env("SUPERSET_KEYRING", "off")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the demo failed: {log}");
    assert!(log.contains("signed in as"), "{log}");
    let profile = data.path().join("desktop");
    let conn = superset::store::open(&superset::profile::database_path(&profile)).unwrap();
    let tasks: i64 = conn
        .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert!(tasks > 0, "the window synced nothing: {log}");
    let simulated: i64 = conn
        .query_row(
            "SELECT count(*) FROM tasks WHERE description = ?1",
            [superset::demo::simulator::SIMULATED],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        simulated > 0,
        "no Linear issue from the simulator reached the desktop: {log}"
    );
    // Nothing the demo started is left: no server, no window, no PostgreSQL.
    let data_dir = data.path().display().to_string();
    let left: Vec<String> = processes_mentioning(&data_dir)
        .into_iter()
        .chain(processes_mentioning("superset-demo-"))
        .filter(|p| !p.contains("cargo") && !p.contains("integration"))
        .collect();
    assert!(left.is_empty(), "still running after the demo: {left:?}");
}
