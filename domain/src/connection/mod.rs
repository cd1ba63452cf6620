//! The Odoo connection aggregate: its settings, sealed API key, schedule and last test.
//!
//! A connection belongs to one account. Commands naming another account, and commands on a
//! deleted connection, fail with [`ConnectionError::NotFound`] so that existence never leaks.

mod aggregate;
mod events;
mod schedule;
mod test_result;
mod values;

pub use aggregate::{
    Connection, ConnectionCommand, ConnectionError, ConnectionPatch, ConnectionView,
};
pub use events::ConnectionEvent;
pub use schedule::{BatchSize, Schedule, SchedulePatch, SyncInterval, SyncMode};
pub use test_result::{
    ConnectionTestResult, ResolvedProtocol, TestFailure, TestStage, TestWarning,
};
pub use values::{
    is_private_address, ConnectionName, DatabaseName, DomainFilter, OdooUrl, OrderDateRange,
    Protocol, SourceKey, UrlPolicy, Username,
};

use serde::{Deserialize, Serialize};

/// Everything that says where and what a connection reads, except the API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSettings {
    /// The display name.
    pub name: ConnectionName,
    /// The Odoo server.
    pub url: OdooUrl,
    /// The Odoo database.
    pub database: DatabaseName,
    /// The Odoo login.
    pub username: Username,
    /// The protocol to speak, or automatic choice.
    pub protocol: Protocol,
    /// The user's Odoo domain filter, if any.
    pub domain_filter: Option<DomainFilter>,
    /// The order dates imported.
    pub order_dates: OrderDateRange,
}

impl ConnectionSettings {
    /// The source these settings read from.
    pub fn source(&self) -> SourceKey {
        SourceKey::of(&self.url, &self.database)
    }
}
