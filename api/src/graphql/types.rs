//! GraphQL types and their conversions from domain views. No type here carries key material:
//! a connection only says whether a key is set and when it changed.

use application::access::{Caller, Role};
use async_graphql::{Enum, InputObject, MaybeUndefined, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use domain::connection::{
    ConnectionTestResult, ConnectionView, Protocol, ResolvedProtocol, SyncMode, TestStage,
};
use domain::sync_run::{RunStatus, SyncRun, SyncTrigger};

/// A caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "Role")]
pub enum RoleGql {
    /// Everything in the account.
    Admin,
    /// Sales records, runs, mapping and items.
    Member,
    /// Sales records and planning data, read-only.
    Planner,
    /// Sales records, runs and audit history, read-only.
    Auditor,
}

impl From<Role> for RoleGql {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => Self::Admin,
            Role::Member => Self::Member,
            Role::Planner => Self::Planner,
            Role::Auditor => Self::Auditor,
        }
    }
}

/// Who is calling.
#[derive(Debug, SimpleObject)]
pub struct Me {
    /// The token's subject.
    pub subject: String,
    /// The caller's account.
    pub account: ID,
    /// The caller's role.
    pub role: RoleGql,
}

impl From<&Caller> for Me {
    fn from(caller: &Caller) -> Self {
        Self {
            subject: caller.actor.as_str().to_owned(),
            account: ID(caller.account_id.to_string()),
            role: caller.role.into(),
        }
    }
}

/// An account and its settings.
#[derive(Debug, SimpleObject)]
pub struct Account {
    /// The account id.
    pub id: ID,
    /// The IANA time zone its dates are read in.
    pub time_zone: String,
}

/// New account settings.
#[derive(Debug, InputObject)]
pub struct AccountSettingsInput {
    /// An IANA time zone name, such as `Europe/Berlin`.
    pub time_zone: String,
}

/// The kind of system a connection reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SystemType {
    /// Odoo 14 to 19.
    Odoo,
}

/// When a connection syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "SyncMode")]
pub enum SyncModeGql {
    /// Only on "Sync Now".
    Manual,
    /// On its schedule, while active.
    Automatic,
}

impl From<SyncMode> for SyncModeGql {
    fn from(mode: SyncMode) -> Self {
        match mode {
            SyncMode::Manual => Self::Manual,
            SyncMode::Automatic => Self::Automatic,
        }
    }
}

impl From<SyncModeGql> for SyncMode {
    fn from(mode: SyncModeGql) -> Self {
        match mode {
            SyncModeGql::Manual => Self::Manual,
            SyncModeGql::Automatic => Self::Automatic,
        }
    }
}

/// Which API to speak to the Odoo server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ConnectionProtocol {
    /// JSON-2 on Odoo 19 and later, JSON-RPC before.
    Auto,
    /// Odoo 19's JSON-2 API.
    #[graphql(name = "JSON2")]
    Json2,
    /// The legacy JSON-RPC endpoint.
    #[graphql(name = "JSONRPC")]
    Jsonrpc,
    /// The legacy XML-RPC endpoints.
    #[graphql(name = "XMLRPC")]
    Xmlrpc,
}

impl From<Protocol> for ConnectionProtocol {
    fn from(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Auto => Self::Auto,
            Protocol::Json2 => Self::Json2,
            Protocol::Jsonrpc => Self::Jsonrpc,
            Protocol::Xmlrpc => Self::Xmlrpc,
        }
    }
}

impl From<ConnectionProtocol> for Protocol {
    fn from(protocol: ConnectionProtocol) -> Self {
        match protocol {
            ConnectionProtocol::Auto => Self::Auto,
            ConnectionProtocol::Json2 => Self::Json2,
            ConnectionProtocol::Jsonrpc => Self::Jsonrpc,
            ConnectionProtocol::Xmlrpc => Self::Xmlrpc,
        }
    }
}

/// The protocol a connection test settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum TestProtocol {
    /// Odoo 19's JSON-2 API.
    #[graphql(name = "JSON2")]
    Json2,
    /// The legacy JSON-RPC endpoint.
    #[graphql(name = "JSONRPC")]
    Jsonrpc,
    /// The legacy XML-RPC endpoints.
    #[graphql(name = "XMLRPC")]
    Xmlrpc,
}

impl From<ResolvedProtocol> for TestProtocol {
    fn from(protocol: ResolvedProtocol) -> Self {
        match protocol {
            ResolvedProtocol::Json2 => Self::Json2,
            ResolvedProtocol::Jsonrpc => Self::Jsonrpc,
            ResolvedProtocol::Xmlrpc => Self::Xmlrpc,
        }
    }
}

/// How far a connection test got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "TestStage")]
pub enum TestStageGql {
    /// Reaching the server.
    Reach,
    /// Reading its version.
    Version,
    /// Finding the database.
    Database,
    /// Authenticating.
    Authenticate,
    /// Checking read access to sales orders and lines.
    Access,
    /// Checking the fields a sync needs.
    Fields,
    /// Validating the filter and counting matching orders.
    Filter,
    /// Every stage passed.
    Done,
}

impl From<TestStage> for TestStageGql {
    fn from(stage: TestStage) -> Self {
        match stage {
            TestStage::Reach => Self::Reach,
            TestStage::Version => Self::Version,
            TestStage::Database => Self::Database,
            TestStage::Authenticate => Self::Authenticate,
            TestStage::Access => Self::Access,
            TestStage::Fields => Self::Fields,
            TestStage::Filter => Self::Filter,
            TestStage::Done => Self::Done,
        }
    }
}

/// A warning from a connection test.
#[derive(Debug, SimpleObject)]
pub struct TestWarning {
    /// Machine-readable code, such as `OWN_DOCUMENTS_ONLY`.
    pub code: String,
    /// What the user should know.
    pub message: String,
}

/// Why something failed, with what to do about it.
#[derive(Debug, SimpleObject)]
pub struct ErrorInfo {
    /// A code of the fixed vocabulary.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// What the user can do.
    pub hint: Option<String>,
}

/// The result of testing a connection.
#[derive(Debug, SimpleObject)]
pub struct ConnectionTest {
    /// Whether every stage passed.
    pub ok: bool,
    /// The failing stage, or `DONE`.
    pub stage: TestStageGql,
    /// The protocol used, once known.
    pub protocol: Option<TestProtocol>,
    /// The server's version, once known.
    pub server_version: Option<String>,
    /// When the test ran.
    pub tested_at: DateTime<Utc>,
    /// How many orders the connection's scope matches.
    pub matching_orders: Option<u64>,
    /// Warnings that did not fail the test.
    pub warnings: Vec<TestWarning>,
    /// Why it failed.
    pub error: Option<ErrorInfo>,
}

impl From<ConnectionTestResult> for ConnectionTest {
    fn from(result: ConnectionTestResult) -> Self {
        Self {
            ok: result.ok,
            stage: result.stage.into(),
            protocol: result.protocol.map(Into::into),
            server_version: result.server_version,
            tested_at: result.tested_at,
            matching_orders: result.matching_orders,
            warnings: result
                .warnings
                .into_iter()
                .map(|w| TestWarning {
                    code: w.code,
                    message: w.message,
                })
                .collect(),
            error: result.error.map(|e| ErrorInfo {
                code: e.code,
                message: e.message,
                hint: e.hint,
            }),
        }
    }
}

/// An Odoo connection, as its account's admins see it. The API key is never shown.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct Connection {
    /// The connection id.
    pub id: ID,
    /// Display name.
    pub name: String,
    /// Always `ODOO` for now.
    pub system_type: SystemType,
    /// Normalised Odoo URL.
    pub url: String,
    /// Odoo database.
    pub database: String,
    /// Odoo login.
    pub username: String,
    /// Which API to speak.
    pub protocol: ConnectionProtocol,
    /// Whether an API key is stored (always true for a saved connection).
    pub api_key_set: bool,
    /// When the API key was last given.
    pub api_key_updated_at: DateTime<Utc>,
    /// Manual or automatic.
    pub sync_mode: SyncModeGql,
    /// Seconds between scheduled runs.
    pub interval_seconds: u32,
    /// Orders per call.
    pub batch_size: u16,
    /// Whether the schedule runs.
    pub active: bool,
    /// Odoo domain filter, as typed.
    pub domain_filter: Option<String>,
    /// First order date imported, in the account's time zone.
    pub order_date_from: Option<NaiveDate>,
    /// Last order date imported, in the account's time zone.
    pub order_date_to: Option<NaiveDate>,
    /// The last test result.
    pub last_test: Option<ConnectionTest>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its settings, key or schedule last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ConnectionView> for Connection {
    fn from(view: ConnectionView) -> Self {
        let settings = view.settings;
        Self {
            id: ID(view.id.to_string()),
            name: settings.name.as_str().to_owned(),
            system_type: SystemType::Odoo,
            url: settings.url.as_str().to_owned(),
            database: settings.database.as_str().to_owned(),
            username: settings.username.as_str().to_owned(),
            protocol: settings.protocol.into(),
            api_key_set: true,
            api_key_updated_at: view.api_key_updated_at,
            sync_mode: view.schedule.mode.into(),
            interval_seconds: view.schedule.interval.seconds(),
            batch_size: view.schedule.batch_size.get(),
            active: view.schedule.active,
            domain_filter: settings.domain_filter.map(|f| f.as_str().to_owned()),
            order_date_from: settings.order_dates.from,
            order_date_to: settings.order_dates.to,
            last_test: view.last_test.map(Into::into),
            created_at: view.created_at,
            updated_at: view.updated_at,
        }
    }
}

/// A new connection.
#[derive(Debug, InputObject)]
pub struct CreateConnectionInput {
    /// Display name.
    pub name: String,
    /// Odoo base URL, `https://…`.
    pub url: String,
    /// Odoo database.
    pub database: String,
    /// Odoo login of the API user.
    pub username: String,
    /// The API key made in Odoo for that user. Never shown again after saving.
    pub api_key: String,
    /// Which API to speak (default `AUTO`).
    pub protocol: Option<ConnectionProtocol>,
    /// Manual or automatic (default `MANUAL`).
    pub sync_mode: Option<SyncModeGql>,
    /// Seconds between scheduled runs (default 3600).
    pub interval_seconds: Option<i64>,
    /// Orders per call, 1 to 1000 (default 100).
    pub batch_size: Option<i64>,
    /// Whether the schedule runs (default true).
    pub active: Option<bool>,
    /// Odoo domain filter; default: confirmed and done orders.
    pub domain_filter: Option<String>,
    /// First order date imported.
    pub order_date_from: Option<NaiveDate>,
    /// Last order date imported.
    pub order_date_to: Option<NaiveDate>,
}

/// Changes to a connection: an omitted field stays, `null` clears an optional one.
#[derive(Debug, InputObject)]
pub struct UpdateConnectionInput {
    /// New display name.
    pub name: MaybeUndefined<String>,
    /// New Odoo URL.
    pub url: MaybeUndefined<String>,
    /// New database.
    pub database: MaybeUndefined<String>,
    /// New login.
    pub username: MaybeUndefined<String>,
    /// New API key; the stored key stays when omitted.
    pub api_key: MaybeUndefined<String>,
    /// New protocol choice.
    pub protocol: MaybeUndefined<ConnectionProtocol>,
    /// New mode.
    pub sync_mode: MaybeUndefined<SyncModeGql>,
    /// New interval.
    pub interval_seconds: MaybeUndefined<i64>,
    /// New batch size.
    pub batch_size: MaybeUndefined<i64>,
    /// New active flag.
    pub active: MaybeUndefined<bool>,
    /// New filter, or `null` for none.
    pub domain_filter: MaybeUndefined<String>,
    /// New first order date, or `null` for none.
    pub order_date_from: MaybeUndefined<NaiveDate>,
    /// New last order date, or `null` for none.
    pub order_date_to: MaybeUndefined<NaiveDate>,
}

/// Where a sync run is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SyncRunStatus {
    /// Waiting for a worker.
    Pending,
    /// Importing.
    Running,
    /// Finished; every product line in scope is mapped.
    Completed,
    /// Stopped without finishing; see `error`.
    Failed,
    /// Finished with Odoo products not yet mapped to PrepStation items.
    ResolutionRequired,
}

impl From<RunStatus> for SyncRunStatus {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Pending => Self::Pending,
            RunStatus::Running => Self::Running,
            RunStatus::Completed => Self::Completed,
            RunStatus::Failed => Self::Failed,
            RunStatus::ResolutionRequired => Self::ResolutionRequired,
        }
    }
}

impl From<SyncRunStatus> for RunStatus {
    fn from(status: SyncRunStatus) -> Self {
        match status {
            SyncRunStatus::Pending => Self::Pending,
            SyncRunStatus::Running => Self::Running,
            SyncRunStatus::Completed => Self::Completed,
            SyncRunStatus::Failed => Self::Failed,
            SyncRunStatus::ResolutionRequired => Self::ResolutionRequired,
        }
    }
}

/// How many items a list has in all, beyond the page.
#[derive(Debug, SimpleObject)]
pub struct TotalCount {
    /// The number of items matching, on every page.
    pub total_count: i64,
}

/// What started a sync run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "SyncTrigger")]
pub enum SyncTriggerGql {
    /// "Sync Now".
    Manual,
    /// The connection's schedule.
    Scheduled,
    /// A full re-sync.
    FullResync,
}

impl From<SyncTrigger> for SyncTriggerGql {
    fn from(trigger: SyncTrigger) -> Self {
        match trigger {
            SyncTrigger::Manual => Self::Manual,
            SyncTrigger::Scheduled => Self::Scheduled,
            SyncTrigger::FullResync => Self::FullResync,
        }
    }
}

/// What a sync run has done.
#[derive(Debug, SimpleObject)]
#[graphql(name = "SyncCounts")]
pub struct SyncCountsGql {
    /// Orders read from Odoo.
    pub fetched: u64,
    /// Orders imported for the first time.
    pub imported: u64,
    /// Orders whose content changed (or that returned to the scope).
    pub updated: u64,
    /// Orders cancelled in Odoo.
    pub cancelled: u64,
    /// Orders deleted in Odoo.
    pub removed: u64,
    /// Orders that left the scope.
    pub out_of_scope: u64,
    /// Orders read again without change.
    pub unchanged: u64,
    /// Product lines in scope whose product is not mapped to an item.
    pub unmapped_lines: u64,
}

/// One sync of a connection.
#[derive(Debug, SimpleObject)]
#[graphql(name = "SyncRun")]
pub struct SyncRunGql {
    /// The run's id.
    pub id: ID,
    /// The connection it syncs.
    pub connection_id: Option<ID>,
    /// What started it.
    pub trigger: Option<SyncTriggerGql>,
    /// Its status.
    pub status: SyncRunStatus,
    /// When it was asked for.
    pub requested_at: Option<DateTime<Utc>>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// What it has done.
    pub counts: SyncCountsGql,
    /// Why it failed.
    pub error: Option<ErrorInfo>,
}

impl From<SyncRun> for SyncRunGql {
    fn from(run: SyncRun) -> Self {
        let counts = run.counts;
        Self {
            id: ID(run.id.map(|id| id.to_string()).unwrap_or_default()),
            connection_id: run.connection_id.map(|id| ID(id.to_string())),
            trigger: run.trigger.map(Into::into),
            status: run.status.into(),
            requested_at: run.requested_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            counts: SyncCountsGql {
                fetched: counts.fetched,
                imported: counts.imported,
                updated: counts.updated,
                cancelled: counts.cancelled,
                removed: counts.removed,
                out_of_scope: counts.out_of_scope,
                unchanged: counts.unchanged,
                unmapped_lines: counts.unmapped_lines,
            },
            error: run.failure.map(|f| ErrorInfo {
                code: f.code,
                message: f.message,
                hint: f.hint,
            }),
        }
    }
}
