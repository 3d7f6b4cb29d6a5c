//! `superset-server seed`: a realistic, deterministic team for demos, tests and benchmarks.
//!
//! [`generate`] is pure: the same [`SeedConfig`] (seed number, sizes and reference time) always
//! yields the same organizations, people, repositories, tasks and workspaces ([`Team`]).
//! [`insert`] writes them in one transaction with array-`unnest` inserts, so 100,000 tasks take
//! seconds. `catalog` holds the names and words they are made of.

mod catalog;
mod generate;
mod insert;
mod team;

pub use generate::generate;
pub use insert::{SeedError, insert, is_empty, set_passwords, wipe};
pub use team::{Member, Organization, Repository, SeedConfig, Task, Team, User, Workspace};
