//! Adding, changing, listing and deleting Odoo connections. Only admins reach these use
//! cases; API keys are sealed before they enter a command and never come back out.

use std::sync::Arc;

use chrono::NaiveDate;
use domain::account::Account;
use domain::connection::{
    BatchSize, Connection, ConnectionCommand, ConnectionError, ConnectionName, ConnectionPatch,
    ConnectionSettings, ConnectionTestResult, ConnectionView, DatabaseName, DomainFilter, OdooUrl,
    OrderDateRange, Protocol, Schedule, SchedulePatch, SyncInterval, SyncMode, UrlPolicy, Username,
};
use domain::ids::ConnectionId;
use domain::metadata::EventMetadata;
use domain::validation::{FieldError, FieldErrors};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;

use crate::access::{Caller, Operation};
use crate::ports::{
    AggregateStore, Clock, CommandError, ConnectionDirectory, ConnectionProber, CredentialVault,
    FilterSyntax, ProbeTarget, RateLimiter, SecretBinding, StoreError,
};
use crate::AppError;

/// The rules of this deployment for connection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionPolicy {
    /// What URLs may point at.
    pub url: UrlPolicy,
    /// The shortest schedule interval allowed, in seconds.
    pub min_interval_seconds: u32,
}

impl Default for ConnectionPolicy {
    fn default() -> Self {
        Self {
            url: UrlPolicy::default(),
            min_interval_seconds: 60,
        }
    }
}

/// A new connection as the admin typed it.
#[derive(Debug, Default)]
pub struct NewConnection {
    /// Display name.
    pub name: String,
    /// Odoo base URL.
    pub url: String,
    /// Odoo database.
    pub database: String,
    /// Odoo login.
    pub username: String,
    /// Odoo API key.
    pub api_key: SecretString,
    /// Protocol choice (automatic when absent).
    pub protocol: Option<Protocol>,
    /// Manual or automatic (manual when absent).
    pub sync_mode: Option<SyncMode>,
    /// Seconds between scheduled runs (one hour when absent).
    pub interval_seconds: Option<i64>,
    /// Orders per call (100 when absent).
    pub batch_size: Option<i64>,
    /// Whether the schedule runs (true when absent).
    pub active: Option<bool>,
    /// Odoo domain filter; blank means none.
    pub domain_filter: Option<String>,
    /// First order date imported.
    pub order_date_from: Option<NaiveDate>,
    /// Last order date imported.
    pub order_date_to: Option<NaiveDate>,
}

/// Changes to a connection: `None` keeps a value; `Some(None)` clears an optional one.
#[derive(Debug, Default)]
pub struct ConnectionChanges {
    /// New display name.
    pub name: Option<String>,
    /// New URL.
    pub url: Option<String>,
    /// New database.
    pub database: Option<String>,
    /// New login.
    pub username: Option<String>,
    /// New API key; the stored one stays when absent.
    pub api_key: Option<SecretString>,
    /// New protocol choice.
    pub protocol: Option<Protocol>,
    /// New mode.
    pub sync_mode: Option<SyncMode>,
    /// New interval.
    pub interval_seconds: Option<i64>,
    /// New batch size.
    pub batch_size: Option<i64>,
    /// New active flag.
    pub active: Option<bool>,
    /// New filter, or cleared.
    pub domain_filter: Option<Option<String>>,
    /// New first order date, or cleared.
    pub order_date_from: Option<Option<NaiveDate>>,
    /// New last order date, or cleared.
    pub order_date_to: Option<Option<NaiveDate>>,
}

/// What the connection use cases are built from.
#[derive(Clone)]
pub struct ConnectionPorts {
    /// Connection aggregates.
    pub store: Arc<dyn AggregateStore<Connection>>,
    /// Account aggregates, for the time zone.
    pub accounts: Arc<dyn AggregateStore<Account>>,
    /// The connection registry.
    pub directory: Arc<dyn ConnectionDirectory>,
    /// The master keys.
    pub vault: Arc<dyn CredentialVault>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Tests connections against Odoo.
    pub prober: Arc<dyn ConnectionProber>,
    /// Checks filter syntax.
    pub filters: Arc<dyn FilterSyntax>,
    /// Limits connection tests per account.
    pub limiter: Arc<dyn RateLimiter>,
}

impl std::fmt::Debug for ConnectionPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPorts").finish_non_exhaustive()
    }
}

/// The rate-limited action of testing a connection.
pub const TEST_CONNECTION: &str = "test_connection";

/// The connection use cases.
#[derive(Clone)]
pub struct Connections {
    ports: ConnectionPorts,
    policy: ConnectionPolicy,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Connections {
    /// Wires the use cases to their ports.
    pub fn new(ports: ConnectionPorts, policy: ConnectionPolicy) -> Self {
        Self { ports, policy }
    }

    /// Tests a saved connection against its server and records the result.
    #[instrument(skip_all, fields(account = %caller.account_id, connection = %id))]
    pub async fn test(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<ConnectionTestResult, AppError> {
        caller.require(Operation::ManageConnections)?;
        let view = self.get(caller, id).await?;
        let api_key = self.api_key(caller, id).await?;
        self.limit_tests(caller).await?;

        let result = self.probe(caller, view.settings, api_key).await?;
        let command = ConnectionCommand::RecordTest {
            account_id: caller.account_id.clone(),
            result: result.clone(),
        };
        self.execute(caller, id, command, None).await?;
        tracing::info!(ok = result.ok, stage = ?result.stage, "connection tested");
        Ok(result)
    }

    /// Tests settings that are not saved yet ("enter details, test, then save"). Nothing is
    /// recorded.
    #[instrument(skip_all, fields(account = %caller.account_id))]
    pub async fn test_settings(
        &self,
        caller: &Caller,
        input: NewConnection,
    ) -> Result<ConnectionTestResult, AppError> {
        caller.require(Operation::ManageConnections)?;
        let open = UrlPolicy {
            allow_insecure_http: true,
            allow_private_networks: true,
        };
        let (settings, _, api_key) = self.validate(input, open)?;
        self.limit_tests(caller).await?;

        let result = self.probe(caller, settings, api_key).await?;
        tracing::info!(ok = result.ok, stage = ?result.stage, "connection settings tested");
        Ok(result)
    }

    async fn probe(
        &self,
        caller: &Caller,
        settings: ConnectionSettings,
        api_key: SecretString,
    ) -> Result<ConnectionTestResult, AppError> {
        let account = self
            .ports
            .accounts
            .load(caller.account_id.as_str())
            .await
            .map_err(AppError::internal)?;
        let target = ProbeTarget {
            settings,
            api_key,
            time_zone: account.time_zone().clone(),
        };
        Ok(self.ports.prober.probe(target).await)
    }

    async fn limit_tests(&self, caller: &Caller) -> Result<(), AppError> {
        match self
            .ports
            .limiter
            .attempt(&caller.account_id, TEST_CONNECTION)
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(retry_after_seconds)) => Err(AppError::RateLimited {
                retry_after_seconds,
            }),
            Err(error) => Err(AppError::internal(error)),
        }
    }

    /// Validates every field with the given URL rules, the filter's syntax included.
    /// Tests pass open URL rules: the Odoo client enforces the deployment's URL policy and
    /// reports a refused address as `ODOO_URL_NOT_ALLOWED` at the `REACH` stage, which also
    /// covers names that resolve to private addresses.
    fn validate(
        &self,
        input: NewConnection,
        url: UrlPolicy,
    ) -> Result<(ConnectionSettings, Schedule, SecretString), AppError> {
        let policy = ConnectionPolicy { url, ..self.policy };
        let (settings, schedule, key) = validate_new(input, &policy)?;
        self.check_filter(settings.domain_filter.as_ref())?;
        Ok((settings, schedule, key))
    }

    fn check_filter(&self, filter: Option<&DomainFilter>) -> Result<(), AppError> {
        match filter.map(|f| self.ports.filters.check(f.as_str())) {
            Some(Err(message)) => Err(FieldError::new("domainFilter", message).into()),
            _ => Ok(()),
        }
    }

    /// The live connections of the caller's account, oldest first.
    pub async fn list(&self, caller: &Caller) -> Result<Vec<ConnectionView>, AppError> {
        caller.require(Operation::ReadConnections)?;

        let ids = self
            .ports
            .directory
            .list(&caller.account_id)
            .await
            .map_err(AppError::internal)?;
        let mut views = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(view) = self.find(caller, id).await? {
                views.push(view);
            }
        }
        Ok(views)
    }

    /// Whether a live connection of this id belongs to the caller's account, whatever the
    /// caller's role may read of it.
    pub async fn is_of_account(&self, caller: &Caller, id: ConnectionId) -> Result<bool, AppError> {
        Ok(self.find(caller, id).await?.is_some())
    }

    /// One connection of the caller's account.
    pub async fn get(&self, caller: &Caller, id: ConnectionId) -> Result<ConnectionView, AppError> {
        caller.require(Operation::ReadConnections)?;
        self.find(caller, id).await?.ok_or(AppError::NotFound)
    }

    /// Adds a connection after validating every field; nothing is stored on any error.
    #[instrument(skip_all, fields(account = %caller.account_id))]
    pub async fn create(
        &self,
        caller: &Caller,
        input: NewConnection,
    ) -> Result<ConnectionView, AppError> {
        caller.require(Operation::ManageConnections)?;
        let (settings, schedule, api_key) = self.validate(input, self.policy.url)?;
        self.ensure_source_free(caller, &settings, None).await?;

        let id = ConnectionId::new();
        let binding = SecretBinding {
            account_id: caller.account_id.clone(),
            connection_id: id,
        };
        let sealed = self
            .ports
            .vault
            .seal(&api_key, &binding)
            .map_err(AppError::internal)?;
        let command = ConnectionCommand::Create {
            id,
            account_id: caller.account_id.clone(),
            settings: settings.clone(),
            api_key: sealed,
            schedule,
            at: self.ports.clock.now(),
        };
        self.execute(caller, id, command, Some(&settings)).await?;

        tracing::info!(connection = %id, "connection created");
        self.get(caller, id).await
    }

    /// Changes a connection; omitted fields stay as they are.
    #[instrument(skip_all, fields(account = %caller.account_id, connection = %id))]
    pub async fn update(
        &self,
        caller: &Caller,
        id: ConnectionId,
        changes: ConnectionChanges,
    ) -> Result<ConnectionView, AppError> {
        caller.require(Operation::ManageConnections)?;
        let current = self.get(caller, id).await?;
        let (patch, schedule, api_key) = validate_changes(changes, &self.policy)?;
        let settings = patch.apply_to(&current.settings)?;
        if settings.domain_filter != current.settings.domain_filter {
            self.check_filter(settings.domain_filter.as_ref())?;
        }
        if settings.source() != current.settings.source() {
            self.ensure_source_free(caller, &settings, Some(id)).await?;
        }

        let binding = SecretBinding {
            account_id: caller.account_id.clone(),
            connection_id: id,
        };
        let sealed = match api_key {
            Some(key) => Some(
                self.ports
                    .vault
                    .seal(&key, &binding)
                    .map_err(AppError::internal)?,
            ),
            None => None,
        };
        let command = ConnectionCommand::Update {
            account_id: caller.account_id.clone(),
            patch,
            api_key: sealed,
            schedule,
            at: self.ports.clock.now(),
        };
        self.execute(caller, id, command, Some(&settings)).await?;

        tracing::info!("connection updated");
        self.get(caller, id).await
    }

    /// Deletes a connection; the data it synced stays.
    #[instrument(skip_all, fields(account = %caller.account_id, connection = %id))]
    pub async fn delete(&self, caller: &Caller, id: ConnectionId) -> Result<(), AppError> {
        caller.require(Operation::ManageConnections)?;
        let command = ConnectionCommand::Delete {
            account_id: caller.account_id.clone(),
            at: self.ports.clock.now(),
        };
        self.execute(caller, id, command, None).await?;
        tracing::info!("connection deleted");
        Ok(())
    }

    /// The plaintext API key of a live connection, for the Odoo client alone.
    pub async fn api_key(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<SecretString, AppError> {
        let connection = self.load(id).await?;
        let sealed = connection
            .sealed_api_key_for(&caller.account_id)
            .ok_or(AppError::NotFound)?;
        let binding = SecretBinding {
            account_id: caller.account_id.clone(),
            connection_id: id,
        };
        self.ports
            .vault
            .open(sealed, &binding)
            .map_err(AppError::internal)
    }

    async fn find(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<Option<ConnectionView>, AppError> {
        let connection = self.load(id).await?;
        Ok(connection.view_for(&caller.account_id).cloned())
    }

    async fn load(&self, id: ConnectionId) -> Result<Connection, AppError> {
        self.ports
            .store
            .load(&id.to_string())
            .await
            .map_err(AppError::internal)
    }

    async fn ensure_source_free(
        &self,
        caller: &Caller,
        settings: &ConnectionSettings,
        except: Option<ConnectionId>,
    ) -> Result<(), AppError> {
        let holder = self
            .ports
            .directory
            .holder_of(&caller.account_id, &settings.source())
            .await
            .map_err(AppError::internal)?;
        match holder {
            Some(other) if Some(other) != except => Err(source_taken()),
            _ => Ok(()),
        }
    }

    async fn execute(
        &self,
        caller: &Caller,
        id: ConnectionId,
        command: ConnectionCommand,
        settings: Option<&ConnectionSettings>,
    ) -> Result<(), AppError> {
        let metadata = EventMetadata {
            account_id: caller.account_id.clone(),
            actor: caller.actor.clone(),
            correlation_id: caller.correlation_id,
            recorded_at: self.ports.clock.now(),
        };
        match self
            .ports
            .store
            .execute(&id.to_string(), command, &metadata)
            .await
        {
            Ok(()) => Ok(()),
            Err(CommandError::Rejected(error)) => Err(rejection(error)),
            Err(CommandError::Store(StoreError::Conflict)) => {
                Err(self.explain_conflict(caller, id, settings).await)
            }
            Err(CommandError::Store(error)) => Err(AppError::internal(error)),
        }
    }

    /// A conflict is either a second connection to a source (the registry's unique index)
    /// or a concurrent change to the same connection.
    async fn explain_conflict(
        &self,
        caller: &Caller,
        id: ConnectionId,
        settings: Option<&ConnectionSettings>,
    ) -> AppError {
        if let Some(settings) = settings {
            if self
                .ensure_source_free(caller, settings, Some(id))
                .await
                .is_err()
            {
                return source_taken();
            }
        }
        AppError::Conflict {
            field: None,
            message: "the connection was changed at the same time; reload it and try again".into(),
        }
    }
}

fn source_taken() -> AppError {
    AppError::Conflict {
        field: Some("url"),
        message: "this account already has a connection to this URL and database".into(),
    }
}

fn rejection(error: ConnectionError) -> AppError {
    match error {
        ConnectionError::NotFound => AppError::NotFound,
        ConnectionError::Invalid(errors) => AppError::Validation(errors),
        ConnectionError::AlreadyExists => AppError::Conflict {
            field: None,
            message: "a connection with this id exists already".into(),
        },
    }
}

fn validate_new(
    input: NewConnection,
    policy: &ConnectionPolicy,
) -> Result<(ConnectionSettings, Schedule, SecretString), FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.check(ConnectionName::parse(&input.name));
    let url = errors.check(OdooUrl::parse(&input.url, policy.url));
    let database = errors.check(DatabaseName::parse(&input.database));
    let username = errors.check(Username::parse(&input.username));
    let api_key = errors.check(api_key(&input.api_key));
    let domain_filter = errors.check(optional_filter(input.domain_filter.as_deref()));
    let order_dates = errors.check(OrderDateRange::new(
        input.order_date_from,
        input.order_date_to,
    ));
    let schedule = schedule_patch(
        &mut errors,
        input.sync_mode,
        input.interval_seconds,
        input.batch_size,
        input.active,
        policy,
    );
    errors.clone().into_result()?;

    match (
        name,
        url,
        database,
        username,
        api_key,
        domain_filter,
        order_dates,
    ) {
        (
            Some(name),
            Some(url),
            Some(database),
            Some(username),
            Some(key),
            Some(filter),
            Some(dates),
        ) => {
            let settings = ConnectionSettings {
                name,
                url,
                database,
                username,
                protocol: input.protocol.unwrap_or_default(),
                domain_filter: filter,
                order_dates: dates,
            };
            Ok((settings, schedule.apply_to(Schedule::default()), key))
        }
        _ => Err(errors),
    }
}

type ValidChanges = (ConnectionPatch, SchedulePatch, Option<SecretString>);

fn validate_changes(
    changes: ConnectionChanges,
    policy: &ConnectionPolicy,
) -> Result<ValidChanges, FieldErrors> {
    let mut errors = FieldErrors::default();
    let patch = ConnectionPatch {
        name: changes
            .name
            .and_then(|raw| errors.check(ConnectionName::parse(&raw))),
        url: changes
            .url
            .and_then(|raw| errors.check(OdooUrl::parse(&raw, policy.url))),
        database: changes
            .database
            .and_then(|raw| errors.check(DatabaseName::parse(&raw))),
        username: changes
            .username
            .and_then(|raw| errors.check(Username::parse(&raw))),
        protocol: changes.protocol,
        domain_filter: changes
            .domain_filter
            .and_then(|raw| errors.check(optional_filter(raw.as_deref()))),
        order_date_from: changes.order_date_from,
        order_date_to: changes.order_date_to,
    };
    let api_key = changes.api_key.and_then(|raw| errors.check(api_key(&raw)));
    let schedule = schedule_patch(
        &mut errors,
        changes.sync_mode,
        changes.interval_seconds,
        changes.batch_size,
        changes.active,
        policy,
    );
    errors.into_result()?;
    Ok((patch, schedule, api_key))
}

fn schedule_patch(
    errors: &mut FieldErrors,
    mode: Option<SyncMode>,
    interval_seconds: Option<i64>,
    batch_size: Option<i64>,
    active: Option<bool>,
    policy: &ConnectionPolicy,
) -> SchedulePatch {
    SchedulePatch {
        mode,
        interval: interval_seconds
            .and_then(|raw| errors.check(SyncInterval::parse(raw, policy.min_interval_seconds))),
        batch_size: batch_size.and_then(|raw| errors.check(BatchSize::parse(raw))),
        active,
    }
}

fn optional_filter(raw: Option<&str>) -> Result<Option<DomainFilter>, FieldError> {
    match raw {
        Some(text) if !text.trim().is_empty() => DomainFilter::parse(text).map(Some),
        _ => Ok(None),
    }
}

/// Keys are trimmed (pasted keys often carry spaces) and must be one line of at most 1024
/// characters.
fn api_key(raw: &SecretString) -> Result<SecretString, FieldError> {
    let key = raw.expose_secret().trim();
    if key.is_empty() {
        return Err(FieldError::new(
            "apiKey",
            "must not be empty; paste the API key from Odoo",
        ));
    }
    if key.chars().count() > 1024 || key.chars().any(char::is_control) {
        return Err(FieldError::new(
            "apiKey",
            "must be one line of at most 1024 characters",
        ));
    }
    Ok(SecretString::from(key.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn valid() -> NewConnection {
        NewConnection {
            name: "Main".into(),
            url: "https://acme.odoo.com".into(),
            database: "acme".into(),
            username: "api@acme.com".into(),
            api_key: SecretString::from("0123456789abcdef"),
            ..Default::default()
        }
    }

    fn fields_of(
        result: Result<(ConnectionSettings, Schedule, SecretString), FieldErrors>,
    ) -> Vec<&'static str> {
        result
            .err()
            .map(|e| e.errors().iter().map(|e| e.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_valid_connection_gets_the_default_schedule() {
        let (_, schedule, _) = validate_new(valid(), &ConnectionPolicy::default()).unwrap();
        assert_eq!(schedule, Schedule::default());
    }

    #[test]
    fn every_invalid_field_is_named_at_once() {
        let input = NewConnection {
            url: "http://acme.odoo.com".into(),
            api_key: SecretString::from("  "),
            batch_size: Some(0),
            interval_seconds: Some(10),
            ..valid()
        };
        let fields = fields_of(validate_new(input, &ConnectionPolicy::default()));
        assert_eq!(fields, ["url", "apiKey", "intervalSeconds", "batchSize"]);
    }

    #[test]
    fn a_blank_filter_means_no_filter() {
        let input = NewConnection {
            domain_filter: Some("   ".into()),
            ..valid()
        };
        let (settings, _, _) = validate_new(input, &ConnectionPolicy::default()).unwrap();
        assert_eq!(settings.domain_filter, None);
    }

    #[test]
    fn pasted_keys_are_trimmed() {
        let input = NewConnection {
            api_key: SecretString::from(" abc \n"),
            ..valid()
        };
        let (_, _, key) = validate_new(input, &ConnectionPolicy::default()).unwrap();
        assert_eq!(key.expose_secret(), "abc");
    }
}
