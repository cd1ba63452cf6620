//! The `prepsync` service: configuration, token checks, the GraphQL schema and the HTTP
//! server. It translates requests into application use cases and their answers into GraphQL;
//! it holds no business rules and never touches SQL directly.
//!
//! - [`cli`]: the `prepsync` command line.
//! - [`config`]: settings from the environment and an optional `.env` file.
//! - `demo`: `prepsync demo`, the one-command quickstart (builds with the `demo` feature).
//! - [`auth`]: bearer tokens (JWT) and development tokens.
//! - [`graphql`]: the schema, its types and its error codes.
//! - [`server`]: routes, health checks and graceful shutdown.
//! - [`state`]: wiring use cases to their PostgreSQL and vault implementations.
//! - [`telemetry`]: JSON logs through tracing.

pub mod auth;
pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod graphql;
pub mod server;
pub mod state;
pub mod telemetry;
