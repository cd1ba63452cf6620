//! What every stored event carries besides its payload.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::{AccountId, Actor};

/// Metadata keys as stored in the event table's `metadata` column.
pub mod keys {
    /// The account the event belongs to.
    pub const ACCOUNT_ID: &str = "account_id";
    /// The token subject, `scheduler` or `system`.
    pub const ACTOR: &str = "actor";
    /// Shared by every event caused by one request or one job.
    pub const CORRELATION_ID: &str = "correlation_id";
    /// When the service recorded the event (RFC 3339, UTC).
    pub const RECORDED_AT: &str = "recorded_at";
}

/// Account, actor, correlation id and time of the events one command produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMetadata {
    /// The account the events belong to.
    pub account_id: AccountId,
    /// Who caused them.
    pub actor: Actor,
    /// The request or job that caused them.
    pub correlation_id: Uuid,
    /// When they were recorded.
    pub recorded_at: DateTime<Utc>,
}

impl EventMetadata {
    /// The metadata as the string map the event store keeps.
    pub fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            (keys::ACCOUNT_ID.to_owned(), self.account_id.to_string()),
            (keys::ACTOR.to_owned(), self.actor.as_str().to_owned()),
            (
                keys::CORRELATION_ID.to_owned(),
                self.correlation_id.to_string(),
            ),
            (keys::RECORDED_AT.to_owned(), self.recorded_at.to_rfc3339()),
        ])
    }
}
