//! A task's own text — id, key, title, branch, link and description — kept in one allocation
//! with the offsets where each field ends, rather than as six `String`s: 100,000 tasks hold
//! 100,000 allocations for their text instead of up to 600,000, and each task 40 bytes for it
//! instead of 144. The fields read as `&str`; changing one rebuilds the text, which only a
//! pending write does.

use std::fmt;

/// One of a task's text fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Id,
    /// What the tree shows (`ACME-18`, or `new` before the server numbers it).
    Key,
    Title,
    Branch,
    ExternalUrl,
    Description,
}

const FIELDS: usize = 6;

/// The fields in their order in the text.
const ORDER: [TextField; FIELDS] = [
    TextField::Id,
    TextField::Key,
    TextField::Title,
    TextField::Branch,
    TextField::ExternalUrl,
    TextField::Description,
];

/// A task's text fields, each present or absent (an empty branch is not a missing one).
#[derive(Clone, PartialEq, Eq)]
pub struct TaskText {
    text: Box<str>,
    /// Where each field but the last ends in `text`; the last ends with it.
    ends: [u32; FIELDS - 1],
    /// One bit per field, in [`ORDER`]: set when the field is present.
    present: u8,
}

impl TaskText {
    /// The text of `fields`, given in [`ORDER`]: id, key, title, branch, link, description.
    ///
    /// A task's text is bounded by SQLite's largest value (1 GB), so every offset fits a `u32`.
    pub fn new(fields: [Option<&str>; FIELDS]) -> Self {
        let length = fields.iter().flatten().map(|f| f.len()).sum();
        let mut text = String::with_capacity(length);
        let mut ends = [0; FIELDS - 1];
        let mut present = 0;
        for (i, field) in fields.iter().enumerate() {
            if let Some(value) = field {
                text.push_str(value);
                present |= 1 << i;
            }
            if let Some(end) = ends.get_mut(i) {
                *end = u32::try_from(text.len()).expect("a task's text is under 4 GiB");
            }
        }
        Self {
            text: text.into_boxed_str(),
            ends,
            present,
        }
    }

    /// The field's text, or `None` when it is absent.
    pub fn get(&self, field: TextField) -> Option<&str> {
        let i = field as usize;
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends.get(i).map_or(self.text.len(), |&e| e as usize);
        Some(&self.text[start..end])
    }

    /// Sets one field, keeping the others.
    pub fn set(&mut self, field: TextField, value: Option<&str>) {
        let mut fields = ORDER.map(|f| self.get(f));
        fields[field as usize] = value;
        *self = Self::new(fields);
    }
}

impl fmt::Debug for TaskText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for field in ORDER {
            map.entry(&field, &self.get(field));
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_reads_back_as_given_and_absent_differs_from_empty() {
        let text = TaskText::new([
            Some("5f0c"),
            Some("ACME-18"),
            Some("Fix the login — ünïcode"),
            Some(""),
            None,
            Some("Steps:\n1. sign in"),
        ]);
        assert_eq!(text.get(TextField::Id), Some("5f0c"));
        assert_eq!(text.get(TextField::Key), Some("ACME-18"));
        assert_eq!(text.get(TextField::Title), Some("Fix the login — ünïcode"));
        assert_eq!(text.get(TextField::Branch), Some(""));
        assert_eq!(text.get(TextField::ExternalUrl), None);
        assert_eq!(text.get(TextField::Description), Some("Steps:\n1. sign in"));
    }

    #[test]
    fn setting_a_field_keeps_the_others() {
        let mut text = TaskText::new([Some("id"), Some("new"), Some("t"), None, None, None]);
        text.set(TextField::Title, Some("A longer title"));
        text.set(TextField::Description, Some("why"));
        text.set(TextField::Key, Some("ACME-1"));
        text.set(TextField::Description, None);
        assert_eq!(
            text,
            TaskText::new([
                Some("id"),
                Some("ACME-1"),
                Some("A longer title"),
                None,
                None,
                None
            ])
        );
        assert_eq!(text.get(TextField::Title), Some("A longer title"));
    }
}
