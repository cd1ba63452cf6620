//! Identifiers shared by every aggregate.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::FieldError;

/// A PrepStation account. Every aggregate, event and read-model row belongs to exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    /// The longest account id accepted.
    pub const MAX_LEN: usize = 64;

    /// Accepts 1 to 64 characters of ASCII letters, digits, `.`, `_` and `-`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.chars().all(valid_char) {
            return Err(FieldError::new(
                "account",
                "must be 1 to 64 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Odoo connection's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(Uuid);

impl ConnectionId {
    /// A new, random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Reads an id from its text form; anything else is treated as an unknown id by callers.
    pub fn parse(raw: &str) -> Option<Self> {
        Uuid::parse_str(raw).ok().map(Self)
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for ConnectionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who caused an event: a user (the token's subject) or the service itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(String);

impl Actor {
    /// Work started by the schedule.
    pub const SCHEDULER: &'static str = "scheduler";
    /// Work nobody requested, such as recovery or key rotation.
    pub const SYSTEM: &'static str = "system";

    /// A user, named by the `sub` claim of their token.
    pub fn user(subject: &str) -> Self {
        Self(subject.to_owned())
    }

    /// The scheduler.
    pub fn scheduler() -> Self {
        Self(Self::SCHEDULER.to_owned())
    }

    /// The service itself.
    pub fn system() -> Self {
        Self(Self::SYSTEM.to_owned())
    }

    /// The actor as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn account_ids_accept_slugs_and_refuse_everything_else() {
        assert!(AccountId::parse("acme-kitchens_1.eu").is_ok());
        assert!(AccountId::parse("").is_err());
        assert!(AccountId::parse("acme/../other").is_err());
        assert!(AccountId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn connection_ids_round_trip_through_text() {
        let id = ConnectionId::new();
        assert_eq!(ConnectionId::parse(&id.to_string()), Some(id));
        assert_eq!(ConnectionId::parse("not-a-uuid"), None);
    }
}
