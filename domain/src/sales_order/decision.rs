//! What a sync records about one order, decided from what is held and what the source shows.
//! Nothing is ever treated as deleted because a query stopped returning it: only an explicit
//! check that the source no longer has the id records a removal.

use serde::{Deserialize, Serialize};

use super::model::{Fingerprint, ImportedOrder, OrderStatus};

/// What is held about an order from earlier syncs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldOrder {
    /// The fingerprint of the content last recorded.
    pub fingerprint: Fingerprint,
    /// The status last recorded.
    pub status: OrderStatus,
    /// Whether it is in the connection's scope.
    pub in_scope: bool,
    /// Whether the source no longer has it.
    pub removed: bool,
}

/// What the source shows of an order now.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The order was read; `in_scope` tells whether it matches the filter and date range.
    Read {
        /// Its content.
        order: Box<ImportedOrder>,
        /// Whether it is in scope.
        in_scope: bool,
    },
    /// The source has no order with this id any more (checked explicitly, archived included).
    Gone,
}

/// One order as the source shows it now, by its id there.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedOrder {
    /// Its id in the source.
    pub source_order_id: i64,
    /// What the source shows.
    pub observation: Observation,
}

/// The change to record for one order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderChange {
    /// First seen, in scope.
    Imported(Box<ImportedOrder>, Fingerprint),
    /// Its content changed.
    Updated(Box<ImportedOrder>, Fingerprint),
    /// It was cancelled in the source.
    Cancelled(Box<ImportedOrder>, Fingerprint),
    /// It no longer matches the scope (re-dated, filter narrowed); kept, excluded from planning.
    LeftScope(Box<ImportedOrder>, Fingerprint),
    /// It matches the scope again.
    ReturnedToScope(Box<ImportedOrder>, Fingerprint),
    /// The source deleted it.
    RemovedFromSource,
}

/// Decides what to record. `None` means nothing changed, which costs nothing downstream.
pub fn decide(held: Option<&HeldOrder>, observation: Observation) -> Option<OrderChange> {
    match (held, observation) {
        (
            None,
            Observation::Read {
                order,
                in_scope: true,
            },
        ) => {
            let fingerprint = order.fingerprint();
            Some(OrderChange::Imported(order, fingerprint))
        }
        (None, _) => None,
        (Some(held), Observation::Gone) => {
            (!held.removed).then_some(OrderChange::RemovedFromSource)
        }
        (Some(held), Observation::Read { order, in_scope }) => decide_read(held, order, in_scope),
    }
}

fn decide_read(held: &HeldOrder, order: Box<ImportedOrder>, in_scope: bool) -> Option<OrderChange> {
    let fingerprint = order.fingerprint();
    let newly_cancelled =
        order.status == OrderStatus::Cancelled && held.status != OrderStatus::Cancelled;
    let was_in_scope = held.in_scope && !held.removed;

    if newly_cancelled {
        return Some(OrderChange::Cancelled(order, fingerprint));
    }
    if order.status == OrderStatus::Cancelled {
        // A cancelled order drops out of a filter of confirmed orders by its status alone;
        // that is not news. Only its content can still change.
        let changed = fingerprint != held.fingerprint;
        return changed.then_some(OrderChange::Updated(order, fingerprint));
    }
    match (was_in_scope, in_scope) {
        (false, true) => Some(OrderChange::ReturnedToScope(order, fingerprint)),
        (true, false) => Some(OrderChange::LeftScope(order, fingerprint)),
        (true, true) if fingerprint != held.fingerprint => {
            Some(OrderChange::Updated(order, fingerprint))
        }
        _ => None,
    }
}

impl OrderChange {
    /// What is held after this change, given what was held before.
    pub fn held_after(&self, before: Option<&HeldOrder>) -> Option<HeldOrder> {
        let with = |order: &ImportedOrder, fingerprint: &Fingerprint, in_scope: bool| HeldOrder {
            fingerprint: fingerprint.clone(),
            status: order.status,
            in_scope,
            removed: false,
        };
        match self {
            Self::Imported(order, fp)
            | Self::Updated(order, fp)
            | Self::ReturnedToScope(order, fp) => Some(with(order, fp, true)),
            Self::Cancelled(order, fp) => Some(with(order, fp, before.is_none_or(|b| b.in_scope))),
            Self::LeftScope(order, fp) => Some(with(order, fp, false)),
            Self::RemovedFromSource => before.map(|b| HeldOrder {
                removed: true,
                ..b.clone()
            }),
        }
    }
}
