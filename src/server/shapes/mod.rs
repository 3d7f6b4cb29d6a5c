//! The sync service: Electric's HTTP Shape API served from Postgres logical replication.
//!
//! [`ShapeService::start`] checks the database (logical WAL, the publication), makes sure the
//! replication slot exists, brings back the shapes kept under the data dir, and starts the
//! replication stream; [`ShapeService::router`] serves `/v1/shape` and `/v1/health`.
//! Modules: `request` (query parsing), `definition` (what a shape is and how a row change maps
//! onto it), `where_clause` (parse, check, evaluate, render), `registry` (shapes by handle and
//! the routing index), `shape` and `log` (one shape's state and its file; `positional` reads
//! and writes that file at a position, on Unix and Windows alike), `snapshot`, `replication`
//! and `pgoutput` (the stream), `message` and `offset` (Electric's wire format),
//! `http` (responses, caching, long-poll) and `sse` (the event-stream live mode).

mod copy_text;
pub mod definition;
mod field_errors;
mod http;
pub mod log;
pub mod message;
mod moves;
pub mod offset;
pub mod pgoutput;
mod positional;
pub mod registry;
pub mod replication;
pub mod request;
pub mod schema;
mod service;
pub mod shape;
pub mod snapshot;
mod sse;
pub mod subset;
pub mod where_clause;
mod word;

pub use service::{ServeError, ShapeLimits, ShapeService, ShapeServiceConfig, ShapeServiceError};
