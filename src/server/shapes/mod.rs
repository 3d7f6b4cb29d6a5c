//! The sync service: Electric's HTTP Shape API served from Postgres logical replication.

pub mod pgoutput;
pub mod schema;
pub mod where_clause;
