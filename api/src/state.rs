//! Wiring: use cases on their PostgreSQL, vault and clock implementations.

use std::sync::Arc;

use application::accounts::Accounts;
use application::connections::{ConnectionPolicy, Connections};
use application::ports::{Clock, ConnectionDirectory, CredentialVault, SystemClock};
use domain::account::Account;
use domain::connection::{Connection, UrlPolicy};
use infrastructure::directory::PgConnectionDirectory;
use infrastructure::event_store::PgAggregateStore;
use infrastructure::vault::{KeyRing, KeyRingError};
use secrecy::SecretString;
use sqlx::PgPool;

use crate::config::{KeyConfig, PolicyConfig};
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
    let current = match (&config.master_key, &config.master_key_file) {
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
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

impl Ports {
    /// The PostgreSQL implementations on one pool, with these keys.
    pub fn new(pool: PgPool, vault: Arc<dyn CredentialVault>) -> Self {
        Self {
            connections: Arc::new(PgAggregateStore::new(pool.clone())),
            accounts: Arc::new(PgAggregateStore::new(pool.clone())),
            directory: Arc::new(PgConnectionDirectory::new(pool)),
            vault,
            clock: Arc::new(SystemClock),
        }
    }

    /// The use cases the GraphQL resolvers call.
    pub fn use_cases(&self, policy: ConnectionPolicy) -> UseCases {
        UseCases {
            connections: Connections::new(
                self.connections.clone(),
                self.directory.clone(),
                self.vault.clone(),
                self.clock.clone(),
                policy,
            ),
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
    /// Token settings.
    #[error(transparent)]
    Tokens(#[from] crate::auth::TokenConfigError),
}

/// The complete router for a migrated database and the serve settings.
pub fn app(pool: PgPool, config: &crate::config::ServeConfig) -> Result<axum::Router, StartError> {
    let vault: Arc<dyn CredentialVault> = Arc::new(key_ring(&config.keys)?);
    let verifier = crate::auth::TokenVerifier::from_config(&config.jwt)?;
    let ports = Ports::new(pool.clone(), vault);
    let schema = crate::graphql::schema(ports.use_cases(connection_policy(&config.policy)));
    let state = crate::server::AppState {
        schema,
        verifier,
        pool,
    };
    Ok(crate::server::router(state, config.max_body_bytes))
}
