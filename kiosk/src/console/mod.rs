//! The staff console (feature `console`, binary `staff-console`): officers
//! watch every lane live in an ordinary browser, acknowledge alarms, resolve
//! referrals, read statistics and the audit log; lanes sync their records to
//! it ([`crate::uplink`]). See docs/staff-console.md.
//!
//! - [`db`]: the console's SQLite: accounts, sessions, what the lanes synced;
//! - [`auth`]: Argon2id passwords, sessions, CSRF tokens, roles, rate limits;
//! - [`audit`]: the hash-chained audit log of every staff action;
//! - [`web`]: axum routes, the page, server-sent events, the lane endpoint.

pub mod audit;
pub mod auth;
pub mod db;
pub mod web;
