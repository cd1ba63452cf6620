//! What happened to a connection. Event type strings and versions are stable: they are
//! written here by hand and never derived from Rust names.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{ConnectionSettings, ConnectionTestResult, Schedule, SourceKey};
use crate::ids::{AccountId, ConnectionId};
use crate::secret::SealedSecret;

/// An event of the connection aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ConnectionEvent {
    /// An admin added the connection.
    ConnectionCreated {
        /// The connection's id.
        connection_id: ConnectionId,
        /// Its account.
        account_id: AccountId,
        /// Its settings.
        settings: ConnectionSettings,
        /// Its source, kept for the uniqueness index.
        source: SourceKey,
        /// The sealed API key.
        api_key: SealedSecret,
        /// Its schedule.
        schedule: Schedule,
        /// When it was created.
        at: DateTime<Utc>,
    },
    /// Settings other than the key and schedule changed; the event holds all of them.
    ConnectionSettingsChanged {
        /// The settings from now on.
        settings: ConnectionSettings,
        /// Their source.
        source: SourceKey,
        /// When they changed.
        at: DateTime<Utc>,
    },
    /// A new API key was given.
    ApiKeyReplaced {
        /// The sealed new key.
        api_key: SealedSecret,
        /// When it was given.
        at: DateTime<Utc>,
    },
    /// The same API key was sealed again under the current master key.
    ApiKeyResealed {
        /// The key sealed under the current master key.
        api_key: SealedSecret,
        /// When it was resealed.
        at: DateTime<Utc>,
    },
    /// The schedule changed.
    ScheduleChanged {
        /// The schedule from now on.
        schedule: Schedule,
        /// When it changed.
        at: DateTime<Utc>,
    },
    /// The connection was tested against its server.
    ConnectionTested {
        /// The outcome.
        result: ConnectionTestResult,
    },
    /// The connection was deleted; data it synced stays.
    ConnectionDeleted {
        /// When it was deleted.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for ConnectionEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::ConnectionCreated { .. } => "ConnectionCreated",
            Self::ConnectionSettingsChanged { .. } => "ConnectionSettingsChanged",
            Self::ApiKeyReplaced { .. } => "ApiKeyReplaced",
            Self::ApiKeyResealed { .. } => "ApiKeyResealed",
            Self::ScheduleChanged { .. } => "ScheduleChanged",
            Self::ConnectionTested { .. } => "ConnectionTested",
            Self::ConnectionDeleted { .. } => "ConnectionDeleted",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
