//! Cross-crate and process-level tests of External Sync against a real PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod access;
mod connections;
mod event_log;
mod process;
mod schema;
mod secrets;
