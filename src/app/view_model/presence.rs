//! The words for time in the task tree: "active now" / "idle 15m ago" from a workspace's
//! `last_activity_at`, at a given clock (so tests can fix it).

use time::OffsetDateTime;

use super::model::Workspace;

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
