//! Connection schedules on PostgreSQL (`connection_schedules`, kept in step with connection
//! events by a trigger). Replicas claim due slots with `FOR UPDATE SKIP LOCKED`; a claim is a
//! lease (`claimed_until`) that lapses if its replica dies before the run is requested.

use std::sync::Arc;
use std::time::Duration;

use application::schedule::{
    record, Claim, RunOutcome, RunOutcomes, SchedulePolicy, ScheduleState, ScheduleStore,
    ScheduleStoreError,
};
use application::sync::RunContext;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ids::{AccountId, ConnectionId};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tokio::sync::Notify;

/// The schedules of every connection, and the ear for how runs end.
#[derive(Debug, Clone)]
pub struct PgScheduleStore {
    pool: PgPool,
    policy: SchedulePolicy,
    ended: Arc<Notify>,
}

impl PgScheduleStore {
    /// A store on this pool with the deployment's schedule rules.
    pub fn new(pool: PgPool, policy: SchedulePolicy) -> Self {
        Self {
            pool,
            policy,
            ended: Arc::new(Notify::new()),
        }
    }

    /// Notified whenever a run of this process ends, so that the scheduler looks for an
    /// overdue slot at once instead of at its next tick.
    pub fn run_ended_signal(&self) -> Arc<Notify> {
        self.ended.clone()
    }
}

const COLUMNS: &str = "automatic, active, deleted, interval_seconds, next_run_at, \
    consecutive_failures, auth_failures, paused_reason, last_error_code, last_error_message";

fn failed(error: sqlx::Error) -> ScheduleStoreError {
    ScheduleStoreError(error.into())
}

fn corrupt(what: &str) -> ScheduleStoreError {
    ScheduleStoreError(anyhow::anyhow!("stored schedule unreadable: {what}"))
}

fn state_from_row(row: &PgRow) -> Result<ScheduleState, ScheduleStoreError> {
    let count = |column: &str| -> Result<u32, ScheduleStoreError> {
        let value: i32 = row.try_get(column).map_err(failed)?;
        u32::try_from(value).map_err(|_| corrupt(column))
    };
    let code: Option<String> = row.try_get("last_error_code").map_err(failed)?;
    let message: Option<String> = row.try_get("last_error_message").map_err(failed)?;
    Ok(ScheduleState {
        automatic: row.try_get("automatic").map_err(failed)?,
        active: row.try_get("active").map_err(failed)?,
        deleted: row.try_get("deleted").map_err(failed)?,
        interval_seconds: count("interval_seconds")?,
        next_run_at: row.try_get("next_run_at").map_err(failed)?,
        consecutive_failures: count("consecutive_failures")?,
        auth_failures: count("auth_failures")?,
        paused_reason: row.try_get("paused_reason").map_err(failed)?,
        last_error: code.zip(message),
    })
}

fn claim_from_row(row: &PgRow) -> Result<Claim, ScheduleStoreError> {
    let account: String = row.try_get("account_id").map_err(failed)?;
    let connection: String = row.try_get("connection_id").map_err(failed)?;
    Ok(Claim {
        account_id: AccountId::parse(&account).map_err(|_| corrupt("account"))?,
        connection_id: ConnectionId::parse(&connection).ok_or_else(|| corrupt("connection"))?,
        due_at: row.try_get("next_run_at").map_err(failed)?,
    })
}

fn as_i32(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

#[async_trait]
impl ScheduleStore for PgScheduleStore {
    async fn claim_due(
        &self,
        limit: u16,
        lease: Duration,
    ) -> Result<Vec<Claim>, ScheduleStoreError> {
        let rows = sqlx::query(
            "WITH due AS (
                SELECT s.connection_id FROM connection_schedules s
                 WHERE s.automatic AND s.active AND NOT s.deleted AND s.paused_reason IS NULL
                   AND s.next_run_at <= now()
                   AND (s.claimed_until IS NULL OR s.claimed_until < now())
                   AND NOT EXISTS (SELECT 1 FROM sync_runs r
                                    WHERE r.connection_id = s.connection_id
                                      AND r.status IN ('PENDING', 'RUNNING'))
                 ORDER BY s.next_run_at LIMIT $1
                   FOR UPDATE OF s SKIP LOCKED)
             UPDATE connection_schedules s SET claimed_until = now() + make_interval(secs => $2)
               FROM due WHERE s.connection_id = due.connection_id
             RETURNING s.account_id, s.connection_id, s.next_run_at",
        )
        .bind(i64::from(limit))
        .bind(lease.as_secs_f64())
        .fetch_all(&self.pool)
        .await
        .map_err(failed)?;
        rows.iter().map(claim_from_row).collect()
    }

    async fn confirm(
        &self,
        connection: &ConnectionId,
        at: DateTime<Utc>,
    ) -> Result<(), ScheduleStoreError> {
        sqlx::query(
            "UPDATE connection_schedules
                SET next_run_at = greatest(next_run_at, $2 + make_interval(secs => interval_seconds)),
                    last_run_at = $2, claimed_until = NULL
              WHERE connection_id = $1",
        )
        .bind(connection.to_string())
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn release(&self, claim: &Claim) -> Result<(), ScheduleStoreError> {
        sqlx::query(
            "UPDATE connection_schedules SET claimed_until = NULL WHERE connection_id = $1",
        )
        .bind(claim.connection_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn state(
        &self,
        account: &AccountId,
        connection: &ConnectionId,
    ) -> Result<Option<ScheduleState>, ScheduleStoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connection_schedules WHERE connection_id = $1 AND account_id = $2"
        ))
        .bind(connection.to_string())
        .bind(account.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(failed)?;
        row.as_ref().map(state_from_row).transpose()
    }

    async fn update(
        &self,
        account: &AccountId,
        connection: &ConnectionId,
        change: &(dyn for<'s> Fn(&'s ScheduleState) -> ScheduleState + Sync),
    ) -> Result<(), ScheduleStoreError> {
        let mut tx = self.pool.begin().await.map_err(failed)?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connection_schedules
              WHERE connection_id = $1 AND account_id = $2 FOR UPDATE"
        ))
        .bind(connection.to_string())
        .bind(account.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(failed)?;
        let Some(row) = row else {
            return Ok(());
        };

        let current = state_from_row(&row)?;
        let next = change(&current);
        let (code, message) = next.last_error.clone().unzip();
        sqlx::query(
            "UPDATE connection_schedules
                SET next_run_at = $2, consecutive_failures = $3, auth_failures = $4,
                    paused_reason = $5, last_error_code = $6, last_error_message = $7
              WHERE connection_id = $1",
        )
        .bind(connection.to_string())
        .bind(next.next_run_at)
        .bind(as_i32(next.consecutive_failures))
        .bind(as_i32(next.auth_failures))
        .bind(&next.paused_reason)
        .bind(code)
        .bind(message)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)
    }
}

#[async_trait]
impl RunOutcomes for PgScheduleStore {
    async fn run_ending(&self, ctx: &RunContext, outcome: &RunOutcome) {
        if let Err(error) = record(self, &self.policy, ctx, outcome).await {
            tracing::warn!(error = %error, "sync run outcome not recorded in the schedule");
        }
    }

    fn run_closed(&self) {
        self.ended.notify_one();
    }
}
