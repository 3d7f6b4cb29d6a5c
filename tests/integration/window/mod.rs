//! The desktop window, driven through AccessKit with egui_kittest against a real server and a
//! real SQLite profile (no display needed), plus the view model pinned with insta snapshots and
//! a smoke test of the real binary under Xvfb.

mod conflicts;
mod device;
mod flows;
mod folders;
mod invitations;
mod layout;
mod notifications;
mod smoke;
pub mod support;
mod task_edits;
mod view_model;
mod workspaces;
