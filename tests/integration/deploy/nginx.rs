//! A real nginx for a test: `dist/deploy/*.conf` with its placeholders filled in, run in the
//! foreground as one process (`master_process off`, so it runs as the test's user and writes
//! only under a temporary directory), stopped when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx.
pub struct Nginx {
    child: Child,
    pub address: String,
    _dir: tempfile::TempDir,
}

fn binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    /// Runs `dist/deploy/{config}` with `@LISTEN@`, `@CACHE_DIR@` and `replacements` filled in.
    pub fn start(config: &str, replacements: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let address = format!("127.0.0.1:{}", free_port());
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(cache.join("tmp")).unwrap();
        let template = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("dist/deploy")
            .join(config);
        let mut text = std::fs::read_to_string(&template).unwrap();
        text = text
            .replace("@LISTEN@", &address)
            .replace("@CACHE_DIR@", cache.to_str().unwrap());
        for (placeholder, value) in replacements {
            text = text.replace(placeholder, value);
        }
        // One process here: `reuseport` would open a socket per configured worker, and no
        // process would accept on all but one.
        text = text.replace(" reuseport;", ";");
        assert!(!text.contains('@'), "a placeholder is left in {config}");
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, text).unwrap();
        let log = dir.path().join("error.log");
        let child = Command::new(binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&log)
            .arg("-g")
            .arg(format!(
                "daemon off; master_process off; pid {};",
                dir.path().join("nginx.pid").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run nginx ({e}); dist/ensure-deps.sh test installs it")
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {address}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            address,
            _dir: dir,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
