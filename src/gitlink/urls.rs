//! Git remote URLs reduced to one comparable key, `host/path` (e.g. `github.com/org/repo`),
//! so that the many spellings of one repository match: the scp form
//! (`git@github.com:Org/Repo.git`), `ssh://git@host:22/…`, `git+ssh://`, `git://`,
//! `http(s)://user:token@www.GitHub.com/Org/Repo.git/`, SSH over the HTTPS port
//! (`ssh.github.com:443`), browser URLs (`…/tree/main`, `#readme`) and Azure DevOps' two forms.
//!
//! Credentials are dropped and never part of the key; ports are dropped (the same repository is
//! reached on different ports by ssh and https); the host is lower-cased, `www.` is removed and
//! `*.github.com` folds into `github.com` (as the GitHub CLI does); trailing slashes and `.git`
//! (any case, repeated) are removed. The path is lower-cased only for hosts known to compare
//! owner and name case-insensitively (GitHub, GitLab, Bitbucket, Azure DevOps): on a plain ssh
//! server `Repo` and `repo` may be different repositories.
//!
//! Local paths and `file://` URLs are not remotes of a hosted repository and give `None`.
//! SSH host aliases (`git@work-gh:o/r`) and `insteadOf` rewrites are not resolved here: the
//! caller should read remotes with `git remote get-url` (which expands `insteadOf`).
//!
//! The module has no dependencies so the desktop can use it as it is.

use std::fmt;

/// A hosted repository's remote, reduced to what identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GitRemote {
    /// Lower-cased, without `www.`, port or credentials; `*.github.com` is `github.com`.
    pub host: String,
    /// Slash-separated path without leading or trailing slashes and without `.git`.
    pub path: String,
}

impl GitRemote {
    /// The comparable key: `host/path`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.host, self.path)
    }

    /// Owner and repository name for hosts whose paths are `owner/name` (GitHub): the first
    /// two path segments. `None` when the path has fewer.
    pub fn owner_and_name(&self) -> Option<(&str, &str)> {
        let mut segments = self.path.split('/');
        match (segments.next(), segments.next()) {
            (Some(owner), Some(name)) if !owner.is_empty() && !name.is_empty() => {
                Some((owner, name))
            }
            _ => None,
        }
    }

    /// The last path segment: the repository's name.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

impl fmt::Display for GitRemote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host, self.path)
    }
}

/// The comparable key of a remote URL (`github.com/org/repo`), or `None` when `remote` is not
/// the URL of a hosted repository (a local path, `file://`, an unknown scheme, no path).
pub fn normalize(remote: &str) -> Option<String> {
    parse(remote).map(|r| r.key())
}

/// True when both URLs name the same hosted repository.
pub fn same_repository(a: &str, b: &str) -> bool {
    match (normalize(a), normalize(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Parses a remote URL into host and path (see the module documentation for the rules).
pub fn parse(remote: &str) -> Option<GitRemote> {
    let remote = remote.trim();
    if remote.is_empty() || remote.contains(char::is_whitespace) {
        return None;
    }
    let (authority, path) = match remote.find("://") {
        Some(at) => {
            let scheme = remote[..at].to_ascii_lowercase();
            if !matches!(
                scheme.as_str(),
                "ssh" | "git+ssh" | "ssh+git" | "git" | "http" | "https" | "ftp" | "ftps"
            ) {
                // file://, and anything we cannot reach as a hosted repository.
                return None;
            }
            let rest = &remote[at + 3..];
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        }
        None => scp_like(remote)?,
    };
    let host = host_of(authority)?;
    let (host, path) = canonical(&host, strip_path(path)?)?;
    Some(GitRemote { host, path })
}

/// Splits the scp-like form `[user@]host:path` into authority and path. Git treats a value as
/// scp-like only when no slash comes before the first colon; otherwise it is a local path.
/// A single letter before the colon is a Windows drive (`C:\repo`), not a host.
fn scp_like(remote: &str) -> Option<(&str, &str)> {
    let colon = remote.find(':')?;
    if remote[..colon].contains(['/', '\\']) {
        return None;
    }
    let authority = &remote[..colon];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.len() == 1 && host.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((authority, &remote[colon + 1..]))
}

/// The host of `[user[:password]@]host[:port]`, lower-cased, without credentials or port.
fn host_of(authority: &str) -> Option<String> {
    // Credentials end at the last `@` (a password may itself contain one).
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        // An IPv6 literal: `[::1]:22`.
        &bracketed[..bracketed.find(']')?]
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.contains(['/', '\\', '@']) {
        return None;
    }
    Some(host)
}

/// The path without query, fragment, leading `/` or `~`, trailing `/`, and `.git` (any case,
/// repeated), keeping only non-empty segments. `None` when nothing is left.
fn strip_path(path: &str) -> Option<String> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut path = path.trim_matches('/');
    loop {
        let before = path.len();
        path = path.trim_end_matches('/');
        let last = path.rsplit('/').next().unwrap_or(path);
        // `name.git` loses its suffix; a segment that is only `.git` keeps it.
        if last.len() > 4 && last.as_bytes()[last.len() - 4..].eq_ignore_ascii_case(b".git") {
            path = &path[..path.len() - 4];
        }
        if path.len() == before {
            break;
        }
    }
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if segments.is_empty() || segments.contains(&"..") {
        return None;
    }
    Some(segments.join("/"))
}

/// Host folding and per-host path rules.
fn canonical(host: &str, path: String) -> Option<(String, String)> {
    let host = host.strip_prefix("www.").unwrap_or(host);
    let folded = if host == "github.com" || host.ends_with(".github.com") {
        "github.com"
    } else if host == "altssh.gitlab.com" {
        "gitlab.com"
    } else if host == "altssh.bitbucket.org" {
        "bitbucket.org"
    } else if host == "ssh.dev.azure.com" || host == "vs-ssh.visualstudio.com" {
        "dev.azure.com"
    } else {
        host
    };
    match folded {
        "github.com" => {
            // `owner/repo`; anything after is a browser path such as `/tree/main`.
            let mut segments = path.split('/');
            let (owner, name) = (segments.next()?, segments.next()?);
            let name = strip_path(name)?;
            Some((
                folded.to_owned(),
                format!("{owner}/{name}").to_ascii_lowercase(),
            ))
        }
        "dev.azure.com" => {
            // ssh: `v3/org/project/repo`; https: `org/project/_git/repo`.
            let segments: Vec<&str> = path
                .split('/')
                .filter(|s| *s != "_git")
                .enumerate()
                .filter(|(i, s)| !(*i == 0 && s.eq_ignore_ascii_case("v3")))
                .map(|(_, s)| s)
                .collect();
            Some((folded.to_owned(), segments.join("/").to_ascii_lowercase()))
        }
        "gitlab.com" | "bitbucket.org" => Some((folded.to_owned(), path.to_ascii_lowercase())),
        _ => Some((folded.to_owned(), path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(remote: &str) -> Option<String> {
        normalize(remote)
    }

    #[test]
    fn every_spelling_of_a_github_repository_gives_one_key() {
        let forms = [
            "git@github.com:org/repo.git",
            "git@github.com:org/repo",
            "git@github.com:Org/Repo.git",
            "github.com:org/repo.git",
            "org-123@github.com:Org/Repo.git",
            "ssh://git@github.com/org/repo.git",
            "ssh://git@github.com:22/Org/Repo.git",
            "ssh://git@ssh.github.com:443/Org/Repo.git",
            "git+ssh://git@github.com/org/repo.git",
            "ssh+git://git@github.com/org/repo",
            "git://github.com/org/repo.git",
            "https://github.com/org/repo",
            "https://github.com/org/repo.git",
            "https://github.com/org/repo/",
            "https://github.com/org/repo.git/",
            "https://GitHub.com/Org/Repo.GIT",
            "https://www.github.com/Org/Repo",
            "https://user:pass@www.GitHub.com/Org/Repo.git/",
            "https://x-access-token:ghp_SECRET@github.com/Org/Repo.git",
            "https://ghp_SECRET@github.com/org/repo",
            "http://github.com/org/repo",
            "https://github.com:443/org/repo",
            "HTTPS://GITHUB.COM/ORG/REPO",
            "  https://github.com/Org/Repo.git\n",
            "git@github.com:Org/Repo.git.git",
            "https://github.com/Org/Repo/tree/main",
            "https://github.com/Org/Repo#readme",
            "https://github.com/Org/Repo?tab=readme",
            "https://github.com/Org/Repo.git#main",
            "https://github.com//Org//Repo.git",
        ];
        for form in forms {
            assert_eq!(
                key(form).as_deref(),
                Some("github.com/org/repo"),
                "{form:?}"
            );
        }
    }

    #[test]
    fn credentials_never_reach_the_key() {
        for remote in [
            "https://user:ghp_TOKEN@github.com/Org/Repo.git",
            "https://oauth2:glpat-TOKEN@gitlab.com/group/repo.git",
            "https://user:p%40ss@example.com/r.git",
            "https://user:p@ss@example.com/r.git",
        ] {
            let normal = key(remote).unwrap();
            assert!(
                !normal.contains("TOKEN")
                    && !normal.contains("user")
                    && !normal.contains("ss@")
                    && !normal.contains('@'),
                "{remote} -> {normal}"
            );
        }
        assert_eq!(
            key("https://user:p@ss@example.com/r.git").as_deref(),
            Some("example.com/r")
        );
    }

    #[test]
    fn ports_are_dropped_so_ssh_and_https_match() {
        assert_eq!(
            key("https://ghe.corp.example:8443/Org/Repo.git"),
            key("ssh://git@ghe.corp.example:2222/Org/Repo.git")
        );
        assert_eq!(
            key("git@ghe.corp.example:Org/Repo.git").as_deref(),
            Some("ghe.corp.example/Org/Repo")
        );
        assert_eq!(
            key("ssh://git@[::1]:2222/srv/repo.git").as_deref(),
            Some("::1/srv/repo")
        );
    }

    #[test]
    fn unknown_hosts_keep_the_case_of_their_path() {
        assert_eq!(
            key("ssh://git@Example.COM/Team/Repo.git").as_deref(),
            Some("example.com/Team/Repo")
        );
        assert_ne!(
            key("git@example.com:team/Repo"),
            key("git@example.com:team/repo")
        );
        // A single segment is a valid path on a plain ssh server.
        assert_eq!(
            key("git@example.com:repo.git").as_deref(),
            Some("example.com/repo")
        );
    }

    #[test]
    fn gitlab_subgroups_keep_every_segment() {
        assert_eq!(
            key("git@gitlab.com:Group/Sub/Repo.git").as_deref(),
            Some("gitlab.com/group/sub/repo")
        );
        assert_eq!(
            key("https://gitlab.com/group/sub/repo"),
            key("ssh://git@altssh.gitlab.com:443/group/sub/repo.git")
        );
    }

    #[test]
    fn bitbucket_with_a_user_in_the_url() {
        assert_eq!(
            key("https://someone@bitbucket.org/Workspace/Repo.git").as_deref(),
            Some("bitbucket.org/workspace/repo")
        );
        assert_eq!(
            key("git@bitbucket.org:workspace/repo.git").as_deref(),
            Some("bitbucket.org/workspace/repo")
        );
    }

    #[test]
    fn azure_devops_ssh_and_https_match() {
        assert_eq!(
            key("https://dev.azure.com/Org/Project/_git/Repo").as_deref(),
            Some("dev.azure.com/org/project/repo")
        );
        assert_eq!(
            key("git@ssh.dev.azure.com:v3/Org/Project/Repo").as_deref(),
            Some("dev.azure.com/org/project/repo")
        );
        assert_eq!(
            key("https://Org@dev.azure.com/Org/Project/_git/Repo"),
            key("git@ssh.dev.azure.com:v3/org/project/repo")
        );
    }

    #[test]
    fn subdomains_of_github_fold_but_other_hosts_stay_distinct() {
        assert_eq!(
            key("https://tenant.ghe.com/org/repo").as_deref(),
            Some("tenant.ghe.com/org/repo")
        );
        assert_ne!(
            key("https://github.example.com/org/repo"),
            key("https://github.com/org/repo")
        );
        assert_eq!(
            key("git@ssh.github.com:org/repo").as_deref(),
            Some("github.com/org/repo")
        );
    }

    #[test]
    fn local_paths_and_junk_are_not_remotes() {
        for remote in [
            "",
            "   ",
            "/home/me/repo",
            "./repo",
            "../repo",
            "repo",
            "file:///home/me/repo.git",
            "C:\\Users\\me\\repo",
            "C:/Users/me/repo",
            "c:repo",
            "./dir:with/colon",
            "https://github.com",
            "https://github.com/",
            "https://github.com/org",
            "git@github.com:",
            "git@github.com:org",
            "ftpx://host/repo",
            "https://exa mple.com/repo",
            "https://host/../etc/passwd",
            "git@:org/repo",
            "https://user@/org/repo",
        ] {
            assert_eq!(key(remote), None, "{remote:?}");
        }
    }

    #[test]
    fn non_ascii_paths_do_not_panic() {
        assert_eq!(
            key("https://example.com/équipe/dépôt").as_deref(),
            Some("example.com/équipe/dépôt")
        );
        assert_eq!(key("git@example.com:é"), Some("example.com/é".to_owned()));
    }

    #[test]
    fn dot_git_alone_is_kept_when_it_is_the_whole_name() {
        // A repository literally named `.git` is odd but real; we do not strip it to nothing.
        assert_eq!(
            key("git@example.com:team/.git").as_deref(),
            Some("example.com/team/.git")
        );
    }

    #[test]
    fn parse_exposes_owner_and_name() {
        let remote = parse("git@github.com:Org/Repo.git").unwrap();
        assert_eq!(remote.host, "github.com");
        assert_eq!(remote.owner_and_name(), Some(("org", "repo")));
        assert_eq!(remote.name(), "repo");
        assert_eq!(remote.to_string(), "github.com/org/repo");
        let deep = parse("https://gitlab.com/a/b/c.git").unwrap();
        assert_eq!(deep.name(), "c");
        assert_eq!(parse("git@host:solo").unwrap().owner_and_name(), None);
    }

    #[test]
    fn same_repository_compares_keys() {
        assert!(same_repository(
            "git@github.com:Org/Repo.git",
            "https://www.github.com/org/repo/"
        ));
        assert!(!same_repository(
            "git@github.com:org/repo.git",
            "git@github.com:org/repo2.git"
        ));
        assert!(!same_repository("/local/path", "/local/path"));
    }
}
