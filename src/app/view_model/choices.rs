//! What the task editors offer: each organization's statuses with their colours (the usual
//! Backlog … Canceled where the organization has no tracker of its own yet) and its members.

use std::collections::HashMap;

use rusqlite::Connection;

use super::model::{Status, Task, ViewModel};
use crate::store::StoreError;

/// The statuses a new organization starts with, with Linear's colours.
pub const DEFAULT_STATUSES: [(&str, [u8; 3]); 6] = [
    ("Backlog", [0xbe, 0xc2, 0xc8]),
    ("Todo", [0xe2, 0xe2, 0xe2]),
    ("In Progress", [0xf2, 0xc9, 0x4c]),
    ("In Review", [0x4c, 0xb7, 0x82]),
    ("Done", [0x5e, 0x6a, 0xd2]),
    ("Canceled", [0x95, 0xa2, 0xb3]),
];

/// The statuses of `tasks` (one organization's, in tree order) with the colour each was last
/// seen with; where no task comes from a tracker, the default statuses not used yet follow.
pub(super) fn statuses_of<'a>(tasks: impl Iterator<Item = &'a Task>) -> Vec<Status> {
    let mut statuses: Vec<Status> = Vec::new();
    let mut tracked = false;
    for task in tasks {
        tracked |= task.provider.is_some();
        match statuses.iter_mut().find(|s| s.name == task.status) {
            Some(status) => {
                status.color = status.color.or(task.status_color);
            }
            None => statuses.push(Status {
                name: task.status.to_string(),
                color: task.status_color,
            }),
        }
    }
    if !tracked {
        for (name, color) in DEFAULT_STATUSES {
            match statuses.iter_mut().find(|s| s.name == name) {
                Some(status) => status.color = status.color.or(Some(color)),
                None => statuses.push(Status {
                    name: name.to_owned(),
                    color: Some(color),
                }),
            }
        }
    }
    statuses
}

impl ViewModel {
    /// Each organization's members, by name.
    pub(super) fn load_members(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let mut statement =
            conn.prepare_cached("SELECT organization_id, user_id FROM organization_members")?;
        let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        let mut members: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            let (organization, user) = row?;
            members.entry(organization).or_default().push(user);
        }
        for list in members.values_mut() {
            list.sort_by_cached_key(|id| {
                self.people
                    .get(id)
                    .map(|p| p.name.to_lowercase())
                    .unwrap_or_default()
            });
            list.dedup();
        }
        self.members = members;
        Ok(())
    }

    /// The statuses offered for tasks of `organization` (the defaults when it has none).
    pub fn status_choices(&self, organization: &str) -> Vec<Status> {
        self.statuses
            .get(organization)
            .cloned()
            .unwrap_or_else(|| statuses_of(std::iter::empty()))
    }
}
