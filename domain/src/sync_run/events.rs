//! What happened to a sync run. Event type strings and versions are written by hand.

use std::ops::AddAssign;

use chrono::{DateTime, NaiveDateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::SyncRunId;
use crate::connection::SourceKey;
use crate::ids::{AccountId, ConnectionId};

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncTrigger {
    /// "Sync Now".
    Manual,
    /// The connection's schedule.
    Scheduled,
    /// A full re-sync: the cursor is ignored and the whole scope is re-read and reconciled.
    FullResync,
}

/// What a run has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    /// Orders read from the source.
    pub fetched: u64,
    /// Orders imported for the first time.
    pub imported: u64,
    /// Orders whose content changed.
    pub updated: u64,
    /// Orders cancelled in the source.
    pub cancelled: u64,
    /// Orders deleted in the source.
    pub removed: u64,
    /// Orders that left the scope.
    pub out_of_scope: u64,
    /// Orders read again without change.
    pub unchanged: u64,
    /// Product lines in scope whose product is not mapped to an item.
    pub unmapped_lines: u64,
}

impl AddAssign for SyncCounts {
    fn add_assign(&mut self, other: Self) {
        self.fetched += other.fetched;
        self.imported += other.imported;
        self.updated += other.updated;
        self.cancelled += other.cancelled;
        self.removed += other.removed;
        self.out_of_scope += other.out_of_scope;
        self.unchanged += other.unchanged;
        self.unmapped_lines += other.unmapped_lines;
    }
}

/// Where reading the source continues: the second of `write_date` being read and the last
/// order id read within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SyncCursor {
    /// A `write_date` truncated to the second, UTC.
    pub second: NaiveDateTime,
    /// The last order id read within that second.
    pub last_id: i64,
}

/// Why a run failed, in the terms of the troubleshooting guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFailure {
    /// An `ODOO_*` code, `CANCELLED_BY_USER`, `INTERRUPTED` or `INTERNAL`.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// What the user can do.
    pub hint: Option<String>,
}

/// An event of the sync run aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum SyncRunEvent {
    /// A run was asked for; it waits for a worker.
    SyncRequested {
        /// The run.
        run_id: SyncRunId,
        /// Its account.
        account_id: AccountId,
        /// The connection it syncs.
        connection_id: ConnectionId,
        /// The source that connection reads.
        source: SourceKey,
        /// What asked for it.
        trigger: SyncTrigger,
        /// When.
        at: DateTime<Utc>,
    },
    /// A worker started the run.
    SyncStarted {
        /// When.
        at: DateTime<Utc>,
    },
    /// A batch of orders was committed with the cursor after it.
    SyncBatchCommitted {
        /// What the batch did.
        counts: SyncCounts,
        /// Where reading continues, if the batch moved it.
        cursor: Option<SyncCursor>,
    },
    /// Someone asked the run to stop after its current batch.
    SyncCancelRequested {
        /// When.
        at: DateTime<Utc>,
    },
    /// The run finished and every product line in scope is mapped.
    SyncCompleted {
        /// When.
        at: DateTime<Utc>,
    },
    /// The run finished with product lines whose products are not mapped to items; its data
    /// is imported all the same.
    ResolutionRequired {
        /// How many such lines are in scope.
        unmapped_lines: u64,
        /// When.
        at: DateTime<Utc>,
    },
    /// The last unmapped line of the run's scope was mapped.
    SyncResolved {
        /// When.
        at: DateTime<Utc>,
    },
    /// The run stopped without finishing.
    SyncFailed {
        /// Why.
        failure: RunFailure,
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for SyncRunEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::SyncRequested { .. } => "SyncRequested",
            Self::SyncStarted { .. } => "SyncStarted",
            Self::SyncBatchCommitted { .. } => "SyncBatchCommitted",
            Self::SyncCancelRequested { .. } => "SyncCancelRequested",
            Self::SyncCompleted { .. } => "SyncCompleted",
            Self::ResolutionRequired { .. } => "ResolutionRequired",
            Self::SyncResolved { .. } => "SyncResolved",
            Self::SyncFailed { .. } => "SyncFailed",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
