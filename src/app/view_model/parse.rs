//! Reading stored text into what the window draws: timestamps (as Postgres prints them or as
//! RFC 3339), `#rrggbb` colours and the `git_status` JSON. Used for synced rows and for the
//! pending writes laid over them alike.

use serde_json::Value;
use time::OffsetDateTime;

use crate::gitlink::local::GitState;

/// Reads timestamps as Postgres prints them (`2026-11-25 10:32:00.5+00`) or as RFC 3339.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let mut normal = text.trim().replacen(' ', "T", 1);
    if normal.ends_with('Z') {
        return OffsetDateTime::parse(&normal, &Rfc3339).ok();
    }
    // `+00` → `+00:00`, `+0530` → `+05:30`.
    if let Some(sign) = normal.rfind(['+', '-']).filter(|&i| i > 10) {
        let zone = normal[sign + 1..].replace(':', "");
        let zone = match zone.len() {
            2 => format!("{zone}:00"),
            4 => format!("{}:{}", &zone[..2], &zone[2..]),
            _ => return None,
        };
        normal.truncate(sign + 1);
        normal.push_str(&zone);
    } else {
        normal.push('Z');
    }
    OffsetDateTime::parse(&normal, &Rfc3339).ok()
}

/// A workspace's `git_status` JSON (`{"uncommitted", "ahead", "behind"}`).
pub fn parse_git(text: &str) -> Option<GitState> {
    let value: Value = serde_json::from_str(text).ok()?;
    let count = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_u64)
            .map_or(0, |n| n as u32)
    };
    Some(GitState {
        branch: None,
        uncommitted: count("uncommitted"),
        upstream: false,
        ahead: count("ahead"),
        behind: count("behind"),
    })
}

/// `#rrggbb` to RGB.
pub fn parse_color(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}
