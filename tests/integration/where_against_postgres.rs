//! The where-clause evaluator agrees with Postgres itself.
