//! The layering of `src/` (ARCHITECTURE.md), checked: every file's `use`s and paths are read,
//! each must point to a lower layer of its own side (or to the shared bottom), and no two files
//! may import each other, directly or round a cycle. A change that quietly undoes the layering
//! fails here, naming the file and the import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which modules may use which: a path prefix, its side and its rank. A file may import a
/// module of lower rank on its own side or the shared bottom; files under the same prefix may
/// import each other (without cycles). The longest matching prefix decides.
const LAYERS: &[(&str, Side, u8)] = &[
    ("protocol", Side::Shared, 0),
    ("gitlink::urls", Side::Shared, 0),
    ("localpg", Side::Shared, 0),
    ("store", Side::Desktop, 1),
    ("gitlink", Side::Desktop, 2),
    ("outbox", Side::Desktop, 3),
    ("sync", Side::Desktop, 4),
    ("profile", Side::Desktop, 5),
    ("invitations", Side::Desktop, 5),
    ("workspaces", Side::Desktop, 5),
    ("commands", Side::Desktop, 6),
    ("app", Side::Desktop, 6),
    ("server::db", Side::Server, 1),
    ("server::migrate", Side::Server, 1),
    ("server::seed", Side::Server, 2),
    ("server::shapes", Side::Server, 3),
    ("server::http", Side::Server, 4),
    ("server::api", Side::Server, 5),
    ("server::integrations", Side::Server, 5),
    ("server::app", Side::Server, 6),
    ("server::admin", Side::Server, 6),
    ("server::options", Side::Server, 6),
    ("server", Side::Server, 7),
    ("demo", Side::Top, 9),
    ("bench", Side::Top, 9),
    ("testkit", Side::Top, 9),
    ("bin", Side::Top, 10),
    ("", Side::Top, 11),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Shared,
    Desktop,
    Server,
    Top,
}

/// A source file: its module path (`["sync", "stream"]`; binaries under `["bin", name]`).
struct File {
    module: Vec<String>,
    is_dir_module: bool,
    text: String,
}

fn read_sources(dir: &Path, files: &mut BTreeMap<PathBuf, File>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_sources(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(src()).unwrap().with_extension("");
            let mut module: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let is_dir_module = matches!(module.last().map(String::as_str), Some("mod" | "lib"));
            if is_dir_module {
                module.pop();
            }
            let text = without_tests(&without_comments(&std::fs::read_to_string(&path).unwrap()));
            files.insert(
                relative,
                File {
                    module,
                    is_dir_module,
                    text,
                },
            );
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The text without comments, string and char literals (paths in docs or messages are not
/// imports).
fn without_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        i += match rest {
            ['/', '/', ..] => rest.iter().position(|&c| c == '\n').unwrap_or(rest.len()),
            ['/', '*', ..] => block_comment_length(rest),
            ['r', '#', ..] | ['r', '"', ..] if !continues_word(&chars, i) => {
                out.push_str("\"\"");
                raw_string_length(rest)
            }
            ['"', ..] => {
                out.push_str("\"\"");
                string_length(rest)
            }
            ['\'', '\\', _, ..] => rest[3..]
                .iter()
                .position(|&c| c == '\'')
                .map_or(1, |p| p + 4),
            ['\'', _, '\'', ..] => 3,
            [c, ..] => {
                out.push(*c);
                1
            }
            [] => 1,
        };
    }
    out
}

fn continues_word(chars: &[char], at: usize) -> bool {
    at > 0 && (chars[at - 1].is_alphanumeric() || chars[at - 1] == '_')
}

fn block_comment_length(rest: &[char]) -> usize {
    rest.windows(2)
        .skip(2)
        .position(|w| w == ['*', '/'])
        .map_or(rest.len(), |p| p + 4)
}

fn string_length(rest: &[char]) -> usize {
    let mut i = 1;
    while i < rest.len() {
        match rest[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    rest.len()
}

/// `r#"…"#` with any number of `#`.
fn raw_string_length(rest: &[char]) -> usize {
    let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
    let body = 2 + hashes;
    let mut i = body;
    while i < rest.len() {
        if rest[i] == '"'
            && rest[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    rest.len()
}

/// The text before an inline `#[cfg(test)] mod …` block (its `super::*` is the file itself).
fn without_tests(text: &str) -> String {
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = rest[at + 12..].trim_start();
        if after.starts_with("mod ") && after.split('\n').next().is_some_and(|l| l.contains('{')) {
            return text[..text.len() - rest.len() + at].to_owned();
        }
        rest = &rest[at + 12..];
    }
    text.to_owned()
}

/// Every path that follows `prefix::` in `text`, with `{a, b::{c}}` groups expanded.
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let needle = format!("{prefix}::");
    let mut from = 0;
    while let Some(at) = text[from..].find(&needle) {
        let start = from + at;
        from = start + needle.len();
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        expand(&text[from..], Vec::new(), &mut found);
    }
    found
}

/// Reads one path (or brace group) at the start of `text`; returns how much it read.
fn expand(text: &str, prefix: Vec<String>, found: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix;
    let mut i = 0;
    let bytes = text.as_bytes();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'{' {
            i += 1;
            loop {
                i += expand(&text[i..], path.clone(), found);
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return i + 1;
                }
            }
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if start == i {
            found.push(path);
            return i;
        }
        path.push(text[start..i].to_owned());
        if text[i..].starts_with("::") {
            i += 2;
        } else {
            found.push(path);
            return i;
        }
    }
}

/// The file a module path lands in: the longest prefix that is a file.
fn resolve(modules: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<PathBuf> {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).cloned())
}

fn imports(files: &BTreeMap<PathBuf, File>) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .filter(|(path, _)| !path.starts_with("bin"))
        .map(|(path, file)| (file.module.clone(), path.clone()))
        .collect();
    let mut edges = BTreeMap::new();
    for (path, file) in files {
        let parent: Vec<String> = file.module[..file.module.len().saturating_sub(1)].to_vec();
        let mut targets = Vec::new();
        for kind in ["crate", "superset"] {
            targets.extend(paths_after(&file.text, kind));
        }
        let own = |segments: Vec<String>, base: &[String]| [base, &segments[..]].concat();
        for segments in paths_after(&file.text, "self") {
            targets.push(own(segments, &file.module));
        }
        for mut segments in paths_after(&file.text, "super") {
            let mut base = parent.clone();
            while segments.first().is_some_and(|s| s == "super") {
                segments.remove(0);
                base.pop();
            }
            targets.push(own(segments, &base));
        }
        if file.is_dir_module {
            for child in declared_modules(&file.text) {
                for segments in paths_after(&file.text, &child) {
                    targets.push(own([vec![child.clone()], segments].concat(), &file.module));
                }
            }
        }
        let found: BTreeSet<PathBuf> = targets
            .iter()
            .filter_map(|t| resolve(&modules, t))
            .filter(|t| t != path)
            .collect();
        edges.insert(path.clone(), found);
    }
    edges
}

/// The `mod name;` declarations of a module file.
fn declared_modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let line = line
                .strip_prefix("pub(crate) ")
                .or_else(|| line.strip_prefix("pub "))
                .unwrap_or(line);
            let name = line.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_owned())
        })
        .collect()
}

fn layer(file: &File, path: &Path) -> (&'static str, Side, u8) {
    let module = if path.starts_with("bin") {
        "bin".to_owned()
    } else {
        file.module.join("::")
    };
    LAYERS
        .iter()
        .filter(|(prefix, ..)| {
            prefix.is_empty() || module == *prefix || module.starts_with(&format!("{prefix}::"))
        })
        .max_by_key(|(prefix, ..)| prefix.len())
        .copied()
        .expect("the empty prefix matches everything")
}

fn may_import(from: (&str, Side, u8), to: (&str, Side, u8)) -> bool {
    if from.0 == to.0 {
        return true;
    }
    let side_ok = match from.1 {
        Side::Top => true,
        Side::Shared => to.1 == Side::Shared,
        side => to.1 == side || to.1 == Side::Shared,
    };
    side_ok && to.2 < from.2
}

/// Files that import each other, directly or round a cycle (each cycle once).
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    let reaches = |from: &PathBuf, to: &PathBuf| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(at) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == to {
                    return true;
                }
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        false
    };
    let mut found: Vec<Vec<PathBuf>> = Vec::new();
    for (from, targets) in edges {
        for to in targets {
            if reaches(to, from) {
                let mut pair = vec![from.clone(), to.clone()];
                pair.sort();
                if !found.contains(&pair) {
                    found.push(pair);
                }
            }
        }
    }
    found
}

#[test]
fn every_import_points_down_and_no_files_import_each_other() {
    let mut files = BTreeMap::new();
    read_sources(&src(), &mut files);
    assert!(
        files.len() > 50,
        "read only {} files under src/",
        files.len()
    );
    let edges = imports(&files);
    let mut wrong = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            let (a, b) = (layer(&files[from], from), layer(&files[to], to));
            if !may_import(a, b) {
                wrong.push(format!(
                    "{} ({}) imports {} ({})",
                    from.display(),
                    a.0,
                    to.display(),
                    b.0
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or across:\n{}",
        wrong.join("\n")
    );
    let cycles = cycles(&edges);
    assert!(
        cycles.is_empty(),
        "files in an import cycle (each pair reaches the other):\n{:#?}",
        cycles
    );
}

#[test]
fn the_reader_sees_grouped_and_nested_imports() {
    let found = paths_after("use crate::{a::b, c::{d, e::F}};", "crate");
    assert_eq!(
        found,
        [vec!["a", "b"], vec!["c", "d"], vec!["c", "e", "F"]]
            .map(|p| p.into_iter().map(str::to_owned).collect::<Vec<_>>())
    );
    assert!(paths_after("my_crate::x", "crate").is_empty());
    assert_eq!(
        without_comments("a // crate::x\n\"crate::y\" b"),
        "a \n\"\" b"
    );
    assert_eq!(
        without_comments("f('\"') + r#\"crate::z\"# + '\\''"),
        "f() + \"\" + "
    );
    assert_eq!(
        without_comments("fn f<'a>(x: &'a str)"),
        "fn f<'a>(x: &'a str)"
    );
}

#[test]
fn a_cycle_and_an_upward_import_are_caught() {
    let path = |p: &str| PathBuf::from(p);
    let edges = BTreeMap::from([
        (path("a"), BTreeSet::from([path("b")])),
        (path("b"), BTreeSet::from([path("c")])),
        (path("c"), BTreeSet::from([path("a")])),
        (path("d"), BTreeSet::from([path("a")])),
    ]);
    assert_eq!(
        cycles(&edges).len(),
        3,
        "a→b, b→c and c→a each close the loop"
    );
    let store = ("store", Side::Desktop, 1);
    let sync = ("sync", Side::Desktop, 4);
    let shapes = ("server::shapes", Side::Server, 3);
    assert!(may_import(sync, store) && !may_import(store, sync));
    assert!(!may_import(sync, shapes) && !may_import(shapes, store));
}
