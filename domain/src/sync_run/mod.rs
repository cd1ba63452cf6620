//! A sync run: one pass that brings a connection's orders up to date. Its lifecycle is
//! `Pending` → `Running` → `Completed`, `ResolutionRequired` or `Failed`; while it runs, each
//! committed batch adds to its counts.
//!
//! The decisions are pure: the sync engine records these events through its own write path,
//! together with the order events of each batch and the source's cursor, in one transaction
//! (`application::sync` runs it; `infrastructure::sync_store` writes it).

mod aggregate;
mod events;

pub use aggregate::{RunError, RunStatus, SyncRun, SyncRunCommand};
pub use events::{RunFailure, SyncCounts, SyncCursor, SyncRunEvent, SyncTrigger};

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A sync run's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SyncRunId(Uuid);

impl SyncRunId {
    /// A new, random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Reads an id from its text form.
    pub fn parse(raw: &str) -> Option<Self> {
        Uuid::parse_str(raw).ok().map(Self)
    }
}

impl Default for SyncRunId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SyncRunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests;
