//! Sales orders as External Sync holds them: the normalised content imported from a source,
//! its fingerprint, and the decision of what a sync records about each order.
//!
//! An order is identified by its account, its source (normalised URL and database) and the
//! source's order id — not by the connection — so a connection deleted and created again to
//! the same source continues the same records.
//!
//! Each order has its own event stream, so loading or extending one never replays another's.
//!
//! The batched import that applies these decisions is `application::sync`.

mod decision;
mod events;
mod model;

pub use decision::{decide, HeldOrder, Observation, ObservedOrder, OrderChange};
pub use events::{OrderEvent, RecordedBy};
pub use model::{
    round_quantity, Fingerprint, ImportedLine, ImportedOrder, LineKind, OrderStatus, ProductRef,
    SourceRef,
};

#[cfg(test)]
mod tests;
