//! The values a subquery currently yields: a count per value of the inner rows that produce
//! it, so a value leaves the set only when its last row does.

use std::collections::HashMap;
use std::sync::RwLock;

/// How many inner rows yield each value. A value is in the set while its count is above zero.
#[derive(Debug, Default)]
pub struct ValueSet {
    counts: RwLock<HashMap<String, u32>>,
}

impl ValueSet {
    pub fn contains(&self, value: &str) -> bool {
        self.read().contains_key(value)
    }

    /// Counts one more row for `value`; true when the value was not in the set before.
    pub fn add(&self, value: &str) -> bool {
        let mut counts = self.counts.write().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(value.to_owned()).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// Counts one row fewer for `value`; true when that took the value out of the set.
    pub fn remove(&self, value: &str) -> bool {
        let mut counts = self.counts.write().unwrap_or_else(|e| e.into_inner());
        match counts.get_mut(value) {
            Some(1) => {
                counts.remove(value);
                true
            }
            Some(count) => {
                *count -= 1;
                false
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, u32>> {
        self.counts.read().unwrap_or_else(|e| e.into_inner())
    }
}
