//! Text many tasks share — their organization, repository, status, priority, assignee, tracker,
//! due date and set of labels — held once: a [`Shared`] is a reference-counted `str`, [`Labels`]
//! a reference-counted list of them, and an [`Interner`] hands out one per distinct value while
//! a model is read, so 100,000 tasks carry a few hundred allocations for these fields rather
//! than 800,000. A `Shared` reads and compares like the `String` it replaces, `Labels` like a
//! slice.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// Text shared by every row that has the same value: one pointer wide (the text's length lives
/// with the text), so a row pays 8 bytes for it, or for its absence.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shared(Arc<Box<str>>);

impl Shared {
    pub fn as_str(&self) -> &str {
        &self.0[..]
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::from("")
    }
}

impl Deref for Shared {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Shared {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Shared {
    fn from(text: &str) -> Self {
        Self(Arc::new(Box::from(text)))
    }
}

impl From<String> for Shared {
    fn from(text: String) -> Self {
        Self(Arc::new(text.into_boxed_str()))
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Shared {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Shared> for String {
    fn eq(&self, other: &Shared) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Shared> for str {
    fn eq(&self, other: &Shared) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Shared> for &str {
    fn eq(&self, other: &Shared) -> bool {
        *self == other.as_str()
    }
}

/// A task's labels, shared by every task with the same ones (tasks use a few sets of labels);
/// none costs no allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Option<Arc<[Shared]>>);

/// Hashed as the slice it holds, so that a set can be found by a slice (`Borrow<[Shared]>`).
impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl Deref for Labels {
    type Target = [Shared];

    fn deref(&self) -> &[Shared] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl Borrow<[Shared]> for Labels {
    fn borrow(&self) -> &[Shared] {
        self
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Shared;
    type IntoIter = std::slice::Iter<'a, Shared>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<Shared> for Labels {
    fn from_iter<I: IntoIterator<Item = Shared>>(labels: I) -> Self {
        let labels: Arc<[Shared]> = labels.into_iter().collect();
        Self((!labels.is_empty()).then_some(labels))
    }
}

impl serde::Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// One [`Shared`] per distinct text, and one [`Labels`] per distinct set, for the length of a
/// load.
#[derive(Debug, Default)]
pub struct Interner {
    known: HashSet<Shared>,
    label_sets: HashSet<Labels>,
    /// The labels being looked up, reused from one task to the next.
    scratch: Vec<Shared>,
}

impl Interner {
    pub fn get(&mut self, text: &str) -> Shared {
        if let Some(shared) = self.known.get(text) {
            return shared.clone();
        }
        let shared = Shared::from(text);
        self.known.insert(shared.clone());
        shared
    }

    pub fn get_optional(&mut self, text: Option<&str>) -> Option<Shared> {
        text.map(|text| self.get(text))
    }

    /// The labels `names`, in their order.
    pub fn labels<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Labels {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.extend(names.into_iter().map(|name| self.get(name)));
        let labels = match self.label_sets.get(scratch.as_slice()) {
            Some(known) => known.clone(),
            None => {
                let new: Labels = scratch.iter().cloned().collect();
                self.label_sets.insert(new.clone());
                new
            }
        };
        scratch.clear();
        self.scratch = scratch;
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_allocation_and_compare_like_strings() {
        let mut interner = Interner::default();
        let (a, b) = (interner.get("Todo"), interner.get(&String::from("Todo")));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        let owned = String::from("Todo");
        assert!(a == "Todo" && a == *"Todo" && a == owned);
        assert!(owned == a && "Todo" == a);
        assert_eq!(format!("{a} {a:?}"), "Todo \"Todo\"");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"Todo\"");
    }

    #[test]
    fn equal_label_sets_share_one_allocation_and_none_allocates_nothing() {
        let mut interner = Interner::default();
        let a = interner.labels(["bug", "ui"]);
        let b = interner.labels(["bug", "ui"].map(String::from).iter().map(String::as_str));
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        assert_ne!(a, interner.labels(["ui", "bug"]));
        assert_eq!(interner.labels([]), Labels::default());
        assert!(Labels::default().is_empty());
        assert_eq!(serde_json::to_string(&a).unwrap(), r#"["bug","ui"]"#);
    }
}
