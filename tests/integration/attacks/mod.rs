//! The attack suite: one test per finding of the attack review of a live server (a plain member
//! of one organization as the attacker, a seeded team, signed webhooks). Each drives the attack
//! as the review did and asserts the refusal and that Postgres and the victim's synced data are
//! unchanged.

mod abuse;
mod cross_org;
mod edges;
mod sessions;
mod support;
