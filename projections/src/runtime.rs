//! The projection runtime: catch-up readers of the global event log.
//!
//! One [`step`] locks the projection's checkpoint row (`FOR UPDATE SKIP LOCKED`: a replica
//! that finds it locked leaves the batch to the holder), reads the next events after it,
//! applies them and moves the checkpoint, all in one transaction. A process killed mid-batch
//! rolls back the whole batch and the next step starts from the same checkpoint.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use infrastructure::event_log::{read_after_on, Checkpoint, RecordedEvent};
use sqlx::{PgPool, Postgres, Transaction};

/// Why a projection step failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The database refused.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// An event's payload does not match its type.
    #[error("event {position} ({event_type}) cannot be read: {reason}")]
    Malformed {
        /// Its global position.
        position: i64,
        /// Its type.
        event_type: String,
        /// What is wrong.
        reason: String,
    },
    /// No projection or view has this name.
    #[error("no projection named {name:?}; known: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are, comma-separated.
        known: String,
    },
}

/// A read model fed from the event log.
#[async_trait]
pub trait Projection: Send + Sync + std::fmt::Debug {
    /// The name its checkpoint is kept under.
    fn name(&self) -> &'static str;

    /// Applies one event inside the batch's transaction.
    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError>;

    /// Empties the read model, before a rebuild from zero.
    async fn reset(&self, tx: &mut Transaction<'_, Postgres>) -> Result<(), ProjectionError>;
}

/// Every projection the service runs.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(crate::sales_records::SalesRecords),
        Arc::new(crate::sync_history::SyncHistory),
    ]
}

/// A read model made of SQL views over a projection's tables: it has no checkpoint of its
/// own, so its position and lag are those of the projection it reads, and replaying that
/// projection rebuilds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Its name, listed beside the projections.
    pub name: &'static str,
    /// The projection whose tables it reads.
    pub reads: &'static str,
}

/// Every read model that is a view over a projection.
pub fn views() -> Vec<View> {
    vec![View {
        name: crate::planning_demand::NAME,
        reads: crate::planning_demand::READS,
    }]
}

/// The projection with this name; for a view's name, the projection it reads.
pub fn by_name(name: &str) -> Result<Arc<dyn Projection>, ProjectionError> {
    let wanted = views()
        .into_iter()
        .find(|v| v.name == name)
        .map_or(name, |v| v.reads);
    all()
        .into_iter()
        .find(|p| p.name() == wanted)
        .ok_or_else(|| ProjectionError::Unknown {
            name: name.to_owned(),
            known: known_names().join(", "),
        })
}

fn known_names() -> Vec<&'static str> {
    let projections = all().into_iter().map(|p| p.name());
    projections
        .chain(views().into_iter().map(|v| v.name))
        .collect()
}

/// Locks the projection's checkpoint row, creating it first if needed; `None` when another
/// transaction holds it and `wait` is false.
async fn lock_checkpoint(
    tx: &mut Transaction<'_, Postgres>,
    name: &str,
    wait: bool,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    let sql = if wait {
        "SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1 FOR UPDATE"
    } else {
        "SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1
           FOR UPDATE SKIP LOCKED"
    };
    let row: Option<(i64, i64)> = sqlx::query_as(sql)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|(transaction_id, position)| Checkpoint {
        transaction_id,
        position,
    }))
}

/// Applies the next batch of at most `batch` events; returns how many were applied (0 when
/// caught up or another replica holds the batch). When an event cannot be applied, the
/// events before it are applied and checkpointed on their own and the error names the one
/// that failed: the projection stops right before it.
pub async fn step(
    pool: &PgPool,
    projection: &dyn Projection,
    batch: i64,
) -> Result<usize, ProjectionError> {
    match apply_batch(pool, projection, batch).await {
        Ok(applied) => Ok(applied),
        Err(Stopped { at: 0, error }) => Err(error),
        Err(Stopped { at, error }) => {
            let before = i64::try_from(at).unwrap_or(i64::MAX);
            apply_batch(pool, projection, before)
                .await
                .map_err(|stopped| stopped.error)?;
            Err(error)
        }
    }
}

/// A batch that failed at its `at`-th event (0: before any was applied).
struct Stopped {
    at: usize,
    error: ProjectionError,
}

impl From<sqlx::Error> for Stopped {
    fn from(error: sqlx::Error) -> Self {
        Self {
            at: 0,
            error: error.into(),
        }
    }
}

async fn apply_batch(
    pool: &PgPool,
    projection: &dyn Projection,
    batch: i64,
) -> Result<usize, Stopped> {
    let mut tx = pool.begin().await?;
    let Some(after) = lock_checkpoint(&mut tx, projection.name(), false).await? else {
        return Ok(0);
    };
    let events = read_after_on(&mut tx, after, batch).await?;
    let Some(last) = events.last() else {
        return Ok(0);
    };
    for (at, event) in events.iter().enumerate() {
        projection
            .apply(&mut tx, event)
            .await
            .map_err(|error| Stopped { at, error })?;
    }
    let to = last.checkpoint();
    sqlx::query(
        "UPDATE projection_checkpoints
            SET transaction_id = $2, position = $3, last_event_at = $4, updated_at = now()
          WHERE name = $1",
    )
    .bind(projection.name())
    .bind(to.transaction_id)
    .bind(to.position)
    .bind(last.recorded_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(events.len())
}

/// Empties the projection and moves its checkpoint back to the start, in one transaction
/// that waits for a running batch; the runners then rebuild it. Safe while the service runs.
pub async fn replay(pool: &PgPool, projection: &dyn Projection) -> Result<(), ProjectionError> {
    let mut tx = pool.begin().await?;
    lock_checkpoint(&mut tx, projection.name(), true).await?;
    projection.reset(&mut tx).await?;
    sqlx::query(
        "UPDATE projection_checkpoints
            SET transaction_id = 0, position = 0, last_event_at = NULL, updated_at = now()
          WHERE name = $1",
    )
    .bind(projection.name())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where a projection stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionStatus {
    /// Its name.
    pub name: String,
    /// The global position of the last applied event (0: none).
    pub position: i64,
    /// Settled events not applied yet.
    pub lag_events: i64,
    /// Seconds since the oldest event not applied yet was recorded (0 when caught up).
    pub lag_seconds: f64,
    /// For a [`View`], the projection it reads, whose position and lag these are.
    pub view_of: Option<String>,
}

/// Every projection's position and lag, then every view's (its projection's).
pub async fn status(pool: &PgPool) -> Result<Vec<ProjectionStatus>, ProjectionError> {
    let mut out = projection_status(pool).await?;
    for view in views() {
        let Some(read) = out.iter().find(|s| s.name == view.reads) else {
            continue;
        };
        out.push(ProjectionStatus {
            name: view.name.to_owned(),
            view_of: Some(view.reads.to_owned()),
            ..read.clone()
        });
    }
    Ok(out)
}

async fn projection_status(pool: &PgPool) -> Result<Vec<ProjectionStatus>, ProjectionError> {
    let mut out = Vec::new();
    for projection in all() {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1",
        )
        .bind(projection.name())
        .fetch_optional(pool)
        .await?;
        let (transaction_id, position) = row.unwrap_or((0, 0));
        let (lag_events, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT count(*), min(recorded_at) FROM events
              WHERE (transaction_id, global_position) > ($1::bigint::text::xid8, $2)",
        )
        .bind(transaction_id)
        .bind(position)
        .fetch_one(pool)
        .await?;
        let lag_seconds = oldest
            .map(|at| (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        out.push(ProjectionStatus {
            name: projection.name().to_owned(),
            position,
            lag_events,
            lag_seconds,
            view_of: None,
        });
    }
    Ok(out)
}

/// How the runners poll.
#[derive(Debug, Clone, Copy)]
pub struct RunnerSettings {
    /// The pause when caught up.
    pub poll_interval: Duration,
    /// Events per batch.
    pub batch: i64,
}

/// Spawns one runner task per projection: batches back to back while behind, then a pause of
/// `poll_interval`; while catching up, the lag is logged at most every 10 seconds.
pub fn spawn_runners(pool: PgPool, settings: RunnerSettings) -> Vec<tokio::task::JoinHandle<()>> {
    all()
        .into_iter()
        .map(|projection| {
            let pool = pool.clone();
            tokio::spawn(async move { run(pool, projection, settings).await })
        })
        .collect()
}

async fn run(pool: PgPool, projection: Arc<dyn Projection>, settings: RunnerSettings) {
    let mut last_log = std::time::Instant::now();
    let mut failing: Option<Failing> = None;
    loop {
        let result = step(&pool, projection.as_ref(), settings.batch).await;
        if result.is_ok() && failing.take().is_some() {
            tracing::info!(projection = projection.name(), "projection resumed");
        }
        match result {
            Ok(0) => tokio::time::sleep(settings.poll_interval).await,
            Ok(applied) => {
                if last_log.elapsed() >= Duration::from_secs(10) {
                    last_log = std::time::Instant::now();
                    log_lag(&pool, projection.name(), applied).await;
                }
            }
            Err(error) => {
                let delay = Failing::note(&mut failing, projection.name(), &error, settings);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// A projection that keeps failing: retried with a doubling pause up to a minute, logged
/// when the failure starts or changes and then once a minute, not at every retry.
#[derive(Debug)]
struct Failing {
    message: String,
    since: std::time::Instant,
    logged: std::time::Instant,
    delay: Duration,
}

impl Failing {
    const MAX_DELAY: Duration = Duration::from_secs(60);

    /// Records one more failure, logs it if due, and returns the pause before the retry.
    fn note(
        failing: &mut Option<Self>,
        name: &str,
        error: &ProjectionError,
        settings: RunnerSettings,
    ) -> Duration {
        let message = error.to_string();
        let now = std::time::Instant::now();
        let state = match failing.take() {
            Some(mut same) if same.message == message => {
                same.delay = (same.delay * 2).min(Self::MAX_DELAY);
                if now - same.logged >= Self::MAX_DELAY {
                    same.logged = now;
                    log_failure(name, error, (now - same.since).as_secs());
                }
                same
            }
            _ => {
                log_failure(name, error, 0);
                Self {
                    message,
                    since: now,
                    logged: now,
                    delay: settings.poll_interval.max(Duration::from_secs(1)),
                }
            }
        };
        let delay = state.delay;
        *failing = Some(state);
        delay
    }
}

fn log_failure(name: &str, error: &ProjectionError, failing_seconds: u64) {
    match error {
        ProjectionError::Malformed { position, .. } => tracing::error!(
            projection = name,
            position,
            failing_seconds,
            error = %error,
            "projection stopped before an event it cannot apply; it retries, and a release \
             that reads the event lets it go on"
        ),
        _ => tracing::warn!(
            projection = name,
            failing_seconds,
            error = %error,
            "projection batch failed; retrying"
        ),
    }
}

async fn log_lag(pool: &PgPool, name: &str, applied: usize) {
    if let Ok(statuses) = status(pool).await {
        if let Some(s) = statuses.iter().find(|s| s.name == name) {
            tracing::info!(
                projection = name,
                applied,
                position = s.position,
                lag_events = s.lag_events,
                lag_seconds = s.lag_seconds,
                "projection catching up"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_views_name_stands_for_the_projection_it_reads() {
        assert_eq!(by_name("planning_demand").unwrap().name(), "sales_records");
        assert_eq!(by_name("sales_records").unwrap().name(), "sales_records");
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_names_there_are() {
        let error = by_name("planning").unwrap_err().to_string();
        assert!(error.contains("\"planning\""), "{error}");
        for known in known_names() {
            assert!(error.contains(known), "{error}");
        }
        assert!(known_names().contains(&"planning_demand"));
    }
}
