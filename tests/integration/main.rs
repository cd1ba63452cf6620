//! Cross-crate and process-level tests of External Sync against a real PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

/// The `prepsync` command line built for these tests.
pub const PREPSYNC: &str = env!("CARGO_BIN_EXE_prepsync-under-test");

mod access;
mod connection_deletion;
mod connections;
mod demo;
mod demo_cluster;
mod e2e;
mod event_log;
mod history;
mod kill;
mod mapping;
mod planning;
mod process;
mod projection_runtime;
mod read_models;
mod read_models_input;
mod scheduler;
mod scheduler_process;
mod schema;
mod secrets;
mod subscriptions;
mod sync;
mod sync_faults;
mod sync_store;
mod sync_support;
mod test_connection;
