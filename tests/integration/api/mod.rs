//! The API server against a real cluster, on a real loopback port: sign-in and tokens, the
//! org-scoped Electric proxy, writes and their txids, and organization management.

mod auth;
mod orgs;
mod proxy;
pub mod support;
mod writes;
