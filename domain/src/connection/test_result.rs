//! The outcome of testing a connection against its Odoo server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How far a connection test got, in the order the stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TestStage {
    /// Reaching the server at all.
    Reach,
    /// Reading its version.
    Version,
    /// Finding the database.
    Database,
    /// Authenticating with the username and API key.
    Authenticate,
    /// Checking read access to sales orders and lines.
    Access,
    /// Checking the fields the sync needs.
    Fields,
    /// Validating the filter and counting the orders it matches.
    Filter,
    /// Every stage passed.
    Done,
}

/// The protocol a test settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResolvedProtocol {
    /// Odoo 19's JSON-2 API.
    Json2,
    /// The legacy JSON-RPC endpoint.
    Jsonrpc,
    /// The legacy XML-RPC endpoints.
    Xmlrpc,
}

/// A warning that does not fail the test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestWarning {
    /// Machine-readable code, such as `OWN_DOCUMENTS_ONLY`.
    pub code: String,
    /// What the user should know.
    pub message: String,
}

/// Why a test failed, in the terms of the troubleshooting guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestFailure {
    /// One of the `ODOO_*` codes.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

/// The recorded result of one connection test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTestResult {
    /// Whether every stage passed.
    pub ok: bool,
    /// The stage that failed, or `Done`.
    pub stage: TestStage,
    /// The protocol used, once known.
    pub protocol: Option<ResolvedProtocol>,
    /// The server's version, once known.
    pub server_version: Option<String>,
    /// When the test ran.
    pub tested_at: DateTime<Utc>,
    /// How many orders the connection's scope matches, once counted.
    pub matching_orders: Option<u64>,
    /// Warnings that did not fail the test.
    pub warnings: Vec<TestWarning>,
    /// Why the test failed.
    pub error: Option<TestFailure>,
}
