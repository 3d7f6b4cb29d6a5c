//! The tree's ordering (status groups, priorities) and the words for time: Postgres and RFC 3339
//! timestamps read, and "active now" / "idle 15m ago" from `last_activity_at` at a given clock.

use time::OffsetDateTime;

use super::Workspace;

/// Order of the status groups: work in flight first, finished work last.
pub fn status_rank(status: &str) -> u8 {
    match status {
        "In Progress" => 0,
        "In Review" => 1,
        "Todo" => 2,
        "Backlog" => 3,
        "Done" => 5,
        "Canceled" => 6,
        _ => 4,
    }
}

pub fn priority_rank(priority: &str) -> u8 {
    match priority {
        "urgent" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

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

/// How long ago someone was active, as the task tree says it.
pub fn presence_text(workspace: &Workspace, now: OffsetDateTime) -> String {
    if workspace.status == "archived" {
        return "archived".to_owned();
    }
    let Some(last) = workspace.last_activity_at else {
        return "never active".to_owned();
    };
    let minutes = (now - last).whole_minutes().max(0);
    if minutes < 2 && workspace.status == "active" {
        return "active now".to_owned();
    }
    let ago = match minutes {
        0..=59 => format!("{}m", minutes.max(1)),
        60..=1439 => format!("{}h", minutes / 60),
        _ => format!("{}d", minutes / 1440),
    };
    format!("idle {ago} ago")
}
