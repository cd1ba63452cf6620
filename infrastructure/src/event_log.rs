//! Every event in the global order, for projections and auditors.
//!
//! Positions are handed out at insert, not at commit, so a transaction that commits late can
//! leave a lower position behind a reader that already moved on. This reader therefore orders
//! by (transaction id, position) and only returns events of transactions older than every
//! transaction still running. Whatever commits later has a transaction id at or above that
//! horizon, so it sorts after everything already returned: nothing is skipped, nothing
//! repeats.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgPool};

/// A place in the global order. `Checkpoint::START` lies before every event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checkpoint {
    /// The writing transaction's id.
    pub transaction_id: i64,
    /// The event's global position.
    pub position: i64,
}

impl Checkpoint {
    /// Before every event.
    pub const START: Self = Self {
        transaction_id: 0,
        position: 0,
    };
}

/// One stored event with its place in the global order.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct RecordedEvent {
    /// The writing transaction's id.
    pub transaction_id: i64,
    /// The global position.
    pub global_position: i64,
    /// The aggregate's type, e.g. `connection`.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// The event's number within its aggregate, from 1.
    pub sequence: i64,
    /// The stable event type.
    pub event_type: String,
    /// The event type's version.
    pub event_version: String,
    /// The event's data.
    pub payload: Value,
    /// Account, actor, correlation id, recorded time.
    pub metadata: Value,
    /// The account the event belongs to.
    pub account_id: String,
    /// When the writing transaction started.
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// This event's place in the global order.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            transaction_id: self.transaction_id,
            position: self.global_position,
        }
    }
}

/// Reads the event table in the global order.
#[derive(Debug, Clone)]
pub struct EventLog {
    pool: PgPool,
}

impl EventLog {
    /// A reader on this pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Up to `limit` events after `after`, in the global order, from settled transactions only.
    pub async fn read_after(
        &self,
        after: Checkpoint,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, sqlx::Error> {
        let mut connection = self.pool.acquire().await?;
        read_after_on(&mut connection, after, limit).await
    }
}

/// [`EventLog::read_after`] on a connection the caller already holds, such as a projection's
/// batch transaction: a reader that holds one connection never waits for a second, so readers
/// cannot starve each other of a pool's connections. In a transaction that has locked or
/// written rows the horizon is at most its own id: what later transactions commit waits for
/// the next read.
pub async fn read_after_on(
    connection: &mut PgConnection,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<RecordedEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT transaction_id::text::bigint AS transaction_id, global_position,
                aggregate_type, aggregate_id, sequence, event_type, event_version,
                payload, metadata, account_id, recorded_at
           FROM events
          WHERE (transaction_id, global_position) > ($1::bigint::text::xid8, $2)
            AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY transaction_id, global_position
          LIMIT $3",
    )
    .bind(after.transaction_id)
    .bind(after.position)
    .bind(limit)
    .fetch_all(connection)
    .await
}
