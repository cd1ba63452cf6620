//! Test support for External Sync: a fresh, migrated PostgreSQL database per test, the service
//! running in-process on a random port, the real `prepsync` binary, tokens and a GraphQL
//! client. Everything talks to a real PostgreSQL over a real connection.
//!
//! The server is found at `PREPSYNC_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod app;
mod binary;
mod database;

pub use app::{http_client, TestApp, JWT_SECRET};
pub use binary::ServiceProcess;
pub use database::{admin_url, TestDatabase};
