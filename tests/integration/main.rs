//! Integration tests: one binary, against real throwaway PostgreSQL clusters and real SQLite
//! files (see `superset::testkit`).

mod postgres_schema;
mod seed;
mod sqlite_store;
mod testkit;
