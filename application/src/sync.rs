//! Sync Now: a run brings a connection's orders up to date, page by page. Each page's
//! decisions, the run's counts and the cursor after the page commit together, so a run that
//! dies loses nothing and repeats nothing; the next run re-reads a look-back window before
//! its cursor, which costs calls, not events.
//!
//! TODO(#4): following line-only edits, the periodic deletion check, leases across replicas,
//! cancellation, full re-syncs and live progress.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use domain::connection::SourceKey;
use domain::ids::{AccountId, Actor, ConnectionId};
use domain::sales_order::{LineKind, Observation, ObservedOrder};
use domain::sync_run::{RunFailure, SyncCounts, SyncCursor, SyncRun, SyncRunId, SyncTrigger};
use tracing::Instrument;
use uuid::Uuid;

use crate::access::{Caller, Operation};
use crate::connections::Connections;
use crate::ports::{AggregateStore, ProbeTarget};
use crate::AppError;

/// The run a write belongs to, and who caused it.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The run.
    pub run_id: SyncRunId,
    /// Its account.
    pub account_id: AccountId,
    /// The connection it syncs.
    pub connection_id: ConnectionId,
    /// The source that connection reads.
    pub source: SourceKey,
    /// Who asked for it: a user, or the scheduler.
    pub actor: Actor,
    /// Ties together every event of the run.
    pub correlation_id: Uuid,
}

/// Why the sync store refused a step.
#[derive(Debug, thiserror::Error)]
pub enum SyncStoreRefusal {
    /// The connection has a run that has not finished; it is that run.
    #[error("the connection already has a sync run in progress")]
    RunInProgress(SyncRunId),
    /// Anything else: the lifecycle refused the step, or the store failed.
    #[error("sync store failed")]
    Failed(#[source] anyhow::Error),
}

/// Where runs, their batches and the cursors of sources are recorded.
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Records a requested run unless the connection has one in progress.
    async fn request(
        &self,
        ctx: &RunContext,
        trigger: SyncTrigger,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal>;
    /// Marks the run started.
    async fn start(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreRefusal>;
    /// Records a page of observed orders with the cursor after it, atomically.
    async fn commit_batch(
        &self,
        ctx: &RunContext,
        orders: Vec<ObservedOrder>,
        cursor: Option<SyncCursor>,
    ) -> Result<SyncCounts, SyncStoreRefusal>;
    /// Ends the run, completed or needing resolution.
    async fn finish(
        &self,
        ctx: &RunContext,
        unmapped_lines: u64,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal>;
    /// Ends the run as failed.
    async fn fail(
        &self,
        ctx: &RunContext,
        failure: RunFailure,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal>;
    /// Where reading a source continues.
    async fn cursor(
        &self,
        account: &AccountId,
        source: &SourceKey,
    ) -> Result<Option<SyncCursor>, SyncStoreRefusal>;
}

/// One page of the source's order feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    /// The orders read, with whether each is in the connection's scope.
    pub orders: Vec<ObservedOrder>,
    /// Where the next page starts.
    pub next: SyncCursor,
    /// Whether the feed has nothing more after this page.
    pub exhausted: bool,
}

/// Orders of a source in the order they changed.
#[async_trait]
pub trait OrderFeed: Send {
    /// Up to `limit` orders changed at or after `from`.
    async fn next_page(&mut self, from: SyncCursor, limit: u16) -> Result<FeedPage, RunFailure>;
}

/// Opens order feeds on sources.
#[async_trait]
pub trait OrderFeeds: Send + Sync {
    /// Connects and authenticates; failures are named as the troubleshooting guide names them.
    async fn open(&self, target: ProbeTarget) -> Result<Box<dyn OrderFeed>, RunFailure>;
}

/// What the sync use cases are built from.
#[derive(Clone)]
pub struct SyncPorts {
    /// Account aggregates, for the time zone.
    pub accounts: Arc<dyn AggregateStore<domain::account::Account>>,
    /// Sync run aggregates, for reading runs.
    pub runs: Arc<dyn AggregateStore<SyncRun>>,
    /// Where runs and batches are recorded.
    pub store: Arc<dyn SyncStore>,
    /// Where orders are read.
    pub feeds: Arc<dyn OrderFeeds>,
}

impl std::fmt::Debug for SyncPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncPorts").finish_non_exhaustive()
    }
}

/// The sync use cases.
#[derive(Clone)]
pub struct Syncs {
    connections: Connections,
    ports: SyncPorts,
    lookback: Duration,
}

impl std::fmt::Debug for Syncs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncs")
            .field("lookback", &self.lookback)
            .finish_non_exhaustive()
    }
}

impl Syncs {
    /// Wires the use cases to their ports; `lookback` is re-read before each run's cursor.
    pub fn new(connections: Connections, ports: SyncPorts, lookback: Duration) -> Self {
        Self {
            connections,
            ports,
            lookback,
        }
    }

    /// A run of the caller's account.
    pub async fn get(&self, caller: &Caller, run_id: SyncRunId) -> Result<SyncRun, AppError> {
        caller.require(Operation::ReadSyncRuns)?;
        let run = self
            .ports
            .runs
            .load(&run_id.to_string())
            .await
            .map_err(AppError::internal)?;
        match run.account_id.as_ref() {
            Some(account) if account == &caller.account_id => Ok(run),
            _ => Err(AppError::NotFound),
        }
    }

    /// Starts a run of a connection now and returns its id; when one is already pending or
    /// running, returns that one. The run continues in the background.
    pub async fn sync_now(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
    ) -> Result<SyncRunId, AppError> {
        caller.require(Operation::RunSyncs)?;
        let connection = self.connections.get(caller, connection_id).await?;
        let target = self
            .target(caller, connection_id, connection.settings.clone())
            .await?;
        let ctx = RunContext {
            run_id: SyncRunId::new(),
            account_id: caller.account_id.clone(),
            connection_id,
            source: connection.settings.source(),
            actor: caller.actor.clone(),
            correlation_id: caller.correlation_id,
        };
        match self
            .ports
            .store
            .request(&ctx, SyncTrigger::Manual, Utc::now())
            .await
        {
            Ok(()) => {}
            Err(SyncStoreRefusal::RunInProgress(existing)) => return Ok(existing),
            Err(SyncStoreRefusal::Failed(error)) => return Err(AppError::Internal(error)),
        }

        let batch = connection.schedule.batch_size.get();
        let engine = self.clone();
        let span = tracing::info_span!("sync_run", run = %ctx.run_id, connection = %connection_id);
        let run_id = ctx.run_id;
        tokio::spawn(async move { engine.run(ctx, target, batch).await }.instrument(span));
        Ok(run_id)
    }

    async fn target(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        settings: domain::connection::ConnectionSettings,
    ) -> Result<ProbeTarget, AppError> {
        let api_key = self.connections.api_key(caller, connection_id).await?;
        let account = self
            .ports
            .accounts
            .load(caller.account_id.as_str())
            .await
            .map_err(AppError::internal)?;
        Ok(ProbeTarget {
            settings,
            api_key,
            time_zone: account.time_zone().clone(),
        })
    }

    /// Runs a requested run to its end, `batch` orders per call. Failures end the run as
    /// failed with their cause.
    pub async fn run(&self, ctx: RunContext, target: ProbeTarget, batch: u16) {
        let outcome = self.import(&ctx, target, batch).await;
        let ended = match outcome {
            Ok(unmapped) => self.ports.store.finish(&ctx, unmapped, Utc::now()).await,
            Err(failure) => {
                tracing::warn!(code = failure.code.as_str(), "sync run failed");
                self.ports.store.fail(&ctx, failure, Utc::now()).await
            }
        };
        if let Err(error) = ended {
            tracing::error!(error = %error, "sync run could not be closed");
        }
    }

    async fn import(
        &self,
        ctx: &RunContext,
        target: ProbeTarget,
        batch: u16,
    ) -> Result<u64, RunFailure> {
        self.ports
            .store
            .start(ctx, Utc::now())
            .await
            .map_err(internal)?;
        let mut feed = self.ports.feeds.open(target).await?;
        let stored = self
            .ports
            .store
            .cursor(&ctx.account_id, &ctx.source)
            .await
            .map_err(internal)?;
        let mut from = self.starting_point(stored);
        let mut unmapped_lines = 0;

        loop {
            let page = feed.next_page(from, batch).await?;
            unmapped_lines += unmapped_product_lines(&page.orders);
            self.ports
                .store
                .commit_batch(ctx, page.orders, Some(page.next))
                .await
                .map_err(internal)?;
            if page.exhausted {
                return Ok(unmapped_lines);
            }
            from = page.next;
        }
    }

    /// The look-back window before the stored cursor, or the beginning for a new source.
    fn starting_point(&self, stored: Option<SyncCursor>) -> SyncCursor {
        let beginning = NaiveDateTime::default();
        let second = stored
            .map_or(beginning, |c| c.second - self.lookback)
            .max(beginning);
        SyncCursor { second, last_id: 0 }
    }
}

/// Product lines of orders in scope. Until products can be mapped to items, each counts as
/// unmapped. TODO(#5): ask the product mapping.
fn unmapped_product_lines(orders: &[ObservedOrder]) -> u64 {
    orders
        .iter()
        .filter_map(|o| match &o.observation {
            Observation::Read {
                order,
                in_scope: true,
            } => Some(order),
            _ => None,
        })
        .flat_map(|order| order.lines.iter())
        .filter(|line| line.kind == LineKind::Product)
        .count() as u64
}

fn internal(error: SyncStoreRefusal) -> RunFailure {
    tracing::error!(error = %error, "sync store failed");
    RunFailure {
        code: "INTERNAL".to_owned(),
        message: "the sync could not record its progress".to_owned(),
        hint: Some("try again; if it keeps failing, contact support".to_owned()),
    }
}
