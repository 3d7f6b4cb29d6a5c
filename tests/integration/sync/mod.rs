//! The sync service against a real cluster: the Electric protocol as clients see it,
//! consistency between snapshot and stream, and recovery from restarts and lost connections.

mod conformance;
mod conformance_subqueries;
mod conformance_subsets;
mod consistency;
mod protocol;
mod subqueries;
mod subsets;
pub mod support;
