//! Integration tests: one binary, against real throwaway PostgreSQL clusters and real SQLite
//! files (see `superset::testkit`).

mod admin_cli;
mod api;
mod attacks;
mod demo;
mod deploy;
mod desktop;
mod layers;
mod packaging;
mod pgoutput_capture;
mod postgres_schema;
mod seed;
mod sqlite_store;
mod support;
mod sync;
mod testkit;
mod webhooks;
mod where_against_postgres;
mod window;
mod workspaces;
