//! The server side: everything `superset-server` runs against Postgres.
//!
//! `db` connects, `migrate` applies the schema in `migrations/postgres`, and `seed` fills a
//! database with a realistic team for demos, tests and benchmarks.

pub mod db;
pub mod migrate;
pub mod seed;
pub mod shapes;
