//! Who the demo is: the seeded user it signs in as, and every demo user's password.

use crate::server::seed;

/// Every demo user's password.
pub const DEMO_PASSWORD: &str = "superset";

/// The demo signs in as the seeded user who belongs to both organizations.
pub fn demo_user() -> String {
    seed::generate(&seed::SeedConfig::default()).users[0]
        .email
        .clone()
}
