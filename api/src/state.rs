//! Wiring: use cases on their PostgreSQL, vault and clock implementations.

use std::sync::Arc;

use application::accounts::Accounts;
use std::time::Duration;

use application::connections::{ConnectionPolicy, ConnectionPorts, Connections};
use application::mapping::Mappings;
use application::ports::{
    Clock, ConnectionDirectory, ConnectionProber, CredentialVault, FilterSyntax, RateLimiter,
    SystemClock,
};
use application::sync::{SyncPorts, SyncSettings, Syncs};
use domain::account::Account;
use domain::connection::{Connection, UrlPolicy};
use domain::sync_run::SyncRun;
use infrastructure::directory::PgConnectionDirectory;
use infrastructure::event_store::PgAggregateStore;
use infrastructure::mapping_store::PgMappingStore;
use infrastructure::odoo::{OdooFilterSyntax, OdooOrderFeeds, OdooProber};
use infrastructure::rate_limit::PgRateLimiter;
use infrastructure::sync_store::PgSyncStore;
use infrastructure::vault::{KeyRing, KeyRingError};
use odoo_client::{ClientOptions, NetworkPolicy, RetryPolicy, Timeouts};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

use crate::config::{KeyConfig, OdooConfig, PolicyConfig};
use crate::graphql::UseCases;

/// Why the master key settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    /// No master key configured.
    #[error("set PREPSYNC_MASTER_KEY (32 bytes, base64) or PREPSYNC_MASTER_KEY_FILE")]
    Missing,
    /// The key file could not be read.
    #[error("cannot read PREPSYNC_MASTER_KEY_FILE {path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A key is malformed.
    #[error(transparent)]
    Invalid(#[from] KeyRingError),
}

/// The master keys from configuration.
pub fn key_ring(config: &KeyConfig) -> Result<KeyRing, KeySetupError> {
    let given = config
        .master_key
        .as_ref()
        .filter(|key| !key.expose_secret().trim().is_empty());
    let current = match (given, &config.master_key_file) {
        (Some(key), _) => key.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|text| SecretString::from(text.trim().to_owned()))
            .map_err(|source| KeySetupError::Unreadable {
                path: path.display().to_string(),
                source,
            })?,
        (None, None) => return Err(KeySetupError::Missing),
    };
    Ok(KeyRing::new(
        &config.master_key_id,
        &current,
        config.old_master_keys.as_ref(),
    )?)
}

/// The deployment's connection rules.
pub fn connection_policy(config: &PolicyConfig) -> ConnectionPolicy {
    ConnectionPolicy {
        url: UrlPolicy {
            allow_insecure_http: config.allow_insecure_http,
            allow_private_networks: config.allow_private_networks,
        },
        min_interval_seconds: config.min_interval_seconds,
    }
}

/// How the Odoo client connects, from the deployment's settings.
pub fn client_options(policy: &PolicyConfig, odoo: &OdooConfig) -> ClientOptions {
    ClientOptions {
        network: NetworkPolicy {
            allow_http: policy.allow_insecure_http,
            allow_private: policy.allow_private_networks,
        },
        timeouts: Timeouts {
            connect: Duration::from_millis(odoo.connect_timeout_ms),
            request: Duration::from_millis(odoo.request_timeout_ms),
        },
        retry: RetryPolicy {
            max_attempts: odoo.retry_attempts.max(1),
            min_delay: Duration::from_millis(odoo.retry_min_delay_ms),
            max_delay: Duration::from_millis(odoo.retry_max_delay_ms),
            max_total_delay: Duration::from_millis(odoo.retry_total_ms),
        },
        ..ClientOptions::default()
    }
}

/// The ports every use case is built from.
#[derive(Clone)]
pub struct Ports {
    /// Connection aggregates.
    pub connections: Arc<PgAggregateStore<Connection>>,
    /// Account aggregates.
    pub accounts: Arc<PgAggregateStore<Account>>,
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
    /// Limits connection tests.
    pub limiter: Arc<dyn RateLimiter>,
    /// Sync run aggregates.
    pub runs: Arc<PgAggregateStore<SyncRun>>,
    /// Where runs and batches are recorded.
    pub sync_store: Arc<PgSyncStore>,
    /// Where orders are read.
    pub feeds: Arc<OdooOrderFeeds>,
    /// Items and product mappings.
    pub mappings: Arc<PgMappingStore>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

impl Ports {
    /// The PostgreSQL and Odoo implementations on one pool, with these keys; sync runs silent
    /// for `stale_after` count as interrupted.
    pub fn new(
        pool: PgPool,
        vault: Arc<dyn CredentialVault>,
        client: ClientOptions,
        tests_per_minute: u32,
        stale_after: std::time::Duration,
    ) -> Self {
        Self {
            connections: Arc::new(PgAggregateStore::new(pool.clone())),
            accounts: Arc::new(PgAggregateStore::new(pool.clone())),
            directory: Arc::new(PgConnectionDirectory::new(pool.clone())),
            vault,
            clock: Arc::new(SystemClock),
            prober: Arc::new(OdooProber::new(client)),
            runs: Arc::new(PgAggregateStore::new(pool.clone())),
            sync_store: Arc::new(PgSyncStore::with_stale_after(pool.clone(), stale_after)),
            feeds: Arc::new(OdooOrderFeeds::new(client)),
            mappings: Arc::new(PgMappingStore::new(pool.clone())),
            filters: Arc::new(OdooFilterSyntax),
            limiter: Arc::new(PgRateLimiter::new(pool, tests_per_minute)),
        }
    }

    /// The use cases the GraphQL resolvers call.
    pub fn use_cases(&self, policy: ConnectionPolicy, sync: SyncSettings) -> UseCases {
        let connections = Connections::new(
            ConnectionPorts {
                store: self.connections.clone(),
                accounts: self.accounts.clone(),
                directory: self.directory.clone(),
                vault: self.vault.clone(),
                clock: self.clock.clone(),
                prober: self.prober.clone(),
                filters: self.filters.clone(),
                limiter: self.limiter.clone(),
            },
            policy,
        );
        let sync_ports = SyncPorts {
            accounts: self.accounts.clone(),
            runs: self.runs.clone(),
            store: self.sync_store.clone(),
            feeds: self.feeds.clone(),
        };
        UseCases {
            syncs: Syncs::new(connections.clone(), sync_ports, sync),
            mappings: Mappings::new(self.connections.clone(), self.mappings.clone()),
            connections,
            accounts: Accounts::new(self.accounts.clone(), self.clock.clone()),
        }
    }
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Master key settings.
    #[error(transparent)]
    Keys(#[from] KeySetupError),
    /// The master keys differ from those their ids stood for.
    #[error(transparent)]
    KeyMismatch(#[from] infrastructure::key_checks::KeyCheckError),
    /// Token settings.
    #[error(transparent)]
    Tokens(#[from] crate::auth::TokenConfigError),
}

/// The complete router for a migrated database and the serve settings, after checking that
/// the master keys are the ones this database knows.
pub async fn app(
    pool: PgPool,
    config: &crate::config::ServeConfig,
) -> Result<axum::Router, StartError> {
    let ring = key_ring(&config.keys)?;
    infrastructure::key_checks::ensure_keys_match(&pool, &ring).await?;
    let verifier = crate::auth::TokenVerifier::from_config(&config.jwt)?;

    let client = client_options(&config.policy, &config.odoo);
    let ports = Ports::new(
        pool.clone(),
        Arc::new(ring),
        client,
        config.odoo.test_connection_per_minute,
        std::time::Duration::from_secs(u64::from(config.odoo.sync_stale_seconds)),
    );
    let sync = SyncSettings {
        lookback: chrono::Duration::seconds(i64::from(config.odoo.sync_lookback_seconds)),
        reconcile_every: chrono::Duration::seconds(i64::from(
            config.odoo.reconcile_interval_seconds,
        )),
    };
    let schema = crate::graphql::schema(ports.use_cases(connection_policy(&config.policy), sync));
    spawn_stale_run_sweeper(
        ports.sync_store.clone(),
        std::time::Duration::from_secs(u64::from(config.odoo.sync_stale_seconds)),
    );
    let state = crate::server::AppState {
        schema,
        verifier,
        pool,
    };
    Ok(crate::server::router(state, config.max_body_bytes))
}

/// Closes runs left unfinished by a process that died: at start, then every half stale period
/// (at most every minute). Every replica may run it; each stale run is closed once.
fn spawn_stale_run_sweeper(store: Arc<PgSyncStore>, stale_after: std::time::Duration) {
    let every = (stale_after / 2).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    );
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match store.interrupt_stale().await {
                Ok(0) => {}
                Ok(closed) => tracing::warn!(closed, "stale sync runs closed as interrupted"),
                Err(error) => tracing::warn!(error = %error, "stale sync runs not checked"),
            }
        }
    });
}
