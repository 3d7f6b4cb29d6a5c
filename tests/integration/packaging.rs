//! The scripts in `dist/` as a user runs them: installing into a prefix, building a `.deb`, and
//! per-worktree development sync services side by side.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use superset::testkit;

const ICON_SIZES: [u32; 8] = [16, 24, 32, 48, 64, 128, 256, 512];

fn script(path: &str) -> Command {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
}

/// Runs the command; its success, stdout, and stdout with stderr (for messages).
fn run(command: &mut Command) -> (bool, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("running a command");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    let both = format!("{stdout}{}", String::from_utf8_lossy(&stderr));
    (status.success(), stdout, both)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn installed_files(prefix: &Path) -> Vec<PathBuf> {
    let icons = prefix.join("share/icons/hicolor");
    let mut files = vec![
        prefix.join("bin/superset"),
        prefix.join("share/applications/superset.desktop"),
        icons.join("scalable/apps/superset.svg"),
    ];
    files.extend(ICON_SIZES.map(|n| icons.join(format!("{n}x{n}/apps/superset.png"))));
    files
}

/// The arguments of a desktop entry's `Exec=` value: double-quoted arguments are unquoted,
/// field codes (`%f`, `%U`, …) dropped.
fn exec_arguments(entry: &str) -> Vec<String> {
    let value = entry
        .lines()
        .find_map(|line| line.strip_prefix("Exec="))
        .expect("an Exec= line");
    let (mut args, mut current, mut quoted, mut started) =
        (Vec::new(), String::new(), false, false);
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => (quoted, started) = (!quoted, true),
            '\\' if quoted => current.extend(chars.next()),
            c if c.is_whitespace() && !quoted => {
                if started {
                    args.push(std::mem::take(&mut current));
                }
                started = false;
            }
            c => {
                current.push(c);
                started = true;
            }
        }
    }
    if started {
        args.push(current);
    }
    args.retain(|a| !(a.len() == 2 && a.starts_with('%')));
    args
}

#[test]
fn install_script_installs_into_a_prefix_and_the_entry_starts_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    let (ok, _, out) = run(script("dist/install.sh")
        .arg("--prefix")
        .arg(&prefix)
        .args(["--binary", env!("CARGO_BIN_EXE_superset")]));
    assert!(ok, "{out}");
    for file in installed_files(&prefix) {
        assert!(
            file.is_file(),
            "{} was not installed: {out}",
            file.display()
        );
    }
    let desktop = prefix.join("share/applications/superset.desktop");
    if have("desktop-file-validate") {
        let (ok, _, out) = run(Command::new("desktop-file-validate").arg(&desktop));
        assert!(ok, "desktop-file-validate: {out}");
    } else {
        eprintln!("skipping desktop-file-validate: it is not installed (tests/run.sh installs it)");
    }

    let entry = fs::read_to_string(&desktop).unwrap();
    let argv = exec_arguments(&entry);
    assert_eq!(
        Path::new(&argv[0]),
        prefix.join("bin/superset"),
        "the entry starts the installed binary by its absolute path: {entry}"
    );
    let (ok, stdout, out) = run(Command::new(&argv[0]).args(&argv[1..]).arg("--version"));
    assert!(ok && stdout.contains("superset"), "{out}");

    let (ok, _, out) = run(script("dist/uninstall.sh").arg("--prefix").arg(&prefix));
    assert!(ok, "{out}");
    for file in installed_files(&prefix) {
        assert!(!file.exists(), "{} is still there: {out}", file.display());
    }
}

#[test]
fn deb_package_builds() {
    if !have("dpkg-deb") {
        eprintln!("skipping: dpkg-deb is not installed");
        return;
    }
    let out_dir = tempfile::tempdir().unwrap();
    let (ok, stdout, out) = run(script("dist/package-deb.sh")
        .args(["--binary", env!("CARGO_BIN_EXE_superset")])
        .arg("--out")
        .arg(out_dir.path())
        // xz takes half a minute on a 2-core machine; the format is the same.
        .args(["--compression", "gzip"]));
    assert!(ok, "{out}");
    let deb = PathBuf::from(stdout.trim());
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    let prefix = format!("superset_{}_", env!("CARGO_PKG_VERSION"));
    assert!(
        deb.parent() == Some(out_dir.path()) && name.starts_with(&prefix) && name.ends_with(".deb"),
        "{out}"
    );

    let (ok, info, out) = run(Command::new("dpkg-deb").arg("--info").arg(&deb));
    assert!(ok, "{out}");
    for field in [
        "Package: superset",
        &format!("Version: {}", env!("CARGO_PKG_VERSION")),
        "libxkbcommon-x11-0",
        "Recommends: postgresql, zenity, xdg-desktop-portal",
    ] {
        assert!(info.contains(field), "no {field:?} in:\n{info}");
    }
    let (ok, contents, out) = run(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    assert!(ok, "{out}");
    for path in [
        "./usr/bin/superset",
        "./usr/share/applications/superset.desktop",
        "./usr/share/icons/hicolor/scalable/apps/superset.svg",
        "./usr/share/icons/hicolor/512x512/apps/superset.png",
    ] {
        assert!(contents.contains(path), "no {path} in:\n{contents}");
    }
    assert!(
        !contents.contains(".cache"),
        "caches are the system's: {contents}"
    );

    // The entry points at where the package puts the binary, not at the staging folder.
    let unpacked = out_dir.path().join("unpacked");
    let (ok, _, out) = run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked));
    assert!(ok, "{out}");
    let entry =
        fs::read_to_string(unpacked.join("usr/share/applications/superset.desktop")).unwrap();
    assert_eq!(exec_arguments(&entry), ["/usr/bin/superset"], "{entry}");
}

/// A plain folder standing for a worktree; whatever its sync service is, it is killed on drop.
struct Worktree(tempfile::TempDir);

impl Worktree {
    fn new(env: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".env"), env).unwrap();
        Worktree(dir)
    }

    fn run(&self, script_path: &str) -> (bool, String) {
        let (ok, _, out) = run(script(script_path)
            .arg("--worktree")
            .arg(self.0.path())
            .env("SUPERSET_SERVER_BIN", env!("CARGO_BIN_EXE_superset-server"))
            .env_remove("DIRECT_URL")
            .env_remove("ELECTRIC_SECRET"));
        (ok, out)
    }

    fn env(&self) -> String {
        fs::read_to_string(self.0.path().join(".env")).unwrap()
    }

    fn value(&self, key: &str) -> Option<String> {
        let prefix = format!("{key}=");
        self.env()
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
    }

    fn pid(&self) -> Option<i32> {
        self.value("SUPERSET_SYNC_PID").map(|p| p.parse().unwrap())
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Whether the process runs (a zombie waiting for its parent to collect it does not).
fn running(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
        && fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit_once(") ")
                .is_some_and(|(_, s)| s.starts_with('Z'))
        })
}

/// The processes whose command line has this argument.
fn processes_with_argument(argument: &str) -> usize {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|cmdline| cmdline.split(|&b| b == 0).any(|a| a == argument.as_bytes()))
        .count()
}

#[tokio::test]
async fn two_worktree_dev_servers_run_side_by_side() {
    let url = testkit::fresh_database().await;
    let env = format!("# this worktree's settings\nDIRECT_URL={url}\nAPI_PORT=4000\n");
    let worktrees = [Worktree::new(&env), Worktree::new(&env)];
    for worktree in &worktrees {
        let (ok, out) = worktree.run("dist/dev/setup.sh");
        assert!(ok, "{out}");
    }
    let electric = worktrees
        .each_ref()
        .map(|w| w.value("ELECTRIC_URL").unwrap());
    let pids = worktrees.each_ref().map(|w| w.pid().unwrap());
    let slots = worktrees
        .each_ref()
        .map(|w| w.value("SUPERSET_SYNC_NAME").unwrap());
    assert_ne!(electric[0], electric[1], "each worktree gets its own port");
    assert_ne!(slots[0], slots[1], "each worktree gets its own slot");
    let client = reqwest::Client::new();
    for url in &electric {
        let origin = url
            .strip_suffix("/v1/shape")
            .expect("ELECTRIC_URL ends in /v1/shape");
        let response = client
            .get(format!("{origin}/v1/health"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
    }

    let (ok, out) = worktrees[0].run("dist/dev/setup.sh");
    assert!(ok && out.contains("already running"), "{out}");
    assert_eq!(worktrees[0].pid(), Some(pids[0]), "{out}");
    assert_eq!(processes_with_argument(&slots[0]), 1, "{out}");

    for (worktree, pid) in worktrees.iter().zip(pids) {
        let (ok, out) = worktree.run("dist/dev/teardown.sh");
        assert!(ok && out.contains("stopped"), "{out}");
        assert!(!running(pid), "pid {pid} still runs after teardown: {out}");
        assert_eq!(worktree.env(), env, "only the lines setup added go");
    }
    let (ok, out) = worktrees[0].run("dist/dev/teardown.sh");
    assert!(ok && out.contains("nothing to stop"), "{out}");
}

#[test]
fn dev_setup_without_direct_url_says_so() {
    let worktree = Worktree::new("API_PORT=4000\n");
    let (ok, out) = worktree.run("dist/dev/setup.sh");
    assert!(!ok && out.contains("DIRECT_URL"), "{out}");
    assert_eq!(worktree.env(), "API_PORT=4000\n");
}

#[test]
fn dev_setup_with_unreachable_postgres_fails_fast_with_the_server_error() {
    let worktree = Worktree::new("DIRECT_URL=postgres://x@127.0.0.1:1/db\n");
    let started = Instant::now();
    let (ok, out) = worktree.run("dist/dev/setup.sh");
    assert!(!ok && out.contains("cannot reach Postgres"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(30), "{out}");
    assert_eq!(worktree.env(), "DIRECT_URL=postgres://x@127.0.0.1:1/db\n");
    assert_eq!(worktree.pid(), None);
}
