//! Finding PostgreSQL's server binaries (`initdb`, `postgres`, `pg_ctl`) where each platform's
//! installers put them: PATH first, then Debian's `/usr/lib/postgresql/<version>/bin` on Linux,
//! Postgres.app and Homebrew's kegs on macOS, the EDB installer's
//! `%ProgramFiles%\PostgreSQL\<version>\bin` on Windows — the newest version first. When none
//! is found, the error says how to install them in that platform's terms.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::LocalPgError;

/// The platforms whose install locations we know. Each is described on every platform, so the
/// locations of all three are tested wherever the tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux and the other Unix systems that are not macOS.
    Linux,
    MacOs,
    Windows,
}

impl Platform {
    /// The platform this binary was built for.
    pub const CURRENT: Platform = if cfg!(windows) {
        Platform::Windows
    } else if cfg!(target_os = "macos") {
        Platform::MacOs
    } else {
        Platform::Linux
    };

    /// Where installers put the server binaries, most preferred first, under `root`: the file
    /// system's root on Unix, `%ProgramFiles%` on Windows.
    pub fn install_dirs(self, root: &Path) -> Vec<PathBuf> {
        match self {
            Platform::Linux => newest_first(&root.join("usr/lib/postgresql"), "", "bin"),
            Platform::MacOs => {
                let mut dirs =
                    vec![root.join("Applications/Postgres.app/Contents/Versions/latest/bin")];
                dirs.extend(newest_first(
                    &root.join("Applications/Postgres.app/Contents/Versions"),
                    "",
                    "bin",
                ));
                // Homebrew: /opt/homebrew on Apple silicon, /usr/local on Intel. The versioned
                // formulae are keg-only (not on PATH); the plain one is linked into bin/.
                for prefix in ["opt/homebrew", "usr/local"] {
                    let prefix = root.join(prefix);
                    dirs.extend(newest_first(&prefix.join("opt"), "postgresql@", "bin"));
                    dirs.push(prefix.join("opt/postgresql/bin"));
                    dirs.push(prefix.join("bin"));
                }
                dirs
            }
            Platform::Windows => newest_first(&root.join("PostgreSQL"), "", "bin"),
        }
    }

    /// The root [`Platform::install_dirs`] is given on this machine.
    fn install_root(self) -> PathBuf {
        match self {
            Platform::Windows => std::env::var_os("ProgramFiles")
                .map_or_else(|| PathBuf::from(r"C:\Program Files"), PathBuf::from),
            Platform::Linux | Platform::MacOs => PathBuf::from("/"),
        }
    }

    /// The error when no binaries were found: where we looked, and how to install them here.
    pub fn binaries_not_found(self) -> LocalPgError {
        let (looked, hint) = match self {
            Platform::Linux => (
                "/usr/lib/postgresql/*/bin",
                "install them with `sudo apt-get install postgresql`",
            ),
            Platform::MacOs => (
                "Postgres.app and Homebrew's folders",
                "install Postgres.app (https://postgresapp.com) or run \
                 `brew install postgresql@17`",
            ),
            Platform::Windows => (
                r"C:\Program Files\PostgreSQL\*\bin",
                "install PostgreSQL with the installer from \
                 https://www.postgresql.org/download/windows/",
            ),
        };
        LocalPgError::BinariesNotFound { looked, hint }
    }

    /// A program's file name: `initdb.exe` on Windows, `initdb` elsewhere.
    fn executable(self, name: &str) -> String {
        match self {
            Platform::Windows => format!("{name}.exe"),
            Platform::Linux | Platform::MacOs => name.to_owned(),
        }
    }
}

/// `parent/<prefix><version>/<tail>` for every numbered version folder, the newest first.
/// `15` and `9.6` are versions; `latest` and other names are not.
fn newest_first(parent: &Path, prefix: &str, tail: &str) -> Vec<PathBuf> {
    let mut versioned: Vec<((u32, u32), PathBuf)> = fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let version = name.to_str()?.strip_prefix(prefix)?;
            let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
            let version = (major.parse().ok()?, minor.parse().ok()?);
            Some((version, e.path().join(tail)))
        })
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    versioned.into_iter().map(|(_, dir)| dir).collect()
}

/// The directory holding `initdb`, `postgres` and `pg_ctl`.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    bin_dir: PathBuf,
    platform: Platform,
}

impl PgBinaries {
    /// Finds the server binaries on PATH, else where this platform's installers put them.
    pub fn locate() -> Result<Self, LocalPgError> {
        let platform = Platform::CURRENT;
        let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        let installed = platform.install_dirs(&platform.install_root());
        Self::locate_in(platform, path_dirs.into_iter().chain(installed))
    }

    /// Finds the binaries in the first candidate directory that has both `initdb` and
    /// `postgres`. A symlinked `initdb` (as in `/usr/local/bin` or Homebrew's `bin`) leads to
    /// its real directory.
    pub fn locate_in(
        platform: Platform,
        candidates: impl IntoIterator<Item = PathBuf>,
    ) -> Result<Self, LocalPgError> {
        for dir in candidates {
            let Ok(initdb) = fs::canonicalize(dir.join(platform.executable("initdb"))) else {
                continue;
            };
            let Some(bin_dir) = initdb.parent() else {
                continue;
            };
            if bin_dir.join(platform.executable("postgres")).is_file() {
                return Ok(Self {
                    bin_dir: bin_dir.to_path_buf(),
                    platform,
                });
            }
        }
        Err(platform.binaries_not_found())
    }

    /// The path of one of the binaries, by its name without extension.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(self.platform.executable(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install(root: &Path, dir: &str, platform: Platform) -> PathBuf {
        let bin = root.join(dir);
        fs::create_dir_all(&bin).unwrap();
        for name in ["initdb", "postgres"] {
            fs::write(bin.join(platform.executable(name)), "").unwrap();
        }
        bin
    }

    fn found(platform: Platform, root: &Path) -> PathBuf {
        let bins = PgBinaries::locate_in(platform, platform.install_dirs(root)).unwrap();
        bins.bin("initdb").parent().unwrap().to_path_buf()
    }

    #[test]
    fn debian_s_newest_version_wins() {
        let root = tempfile::tempdir().unwrap();
        install(root.path(), "usr/lib/postgresql/9.6/bin", Platform::Linux);
        let newest = install(root.path(), "usr/lib/postgresql/16/bin", Platform::Linux);
        install(root.path(), "usr/lib/postgresql/15/bin", Platform::Linux);
        assert_eq!(
            found(Platform::Linux, root.path()),
            newest.canonicalize().unwrap()
        );
    }

    #[test]
    fn postgres_app_comes_before_homebrew_and_homebrew_s_newest_keg_before_older_ones() {
        let root = tempfile::tempdir().unwrap();
        install(
            root.path(),
            "opt/homebrew/opt/postgresql@15/bin",
            Platform::MacOs,
        );
        let keg = install(
            root.path(),
            "opt/homebrew/opt/postgresql@17/bin",
            Platform::MacOs,
        );
        assert_eq!(
            found(Platform::MacOs, root.path()),
            keg.canonicalize().unwrap()
        );
        let app = install(
            root.path(),
            "Applications/Postgres.app/Contents/Versions/16/bin",
            Platform::MacOs,
        );
        assert_eq!(
            found(Platform::MacOs, root.path()),
            app.canonicalize().unwrap()
        );
    }

    #[test]
    fn intel_homebrew_is_found_too() {
        let root = tempfile::tempdir().unwrap();
        let keg = install(
            root.path(),
            "usr/local/opt/postgresql@16/bin",
            Platform::MacOs,
        );
        assert_eq!(
            found(Platform::MacOs, root.path()),
            keg.canonicalize().unwrap()
        );
    }

    #[test]
    fn the_edb_installer_s_folder_is_found_on_windows_with_exe_names() {
        let root = tempfile::tempdir().unwrap();
        install(root.path(), "PostgreSQL/16/bin", Platform::Windows);
        let newest = install(root.path(), "PostgreSQL/17/bin", Platform::Windows);
        assert_eq!(
            found(Platform::Windows, root.path()),
            newest.canonicalize().unwrap()
        );
        // Without the extension a Windows install is not one.
        let unix_names = tempfile::tempdir().unwrap();
        install(unix_names.path(), "PostgreSQL/17/bin", Platform::Linux);
        assert!(
            PgBinaries::locate_in(
                Platform::Windows,
                Platform::Windows.install_dirs(unix_names.path())
            )
            .is_err()
        );
    }

    #[test]
    fn each_platform_s_hint_is_in_its_own_terms() {
        let hints = [
            (Platform::Linux, "apt-get install postgresql"),
            (Platform::MacOs, "brew install postgresql@17"),
            (Platform::Windows, "postgresql.org/download/windows"),
        ];
        for (platform, words) in hints {
            let text = platform.binaries_not_found().to_string();
            assert!(text.contains(words), "{text}");
            assert_eq!(text.lines().count(), 1, "one clear line: {text}");
        }
    }
}
