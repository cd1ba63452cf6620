//! The sync engine's own write path into the event store. A batch's order events, the run's
//! batch event and the cursor that follows them commit in one transaction, with the same
//! invariants as every other write: per-stream sequences (the primary key refuses a
//! concurrent writer), complete metadata, and the global order of the `events` table.
//!
//! What is held of each order and each run is kept in tables updated in that transaction, so
//! a batch decides without replaying streams: the cost of a run grows with its own events.

use std::collections::HashMap;

use application::sync::{Feed, RunContext, SyncStore, SyncStoreRefusal};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use cqrs_es::DomainEvent;
use domain::connection::SourceKey;
use domain::ids::{AccountId, Actor, ConnectionId};
use domain::metadata::EventMetadata;
use domain::sales_order::{
    decide, Fingerprint, HeldOrder, Observation, ObservedOrder, OrderChange, OrderEvent,
    OrderStatus, RecordedBy,
};
use domain::sync_run::{
    RunError, RunFailure, RunStatus, SyncCounts, SyncCursor, SyncRun, SyncRunCommand, SyncRunEvent,
    SyncRunId, SyncTrigger,
};
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::mapping_store::{self, HeldProducts, MappingFault};

/// Why a sync write was refused.
#[derive(Debug, thiserror::Error)]
pub enum SyncStoreError {
    /// The connection has a run that has not finished; it is that run.
    #[error("the connection already has a sync run in progress")]
    RunInProgress(SyncRunId),
    /// A scheduled run was asked for after the connection's schedule stopped (switched to
    /// manual, deactivated, paused or deleted).
    #[error("the connection's schedule has stopped")]
    ScheduleStopped,
    /// The run's lifecycle does not allow the step.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Another writer extended a stream first.
    #[error("another change was recorded first")]
    Conflict,
    /// A stored value could not be read back.
    #[error("stored sync state unreadable: {0}")]
    Corrupt(String),
    /// Mapping by SKU at the end of a run failed.
    #[error("mapping by SKU failed")]
    Mapping(#[source] Box<MappingFault>),
    /// The database failed.
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for SyncStoreError {
    fn from(error: sqlx::Error) -> Self {
        let unique_violation = error
            .as_database_error()
            .is_some_and(|e| e.code().as_deref() == Some("23505"));
        if unique_violation {
            Self::Conflict
        } else {
            Self::Database(error)
        }
    }
}

/// One event to append, its payload serialised once, as JSON text.
struct NewEvent {
    aggregate_type: &'static str,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    payload: String,
}

/// The sync engine's store on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSyncStore {
    pool: PgPool,
    stale_after: std::time::Duration,
}

impl PgSyncStore {
    /// How long a run may go without recording anything before it counts as interrupted.
    pub const DEFAULT_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(900);

    /// A store on this pool.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            stale_after: Self::DEFAULT_STALE_AFTER,
        }
    }

    /// A store that treats runs silent for `stale_after` as interrupted.
    pub fn with_stale_after(pool: PgPool, stale_after: std::time::Duration) -> Self {
        Self { pool, stale_after }
    }

    /// Records a requested run, unless the connection has one in progress.
    pub async fn request(
        &self,
        ctx: &RunContext,
        trigger: SyncTrigger,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreError> {
        let mut tx = self.pool.begin().await?;
        if trigger == SyncTrigger::Scheduled && !schedule_running(&mut tx, ctx).await? {
            return Err(SyncStoreError::ScheduleStopped);
        }
        let inserted = sqlx::query(
            "INSERT INTO sync_runs (run_id, account_id, connection_id, source_digest, status, sequence, requested_at)
             VALUES ($1, $2, $3, $4, 'PENDING', 0, $5)
             ON CONFLICT (connection_id) WHERE status IN ('PENDING', 'RUNNING') DO NOTHING",
        )
        .bind(ctx.run_id.to_string())
        .bind(ctx.account_id.as_str())
        .bind(ctx.connection_id.to_string())
        .bind(ctx.source.digest())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            let (active, stale) = active_run(&mut tx, &ctx.connection_id, self.stale_after).await?;
            if !stale {
                return Err(SyncStoreError::RunInProgress(active));
            }
            self.interrupt(&mut tx, ctx, active, at).await?;
            tx.commit().await?;
            return Box::pin(self.request(ctx, trigger, at)).await;
        }

        let command = SyncRunCommand::Request {
            run_id: ctx.run_id,
            account_id: ctx.account_id.clone(),
            connection_id: ctx.connection_id,
            source: ctx.source.clone(),
            trigger,
            at,
        };
        let events = SyncRun::default().decide(command)?;
        self.append_run_events(&mut tx, ctx, (SyncRun::default(), 0), events)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a requested run as started.
    pub async fn start(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreError> {
        self.run_step(
            ctx,
            SyncRunCommand::Start {
                account_id: ctx.account_id.clone(),
                at,
            },
        )
        .await
    }

    /// Ends a running run under its source's mapping lock: maps the source's products by SKU
    /// where an item matches, then counts the product lines of held orders in scope whose
    /// product has no mapping. Without any the run is completed; with some it needs
    /// resolution, and which products were unmapped is kept with it.
    pub async fn finish(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreError> {
        let digest = ctx.source.digest();
        let mut tx = self.pool.begin().await?;
        mapping_store::lock_source(&mut tx, &ctx.account_id, &digest).await?;
        let locked = self.lock_run(&mut tx, ctx).await?;
        let metadata = EventMetadata {
            account_id: ctx.account_id.clone(),
            actor: ctx.actor.clone(),
            correlation_id: ctx.correlation_id,
            recorded_at: at,
        };
        mapping_store::auto_map_source(&mut tx, self, &metadata, &digest).await?;
        let unmapped = mapping_store::unmapped_in_scope(&mut tx, &ctx.account_id, &digest).await?;

        let unmapped_lines = unmapped.iter().map(|(_, lines)| lines.unsigned_abs()).sum();
        let command = SyncRunCommand::Finish {
            account_id: ctx.account_id.clone(),
            unmapped_lines,
            at,
        };
        let events = locked.0.decide(command)?;
        self.append_run_events(&mut tx, ctx, locked, events).await?;
        if unmapped_lines > 0 {
            mapping_store::record_run_unmapped(&mut tx, ctx, &unmapped).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that a run needing resolution is resolved, inside the caller's transaction
    /// (which holds the run's source mapping lock).
    pub async fn resolve_in(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        ctx: &RunContext,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreError> {
        let locked = self.lock_run(tx, ctx).await?;
        let command = SyncRunCommand::Resolve {
            account_id: ctx.account_id.clone(),
            at,
        };
        let events = locked.0.decide(command)?;
        self.append_run_events(tx, ctx, locked, events).await
    }

    /// Ends a pending or running run as failed.
    pub async fn fail(
        &self,
        ctx: &RunContext,
        failure: RunFailure,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreError> {
        let command = SyncRunCommand::Fail {
            account_id: ctx.account_id.clone(),
            failure,
            at,
        };
        self.run_step(ctx, command).await
    }

    /// Records a batch of the orders feed; see [`PgSyncStore::commit_feed_batch`].
    pub async fn commit_batch(
        &self,
        ctx: &RunContext,
        orders: Vec<ObservedOrder>,
        cursor: Option<SyncCursor>,
    ) -> Result<SyncCounts, SyncStoreError> {
        self.commit_feed_batch(ctx, orders, Feed::Orders, cursor)
            .await
    }

    /// Records a batch: what changed in each order, the run's counts and the cursor of the
    /// feed after the batch, all in one transaction. Returns what the batch did.
    ///
    /// Batches of one source (two connections to the same Odoo may run at once) take turns
    /// from their first statement: a batch takes its transaction id only after the one before
    /// it committed, so an order's events follow each other in the event log's global order.
    pub async fn commit_feed_batch(
        &self,
        ctx: &RunContext,
        orders: Vec<ObservedOrder>,
        feed: Feed,
        cursor: Option<SyncCursor>,
    ) -> Result<SyncCounts, SyncStoreError> {
        let mut tx = self.pool.begin().await?;
        lock_source_orders(&mut tx, ctx).await?;
        let locked = self.lock_run(&mut tx, ctx).await?;
        let mut held = self.lock_held(&mut tx, ctx, &orders).await?;

        let by = RecordedBy {
            run_id: ctx.run_id,
            connection_id: ctx.connection_id,
        };
        let mut counts = SyncCounts::default();
        let mut events = Vec::new();
        let mut products = Vec::new();
        for observed in orders {
            counts.fetched += u64::from(matches!(observed.observation, Observation::Read { .. }));
            let before = held.get(&observed.source_order_id).cloned();
            match decide(before.as_ref().map(|h| &h.state), observed.observation) {
                Some(change) => {
                    count(&mut counts, &change);
                    let next = next_held(ctx, observed.source_order_id, before, &change)?;
                    let id = observed.source_order_id;
                    products.push(HeldProducts::after(id, &change, &next.state));
                    events.push(order_event(&next, OrderEvent::of(change, by))?);
                    held.insert(observed.source_order_id, next);
                }
                None => counts.unchanged += 1,
            }
        }

        let recorded_cursor = cursor.filter(|_| feed == Feed::Orders);
        let command = SyncRunCommand::RecordBatch {
            account_id: ctx.account_id.clone(),
            counts,
            cursor: recorded_cursor,
        };
        let run_events = locked.0.decide(command)?;
        self.write_held(&mut tx, ctx, &held, &events).await?;
        mapping_store::note_held_products(&mut tx, ctx, &products).await?;
        append(&mut tx, ctx, events).await?;
        self.append_run_events(&mut tx, ctx, locked, run_events)
            .await?;
        if let Some(cursor) = cursor {
            save_cursor(&mut tx, ctx, feed, cursor).await?;
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Closes as `INTERRUPTED` every unfinished run that recorded nothing for the stale
    /// period: its process died or lost its claim. Safe beside other replicas doing the same.
    /// Returns how many runs it closed.
    pub async fn interrupt_stale(&self) -> Result<usize, SyncStoreError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(String, String, Value)> = sqlx::query_as(
            "SELECT run_id, account_id, state FROM sync_runs
              WHERE status IN ('PENDING', 'RUNNING') AND heartbeat_at < now() - make_interval(secs => $1)
                FOR UPDATE SKIP LOCKED",
        )
        .bind(self.stale_after.as_secs_f64())
        .fetch_all(&mut *tx)
        .await?;
        let closed = rows.len();
        for (run_id, account, state) in rows {
            let ctx = stale_context(&run_id, &account, state)?;
            self.interrupt(&mut tx, &ctx, ctx.run_id, Utc::now())
                .await?;
        }
        tx.commit().await?;
        Ok(closed)
    }

    /// Renews the lease of an unfinished run; `false` when it is no longer unfinished.
    pub async fn renew_lease(&self, ctx: &RunContext) -> Result<bool, SyncStoreError> {
        let renewed = sqlx::query(
            "UPDATE sync_runs SET heartbeat_at = now()
              WHERE run_id = $1 AND status IN ('PENDING', 'RUNNING')",
        )
        .bind(ctx.run_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Asks a run to stop: a pending run fails at once, a running one is flagged.
    pub async fn cancel(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreError> {
        let command = SyncRunCommand::Cancel {
            account_id: ctx.account_id.clone(),
            at,
        };
        self.run_step(ctx, command).await
    }

    /// Whether someone asked the run to stop.
    pub async fn cancel_requested(&self, ctx: &RunContext) -> Result<bool, SyncStoreError> {
        let flag: Option<bool> =
            sqlx::query_scalar("SELECT cancel_requested FROM sync_runs WHERE run_id = $1")
                .bind(ctx.run_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(flag.unwrap_or(false))
    }

    /// Ids of held orders not known to be deleted, above `after`, in order.
    pub async fn held_ids(
        &self,
        account: &AccountId,
        source: &SourceKey,
        after: i64,
        limit: u16,
    ) -> Result<Vec<i64>, SyncStoreError> {
        Ok(sqlx::query_scalar(
            "SELECT source_order_id FROM held_orders
              WHERE account_id = $1 AND source_digest = $2 AND NOT removed AND source_order_id > $3
              ORDER BY source_order_id LIMIT $4",
        )
        .bind(account.as_str())
        .bind(source.digest())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// When the held orders of a source were last checked against it.
    pub async fn last_reconciled(
        &self,
        account: &AccountId,
        source: &SourceKey,
    ) -> Result<Option<DateTime<Utc>>, SyncStoreError> {
        Ok(sqlx::query_scalar(
            "SELECT reconciled_at FROM sync_reconciliations WHERE account_id = $1 AND source_digest = $2",
        )
        .bind(account.as_str())
        .bind(source.digest())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Notes that the held orders of a source were checked against it.
    pub async fn mark_reconciled(
        &self,
        account: &AccountId,
        source: &SourceKey,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreError> {
        sqlx::query(
            "INSERT INTO sync_reconciliations (account_id, source_digest, reconciled_at) VALUES ($1, $2, $3)
             ON CONFLICT (account_id, source_digest) DO UPDATE SET reconciled_at = EXCLUDED.reconciled_at",
        )
        .bind(account.as_str())
        .bind(source.digest())
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Runs of a connection, newest first, after `after` (requested time and id of the last
    /// run of the previous page), with the number of runs matching.
    pub async fn list_runs(
        &self,
        account: &AccountId,
        connection: &ConnectionId,
        status: Option<RunStatus>,
        after: Option<(DateTime<Utc>, SyncRunId)>,
        limit: u16,
    ) -> Result<(Vec<SyncRun>, i64), SyncStoreError> {
        let status = status.map(status_text);
        let (after_at, after_id) =
            after.map_or((None, None), |(at, id)| (Some(at), Some(id.to_string())));
        let states: Vec<Value> = sqlx::query_scalar(
            "SELECT state FROM sync_runs
              WHERE account_id = $1 AND connection_id = $2 AND ($3::text IS NULL OR status = $3)
                AND ($4::timestamptz IS NULL OR (requested_at, run_id) < ($4, $5))
              ORDER BY requested_at DESC, run_id DESC LIMIT $6",
        )
        .bind(account.as_str())
        .bind(connection.to_string())
        .bind(status)
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sync_runs
              WHERE account_id = $1 AND connection_id = $2 AND ($3::text IS NULL OR status = $3)",
        )
        .bind(account.as_str())
        .bind(connection.to_string())
        .bind(status)
        .fetch_one(&self.pool)
        .await?;
        let runs = states
            .into_iter()
            .map(|state| {
                serde_json::from_value(state).map_err(|e| SyncStoreError::Corrupt(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok((runs, total))
    }

    /// Where reading a source's orders feed continues, if it was ever read.
    pub async fn cursor(
        &self,
        account: &AccountId,
        source: &SourceKey,
    ) -> Result<Option<SyncCursor>, SyncStoreError> {
        self.feed_cursor(account, source, Feed::Orders).await
    }

    /// Where reading a feed of a source continues, if it was ever read.
    pub async fn feed_cursor(
        &self,
        account: &AccountId,
        source: &SourceKey,
        feed: Feed,
    ) -> Result<Option<SyncCursor>, SyncStoreError> {
        let row: Option<(NaiveDateTime, i64)> = sqlx::query_as(
            "SELECT second, last_id FROM sync_cursors
              WHERE account_id = $1 AND source_digest = $2 AND feed = $3",
        )
        .bind(account.as_str())
        .bind(source.digest())
        .bind(feed.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(second, last_id)| SyncCursor { second, last_id }))
    }

    /// Closes a run whose worker went silent as failed with `INTERRUPTED`.
    async fn interrupt(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        ctx: &RunContext,
        run_id: SyncRunId,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreError> {
        let stale = RunContext {
            run_id,
            ..ctx.clone()
        };
        let locked = self.lock_run(tx, &stale).await?;
        let failure = RunFailure {
            code: "INTERRUPTED".to_owned(),
            message: "the sync stopped recording progress; its process died or lost its claim"
                .to_owned(),
            hint: Some(
                "start the sync again; it continues from the last committed batch".to_owned(),
            ),
        };
        let command = SyncRunCommand::Fail {
            account_id: ctx.account_id.clone(),
            failure,
            at,
        };
        let events = locked.0.decide(command)?;
        tracing::warn!(run = %run_id, "sync run interrupted");
        self.append_run_events(tx, &stale, locked, events).await
    }

    async fn run_step(
        &self,
        ctx: &RunContext,
        command: SyncRunCommand,
    ) -> Result<(), SyncStoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = self.lock_run(&mut tx, ctx).await?;
        let events = locked.0.decide(command)?;
        self.append_run_events(&mut tx, ctx, locked, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The run's state as its row holds it, locked for this transaction, and its stream's
    /// last sequence.
    async fn lock_run(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        ctx: &RunContext,
    ) -> Result<(SyncRun, i64), SyncStoreError> {
        let row = sqlx::query(
            "SELECT state, sequence FROM sync_runs WHERE run_id = $1 AND account_id = $2 FOR UPDATE",
        )
        .bind(ctx.run_id.to_string())
        .bind(ctx.account_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(RunError::NotFound)?;
        let state: Value = row.try_get("state")?;
        let run: SyncRun =
            serde_json::from_value(state).map_err(|e| SyncStoreError::Corrupt(e.to_string()))?;
        Ok((run, row.try_get("sequence")?))
    }

    /// Appends a run's events after `sequence` and keeps its row in step with the state they
    /// leave `run` in.
    async fn append_run_events(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        ctx: &RunContext,
        (mut run, sequence): (SyncRun, i64),
        events: Vec<SyncRunEvent>,
    ) -> Result<(), SyncStoreError> {
        let mut rows = Vec::with_capacity(events.len());
        let mut next = sequence;
        for event in events {
            next += 1;
            cqrs_es::Aggregate::apply(&mut run, event.clone());
            rows.push(NewEvent {
                aggregate_type: "sync_run",
                aggregate_id: ctx.run_id.to_string(),
                sequence: next,
                event_type: event.event_type(),
                payload: to_json_text(&event)?,
            });
        }
        append(tx, ctx, rows).await?;
        sqlx::query(
            "UPDATE sync_runs SET sequence = $2, status = $3, heartbeat_at = now(),
                    finished_at = CASE WHEN $4 THEN now() ELSE finished_at END,
                    cancel_requested = $5, state = $6
              WHERE run_id = $1",
        )
        .bind(ctx.run_id.to_string())
        .bind(next)
        .bind(status_text(run.status))
        .bind(run.status.is_finished())
        .bind(run.cancel_requested)
        .bind(to_json(&run)?)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// What is held of a batch's orders, each row locked, in id order so that concurrent
    /// writers never wait on each other in a cycle.
    ///
    /// Each id is looked up on its own through the primary key. A single `= ANY` scan
    /// depends on the table's statistics: before `held_orders` is first analysed (a first
    /// sync fills it faster than autovacuum looks) PostgreSQL expects a couple of rows per
    /// source and reads every held order of the source for each batch, 85 ms a batch at
    /// 90,000 orders, so a first sync slowed down as it went.
    async fn lock_held(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        ctx: &RunContext,
        orders: &[ObservedOrder],
    ) -> Result<HashMap<i64, Held>, SyncStoreError> {
        let mut ids: Vec<i64> = orders.iter().map(|o| o.source_order_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = sqlx::query(
            "SELECT h.source_order_id, h.aggregate_id, h.sequence, h.fingerprint, h.status,
                    h.in_scope, h.removed
               FROM UNNEST($3::bigint[]) AS ids(id)
              CROSS JOIN LATERAL (
                    SELECT * FROM held_orders
                     WHERE account_id = $1 AND source_digest = $2 AND source_order_id = ids.id
                       FOR UPDATE) AS h",
        )
        .bind(ctx.account_id.as_str())
        .bind(ctx.source.digest())
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(held_from_row).collect()
    }

    async fn write_held(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        ctx: &RunContext,
        held: &HashMap<i64, Held>,
        events: &[NewEvent],
    ) -> Result<(), SyncStoreError> {
        let touched: std::collections::HashSet<&str> =
            events.iter().map(|e| e.aggregate_id.as_str()).collect();
        let rows: Vec<(&i64, &Held)> = held
            .iter()
            .filter(|(_, h)| touched.contains(h.aggregate_id.as_str()))
            .collect();
        let ids: Vec<i64> = rows.iter().map(|(id, _)| **id).collect();
        let aggregates: Vec<&str> = rows.iter().map(|(_, h)| h.aggregate_id.as_str()).collect();
        let sequences: Vec<i64> = rows.iter().map(|(_, h)| h.sequence).collect();
        let fingerprints: Vec<&str> = rows
            .iter()
            .map(|(_, h)| h.state.fingerprint.as_str())
            .collect();
        let statuses: Vec<&str> = rows
            .iter()
            .map(|(_, h)| order_status_text(h.state.status))
            .collect();
        let scopes: Vec<bool> = rows.iter().map(|(_, h)| h.state.in_scope).collect();
        let removed: Vec<bool> = rows.iter().map(|(_, h)| h.state.removed).collect();
        sqlx::query(
            "INSERT INTO held_orders (account_id, source_digest, source_order_id, aggregate_id, sequence,
                                      fingerprint, status, in_scope, removed, connection_id, last_run_id)
             SELECT $1, $2, u.id, u.aggregate, u.sequence, u.fingerprint, u.status, u.in_scope, u.removed, $3, $4
               FROM UNNEST($5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bool[], $11::bool[])
                    AS u(id, aggregate, sequence, fingerprint, status, in_scope, removed)
             ON CONFLICT (account_id, source_digest, source_order_id) DO UPDATE
                SET sequence = EXCLUDED.sequence, fingerprint = EXCLUDED.fingerprint,
                    status = EXCLUDED.status, in_scope = EXCLUDED.in_scope, removed = EXCLUDED.removed,
                    connection_id = EXCLUDED.connection_id, last_run_id = EXCLUDED.last_run_id",
        )
        .bind(ctx.account_id.as_str())
        .bind(ctx.source.digest())
        .bind(ctx.connection_id.to_string())
        .bind(ctx.run_id.to_string())
        .bind(&ids)
        .bind(&aggregates)
        .bind(&sequences)
        .bind(&fingerprints)
        .bind(&statuses)
        .bind(&scopes)
        .bind(&removed)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// The context of a run found stale: the service itself closes it.
fn stale_context(run_id: &str, account: &str, state: Value) -> Result<RunContext, SyncStoreError> {
    let corrupt = |what: &str| SyncStoreError::Corrupt(format!("stale run {run_id}: {what}"));
    let run: SyncRun = serde_json::from_value(state).map_err(|e| corrupt(&e.to_string()))?;
    Ok(RunContext {
        run_id: SyncRunId::parse(run_id).ok_or_else(|| corrupt("id"))?,
        account_id: AccountId::parse(account).map_err(|_| corrupt("account"))?,
        connection_id: run.connection_id.ok_or_else(|| corrupt("connection"))?,
        source: run.source.ok_or_else(|| corrupt("source"))?,
        actor: Actor::system(),
        correlation_id: uuid::Uuid::new_v4(),
    })
}

/// The unfinished run of a connection, read in the transaction that found it, and whether
/// it has recorded nothing for `stale_after`.
async fn active_run(
    tx: &mut Transaction<'_, Postgres>,
    connection: &ConnectionId,
    stale_after: std::time::Duration,
) -> Result<(SyncRunId, bool), SyncStoreError> {
    let (id, stale): (String, bool) = sqlx::query_as(
        "SELECT run_id, heartbeat_at < now() - make_interval(secs => $2)
           FROM sync_runs WHERE connection_id = $1 AND status IN ('PENDING', 'RUNNING')",
    )
    .bind(connection.to_string())
    .bind(stale_after.as_secs_f64())
    .fetch_one(&mut **tx)
    .await?;
    let id =
        SyncRunId::parse(&id).ok_or_else(|| SyncStoreError::Corrupt(format!("run id {id:?}")))?;
    Ok((id, stale))
}

/// What is held of one order, with its stream's id and last sequence.
#[derive(Debug, Clone)]
struct Held {
    aggregate_id: String,
    sequence: i64,
    state: HeldOrder,
}

fn next_held(
    ctx: &RunContext,
    source_order_id: i64,
    before: Option<Held>,
    change: &OrderChange,
) -> Result<Held, SyncStoreError> {
    let state = change
        .held_after(before.as_ref().map(|h| &h.state))
        .ok_or_else(|| SyncStoreError::Corrupt("a change without a held order".into()))?;
    let (aggregate_id, sequence) = match before {
        Some(held) => (held.aggregate_id, held.sequence + 1),
        None => (order_aggregate_id(ctx, source_order_id), 1),
    };
    Ok(Held {
        aggregate_id,
        sequence,
        state,
    })
}

/// An order's stream id: its account, source and id in the source.
pub fn order_aggregate_id(ctx: &RunContext, source_order_id: i64) -> String {
    format!(
        "{}:{}:{}",
        ctx.account_id,
        ctx.source.digest(),
        source_order_id
    )
}

fn order_event(held: &Held, event: OrderEvent) -> Result<NewEvent, SyncStoreError> {
    Ok(NewEvent {
        aggregate_type: "sales_order",
        aggregate_id: held.aggregate_id.clone(),
        sequence: held.sequence,
        event_type: event.event_type(),
        payload: to_json_text(&event)?,
    })
}

fn count(counts: &mut SyncCounts, change: &OrderChange) {
    match change {
        OrderChange::Imported(..) => counts.imported += 1,
        OrderChange::Updated(..) | OrderChange::ReturnedToScope(..) => counts.updated += 1,
        OrderChange::Cancelled(..) => counts.cancelled += 1,
        OrderChange::LeftScope(..) => counts.out_of_scope += 1,
        OrderChange::RemovedFromSource => counts.removed += 1,
    }
}

/// Appends events in one statement; the primary key refuses a sequence another writer took.
async fn append(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &RunContext,
    events: Vec<NewEvent>,
) -> Result<(), SyncStoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let metadata = json!({
        "account_id": ctx.account_id.as_str(),
        "actor": ctx.actor.as_str(),
        "correlation_id": ctx.correlation_id.to_string(),
        "recorded_at": Utc::now().to_rfc3339(),
    });
    let types: Vec<&str> = events.iter().map(|e| e.aggregate_type).collect();
    let ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    let event_types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT u.aggregate_type, u.aggregate_id, u.sequence, u.event_type, '1', u.payload::jsonb, $6
           FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])
                AS u(aggregate_type, aggregate_id, sequence, event_type, payload)",
    )
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .bind(&event_types)
    .bind(&payloads)
    .bind(&metadata)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn save_cursor(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &RunContext,
    feed: Feed,
    cursor: SyncCursor,
) -> Result<(), SyncStoreError> {
    sqlx::query(
        "INSERT INTO sync_cursors (account_id, source_digest, feed, second, last_id)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id, source_digest, feed) DO UPDATE
            SET (second, last_id) = (
                SELECT * FROM (VALUES (EXCLUDED.second, EXCLUDED.last_id),
                                      (sync_cursors.second, sync_cursors.last_id)) AS c(second, last_id)
                 ORDER BY 1 DESC, 2 DESC LIMIT 1)",
    )
    .bind(ctx.account_id.as_str())
    .bind(ctx.source.digest())
    .bind(feed.as_str())
    .bind(cursor.second)
    .bind(cursor.last_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn held_from_row(row: &sqlx::postgres::PgRow) -> Result<(i64, Held), SyncStoreError> {
    let state = HeldOrder {
        fingerprint: Fingerprint::from_stored(row.try_get("fingerprint")?),
        status: parse_order_status(&row.try_get::<String, _>("status")?)?,
        in_scope: row.try_get("in_scope")?,
        removed: row.try_get("removed")?,
    };
    let held = Held {
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        state,
    };
    Ok((row.try_get("source_order_id")?, held))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, SyncStoreError> {
    serde_json::to_value(value).map_err(|e| SyncStoreError::Corrupt(e.to_string()))
}

/// A value as JSON text, written straight from the value: no `Value` tree is built only to
/// be written out again when the statement is encoded.
fn to_json_text<T: serde::Serialize>(value: &T) -> Result<String, SyncStoreError> {
    serde_json::to_string(value).map_err(|e| SyncStoreError::Corrupt(e.to_string()))
}

fn status_text(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Pending => "PENDING",
        RunStatus::Running => "RUNNING",
        RunStatus::Completed => "COMPLETED",
        RunStatus::Failed => "FAILED",
        RunStatus::ResolutionRequired => "RESOLUTION_REQUIRED",
    }
}

fn order_status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Quotation => "QUOTATION",
        OrderStatus::Confirmed => "CONFIRMED",
        OrderStatus::Done => "DONE",
        OrderStatus::Cancelled => "CANCELLED",
    }
}

fn parse_order_status(text: &str) -> Result<OrderStatus, SyncStoreError> {
    [
        OrderStatus::Quotation,
        OrderStatus::Confirmed,
        OrderStatus::Done,
        OrderStatus::Cancelled,
    ]
    .into_iter()
    .find(|status| order_status_text(*status) == text)
    .ok_or_else(|| SyncStoreError::Corrupt(format!("order status {text:?}")))
}

impl From<MappingFault> for SyncStoreError {
    fn from(fault: MappingFault) -> Self {
        match fault {
            MappingFault::Database(error) => error.into(),
            other => Self::Mapping(Box::new(other)),
        }
    }
}

impl From<SyncStoreError> for SyncStoreRefusal {
    fn from(error: SyncStoreError) -> Self {
        match error {
            SyncStoreError::RunInProgress(run) => Self::RunInProgress(run),
            SyncStoreError::ScheduleStopped => Self::ScheduleStopped,
            other => Self::Failed(other.into()),
        }
    }
}

#[async_trait]
impl SyncStore for PgSyncStore {
    async fn request(
        &self,
        ctx: &RunContext,
        trigger: SyncTrigger,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal> {
        Ok(PgSyncStore::request(self, ctx, trigger, at).await?)
    }

    async fn start(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreRefusal> {
        Ok(PgSyncStore::start(self, ctx, at).await?)
    }

    async fn commit_batch(
        &self,
        ctx: &RunContext,
        orders: Vec<ObservedOrder>,
        feed: Feed,
        cursor: Option<SyncCursor>,
    ) -> Result<SyncCounts, SyncStoreRefusal> {
        Ok(PgSyncStore::commit_feed_batch(self, ctx, orders, feed, cursor).await?)
    }

    async fn finish(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreRefusal> {
        Ok(PgSyncStore::finish(self, ctx, at).await?)
    }

    async fn fail(
        &self,
        ctx: &RunContext,
        failure: RunFailure,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal> {
        Ok(PgSyncStore::fail(self, ctx, failure, at).await?)
    }

    async fn cursor(
        &self,
        account: &AccountId,
        source: &SourceKey,
        feed: Feed,
    ) -> Result<Option<SyncCursor>, SyncStoreRefusal> {
        Ok(PgSyncStore::feed_cursor(self, account, source, feed).await?)
    }

    async fn list_runs(
        &self,
        account: &AccountId,
        connection: &ConnectionId,
        status: Option<RunStatus>,
        after: Option<(DateTime<Utc>, SyncRunId)>,
        limit: u16,
    ) -> Result<(Vec<SyncRun>, i64), SyncStoreRefusal> {
        Ok(PgSyncStore::list_runs(self, account, connection, status, after, limit).await?)
    }

    async fn cancel_requested(&self, ctx: &RunContext) -> Result<bool, SyncStoreRefusal> {
        Ok(PgSyncStore::cancel_requested(self, ctx).await?)
    }

    async fn renew_lease(&self, ctx: &RunContext) -> Result<bool, SyncStoreRefusal> {
        Ok(PgSyncStore::renew_lease(self, ctx).await?)
    }

    async fn cancel(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreRefusal> {
        Ok(PgSyncStore::cancel(self, ctx, at).await?)
    }

    async fn held_ids(
        &self,
        account: &AccountId,
        source: &SourceKey,
        after: i64,
        limit: u16,
    ) -> Result<Vec<i64>, SyncStoreRefusal> {
        Ok(PgSyncStore::held_ids(self, account, source, after, limit).await?)
    }

    async fn last_reconciled(
        &self,
        account: &AccountId,
        source: &SourceKey,
    ) -> Result<Option<DateTime<Utc>>, SyncStoreRefusal> {
        Ok(PgSyncStore::last_reconciled(self, account, source).await?)
    }

    async fn mark_reconciled(
        &self,
        account: &AccountId,
        source: &SourceKey,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal> {
        Ok(PgSyncStore::mark_reconciled(self, account, source, at).await?)
    }
}

/// Whether the connection's schedule still runs, holding its row until the transaction ends:
/// a switch to manual, a deactivation, a pause or a deletion either committed before (and the
/// scheduled run is not requested) or waits until the run is recorded.
async fn schedule_running(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &RunContext,
) -> Result<bool, sqlx::Error> {
    let row: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM connection_schedules
          WHERE connection_id = $1 AND automatic AND active AND NOT deleted AND paused_reason IS NULL
            FOR SHARE",
    )
    .bind(ctx.connection_id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

/// Takes the lock that orders the batches of a source until the transaction ends. It is the
/// batch's first statement, before anything gives the transaction its id.
async fn lock_source_orders(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &RunContext,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!(
            "source_orders:{}:{}",
            ctx.account_id,
            ctx.source.digest()
        ))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
