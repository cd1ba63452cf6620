//! Test support for External Sync: a fresh, migrated PostgreSQL database per test, the service
//! running in-process on a random port, the real `prepsync` binary (alone or as replicas on
//! one database), tokens and a GraphQL client. Everything talks to a real PostgreSQL over a
//! real connection.
//!
//! The server is found at `PREPSYNC_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`.
//!
//! - [`read_models`]: Sales Records totals through the API and from the sandbox;
//! - [`schedule`]: scheduled connections and the checks on their runs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod app;
mod binary;
mod database;
pub mod read_models;
mod replica;
pub mod schedule;

pub use app::{http_client, TestApp, JWT_SECRET};
pub use binary::ServiceProcess;
pub use database::{admin_url, TestDatabase};
pub use replica::{admin_token, free_port, generated_sandbox, Replica};

use serde_json::Value;

/// Anything that answers GraphQL documents: the in-process [`TestApp`] or a [`Replica`].
#[allow(async_fn_in_trait)]
pub trait Graphql {
    /// Posts a document with a bearer token and returns the whole response body.
    async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value;
}

impl Graphql for TestApp {
    async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        TestApp::graphql(self, token, query, variables).await
    }
}
