//! What the use cases need from the outside world. Infrastructure implements each trait;
//! tests use the same implementations against a real database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::connection::SourceKey;
use domain::ids::{AccountId, ConnectionId};
use domain::metadata::EventMetadata;
use domain::secret::SealedSecret;
use secrecy::SecretString;

/// Failures of the event store itself, as opposed to a command's own refusal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer changed the aggregate (or claimed a unique value) first.
    #[error("another change was recorded first")]
    Conflict,
    /// The store could not be reached or answered with an error.
    #[error("event store unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A stored event could not be read back.
    #[error("stored event unreadable")]
    Corrupt(#[source] anyhow::Error),
}

/// Why a command did not record its events.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command.
    #[error(transparent)]
    Rejected(E),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Loads aggregates and records the events their commands produce, with metadata.
#[async_trait]
pub trait AggregateStore<A: Aggregate>: Send + Sync {
    /// The aggregate as its events leave it (the default state when it has none).
    async fn load(&self, id: &str) -> Result<A, StoreError>;

    /// Runs a command on the current state and records its events atomically.
    async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
    ) -> Result<(), CommandError<A::Error>>;
}

/// Binds a sealed credential to where it belongs, so a ciphertext copied elsewhere fails to
/// open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretBinding {
    /// The owning account.
    pub account_id: AccountId,
    /// The owning connection.
    pub connection_id: ConnectionId,
}

/// Why a credential could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// It was sealed with a master key this deployment does not have.
    #[error("a stored key was sealed with master key id {0}, which is not configured; list that key in PREPSYNC_OLD_MASTER_KEYS")]
    UnknownKey(String),
    /// It does not open with its key and binding: tampered, copied or corrupt.
    #[error("sealed secret does not open")]
    Unopenable,
}

/// Seals and opens credentials with the deployment's master keys.
pub trait CredentialVault: Send + Sync {
    /// Seals a secret under the current master key.
    fn seal(
        &self,
        secret: &SecretString,
        binding: &SecretBinding,
    ) -> Result<SealedSecret, VaultError>;

    /// Opens a sealed secret with whichever known key sealed it.
    fn open(
        &self,
        sealed: &SealedSecret,
        binding: &SecretBinding,
    ) -> Result<SecretString, VaultError>;

    /// The id of the current master key.
    fn current_key_id(&self) -> &str;
}

/// The registry of connections that the event store maintains with each connection event.
#[async_trait]
pub trait ConnectionDirectory: Send + Sync {
    /// The live connections of an account, oldest first.
    async fn list(&self, account: &AccountId) -> Result<Vec<ConnectionId>, StoreError>;

    /// The live connection of an account that reads from a source, if any.
    async fn holder_of(
        &self,
        account: &AccountId,
        source: &SourceKey,
    ) -> Result<Option<ConnectionId>, StoreError>;

    /// Every connection ever created, deleted ones included, with its account.
    async fn everything(&self) -> Result<Vec<(AccountId, ConnectionId)>, StoreError>;
}

/// The current time, so that tests can fix it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Where and as whom to test a connection: its settings, its key and the account's zone.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    /// The settings to test.
    pub settings: domain::connection::ConnectionSettings,
    /// The plaintext API key, for the Odoo client alone.
    pub api_key: SecretString,
    /// The account's time zone, for the order-date range.
    pub time_zone: domain::account::TimeZone,
}

/// Runs the staged connection test against an Odoo server. Failures are results, not errors.
#[async_trait]
pub trait ConnectionProber: Send + Sync {
    /// Tests every stage in turn and stops at the first that fails.
    async fn probe(&self, target: ProbeTarget) -> domain::connection::ConnectionTestResult;
}

/// Checks the syntax of a user's Odoo domain filter.
pub trait FilterSyntax: Send + Sync {
    /// `Err` with a message naming the position of the fault.
    fn check(&self, filter: &str) -> Result<(), String>;
}

/// Counts attempts per account and refuses them beyond a budget.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Records an attempt at `action`; `Err(seconds)` when over budget, with the wait.
    async fn attempt(
        &self,
        account: &AccountId,
        action: &str,
    ) -> Result<Result<(), u64>, StoreError>;
}
