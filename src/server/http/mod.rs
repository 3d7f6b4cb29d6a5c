//! What every HTTP feature of the server shares, below them all: the one error type and its
//! JSON format (`error`), extractors whose rejections use it (`extract`), and who the caller is
//! (`auth`: access tokens, the `AuthUser` extractor, roles in an organization). The API and the
//! integrations build on these and never on each other; `server::app` merges their routes.

pub mod auth;
pub mod error;
pub mod extract;
