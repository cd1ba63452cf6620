//! What happened to an order, as recorded in its own stream. Each event names the run and
//! connection that recorded it; type strings and versions are written by hand.

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::decision::OrderChange;
use super::model::{Fingerprint, ImportedOrder};
use crate::ids::ConnectionId;
use crate::sync_run::SyncRunId;

/// Which run and connection recorded an order event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedBy {
    /// The run.
    pub run_id: SyncRunId,
    /// The connection that run synced.
    pub connection_id: ConnectionId,
}

/// An event of an order's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OrderEvent {
    /// First seen in scope.
    OrderImported {
        /// Who recorded it.
        by: RecordedBy,
        /// The order.
        order: Box<ImportedOrder>,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
    /// Its content changed.
    OrderUpdated {
        /// Who recorded it.
        by: RecordedBy,
        /// The order.
        order: Box<ImportedOrder>,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
    /// Cancelled in the source.
    OrderCancelled {
        /// Who recorded it.
        by: RecordedBy,
        /// The order.
        order: Box<ImportedOrder>,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
    /// No longer in scope; kept and excluded from planning.
    OrderLeftScope {
        /// Who recorded it.
        by: RecordedBy,
        /// The order.
        order: Box<ImportedOrder>,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
    /// In scope again.
    OrderReturnedToScope {
        /// Who recorded it.
        by: RecordedBy,
        /// The order.
        order: Box<ImportedOrder>,
        /// Its fingerprint.
        fingerprint: Fingerprint,
    },
    /// Deleted in the source.
    OrderRemovedFromSource {
        /// Who recorded it.
        by: RecordedBy,
    },
}

impl OrderEvent {
    /// The event recording a change.
    pub fn of(change: OrderChange, by: RecordedBy) -> Self {
        match change {
            OrderChange::Imported(order, fingerprint) => Self::OrderImported {
                by,
                order,
                fingerprint,
            },
            OrderChange::Updated(order, fingerprint) => Self::OrderUpdated {
                by,
                order,
                fingerprint,
            },
            OrderChange::Cancelled(order, fingerprint) => Self::OrderCancelled {
                by,
                order,
                fingerprint,
            },
            OrderChange::LeftScope(order, fingerprint) => Self::OrderLeftScope {
                by,
                order,
                fingerprint,
            },
            OrderChange::ReturnedToScope(order, fingerprint) => Self::OrderReturnedToScope {
                by,
                order,
                fingerprint,
            },
            OrderChange::RemovedFromSource => Self::OrderRemovedFromSource { by },
        }
    }
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::OrderImported { .. } => "OrderImported",
            Self::OrderUpdated { .. } => "OrderUpdated",
            Self::OrderCancelled { .. } => "OrderCancelled",
            Self::OrderLeftScope { .. } => "OrderLeftScope",
            Self::OrderReturnedToScope { .. } => "OrderReturnedToScope",
            Self::OrderRemovedFromSource { .. } => "OrderRemovedFromSource",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
