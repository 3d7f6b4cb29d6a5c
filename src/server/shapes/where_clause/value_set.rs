//! The values a subquery currently yields, kept per inner row: each row that matches the
//! subquery contributes its value (and, for a subquery with subqueries of its own, its values
//! in the columns those constrain). Setting a row is idempotent — the same row read twice, once
//! by a move-in and once from the stream, counts once — and a value leaves the set only when
//! its last row does.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What one inner row gives its subquery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The selected column's value.
    pub value: String,
    /// The row's values in the columns its nested subqueries constrain, in their order.
    pub pinned: Vec<Option<String>>,
}

/// Values that entered and left a set.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Transitions {
    pub gained: Vec<String>,
    pub lost: Vec<String>,
}

impl Transitions {
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty() && self.lost.is_empty()
    }

    /// Adds `other`'s; a value both lost and gained (a row moved between keys) cancels out.
    pub fn extend(&mut self, other: Transitions) {
        for value in other.gained {
            match self.lost.iter().position(|v| *v == value) {
                Some(i) => drop(self.lost.swap_remove(i)),
                None => self.gained.push(value),
            }
        }
        for value in other.lost {
            match self.gained.iter().position(|v| *v == value) {
                Some(i) => drop(self.gained.swap_remove(i)),
                None => self.lost.push(value),
            }
        }
    }
}

#[derive(Debug, Default)]
struct Members {
    rows: HashMap<String, Contribution>,
    counts: HashMap<String, u32>,
}

/// The rows a subquery matches, by key, and how many yield each value.
#[derive(Debug, Default)]
pub struct ValueSet {
    members: RwLock<Members>,
}

impl ValueSet {
    pub fn contains(&self, value: &str) -> bool {
        self.read().counts.contains_key(value)
    }

    /// Row `key` now contributes `contribution` (`None`: it matches no more, or is gone).
    pub fn set_row(&self, key: &str, contribution: Option<Contribution>) -> Transitions {
        let mut members = self.write();
        let before = match &contribution {
            Some(c) => members.rows.insert(key.to_owned(), c.clone()),
            None => members.rows.remove(key),
        };
        let mut transitions = Transitions::default();
        let old = before.map(|c| c.value);
        let new = contribution.map(|c| c.value);
        if old == new {
            return transitions;
        }
        if let Some(value) = new {
            let count = members.counts.entry(value.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                transitions.gained.push(value);
            }
        }
        if let Some(value) = old
            && let Some(count) = members.counts.get_mut(&value)
        {
            *count -= 1;
            if *count == 0 {
                members.counts.remove(&value);
                transitions.lost.push(value);
            }
        }
        transitions
    }

    /// The keys of the rows whose `nested`-th pinned value is `value`.
    pub fn rows_pinned(&self, nested: usize, value: &str) -> Vec<String> {
        self.read()
            .rows
            .iter()
            .filter(|(_, c)| {
                c.pinned
                    .get(nested)
                    .is_some_and(|p| p.as_deref() == Some(value))
            })
            .map(|(key, _)| key.clone())
            .collect()
    }

    fn read(&self) -> RwLockReadGuard<'_, Members> {
        self.members.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Members> {
        self.members.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gives(value: &str) -> Option<Contribution> {
        Some(Contribution {
            value: value.to_owned(),
            pinned: vec![Some(format!("p-{value}"))],
        })
    }

    #[test]
    fn a_value_stays_while_any_row_yields_it_and_rows_count_once() {
        let set = ValueSet::default();
        assert_eq!(set.set_row("r1", gives("a")).gained, ["a"]);
        assert!(
            set.set_row("r1", gives("a")).is_empty(),
            "the same row again"
        );
        assert!(set.set_row("r2", gives("a")).is_empty());
        assert!(set.set_row("r1", None).is_empty(), "r2 still yields a");
        let moved = set.set_row("r2", gives("b"));
        assert_eq!(
            (moved.gained, moved.lost),
            (vec!["b".to_owned()], vec!["a".to_owned()])
        );
        assert!(!set.contains("a") && set.contains("b"));
        assert_eq!(set.rows_pinned(0, "p-b"), ["r2"]);
        assert_eq!(set.set_row("r2", None).lost, ["b"]);
        assert!(set.set_row("gone", None).is_empty(), "an unknown row");
        assert!(!set.contains("a") && !set.contains("b"));
    }
}
