//! GitHub and Linear against the whole server: signed webhooks with real example payloads
//! change rows (and a shape stream through the proxy sees it), bad signatures, replays and
//! stale deliveries change nothing, repositories are imported from a stand-in GitHub that
//! paginates like the real one, and a workspace's pull request is looked up from it.

mod end_to_end;
mod github;
mod github_stand_in;
mod import;
mod linear;
mod pull_request_lookup;
mod support;
