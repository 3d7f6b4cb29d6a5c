//! What every HTTP feature of the server shares, below them all: the one error type and its
//! JSON format (`error`), extractors whose rejections use it (`extract`), the bounds on what
//! people send (`limits`), who the caller is (`auth`: access tokens, the `AuthUser` extractor,
//! roles in an organization), and the listener that serves it all with timeouts and a cap on
//! connections (`listener`). The API and the integrations build on these and never on each
//! other; `server::app` merges their routes.

pub mod auth;
pub mod error;
pub mod extract;
pub mod limits;
pub mod listener;
