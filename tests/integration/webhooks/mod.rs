//! GitHub and Linear against the whole server: signed webhooks with real example payloads
//! change rows (and a shape stream through the proxy sees it), bad signatures, replays and
//! stale deliveries change nothing, and repositories are imported from a stand-in GitHub that
//! paginates like the real one.

mod end_to_end;
mod github;
mod import;
mod linear;
mod support;
