//! The real binary in a real (virtual) display: `superset --data-dir P` on a profile signed in
//! with `superset login` opens straight to its tasks and syncs them; `--quit-after` closes it.

use std::process::Command;

use crate::desktop::support::Setup;

#[test]
fn the_window_opens_under_xvfb_and_syncs() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        println!(
            "skipped: xvfb-run is not installed (tests/run.sh installs it: apt-get install xvfb)"
        );
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(40));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &user.email));
    let output = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_superset"))
        .arg("--data-dir")
        .arg(profile.path())
        .args(["--quit-after", "12"])
        .env("SUPERSET_KEYRING", "off")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the window failed: {log}");
    let conn = superset::store::open(&superset::profile::database_path(profile.path())).unwrap();
    let tasks: i64 = conn
        .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert!(tasks > 0, "nothing synced while the window was open: {log}");
    runtime.block_on(setup.stop());
}
