//! Sales orders as External Sync holds them: the normalised content imported from a source,
//! its fingerprint, and the decision of what a sync records about each order.
//!
//! An order is identified by its account, its source (normalised URL and database) and the
//! source's order id — not by the connection — so a connection deleted and created again to
//! the same source continues the same records.
//!
//! TODO(#4): the SyncRun aggregate, the batched import that applies these decisions, and the
//! events that record them.

mod decision;
mod model;

pub use decision::{decide, HeldOrder, Observation, OrderChange};
pub use model::{
    round_quantity, Fingerprint, ImportedLine, ImportedOrder, LineKind, OrderStatus, ProductRef,
    SourceRef,
};

#[cfg(test)]
mod tests;
