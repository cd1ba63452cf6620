//! Sync Now: a run brings a connection's orders up to date, page by page. Each page's
//! decisions, the run's counts and the cursor after the page commit together, so a run that
//! dies loses nothing and repeats nothing; the next run re-reads a look-back window before
//! its cursor, which costs calls, not events.
//!
//! Two feeds are read in turn: orders by their `write_date`, then lines by theirs, since an
//! edit of a line's text moves only the line.
//!
//! Deletions are found only by checking held ids against the source, at most once per
//! reconcile interval and on every full re-sync; nothing is treated as deleted because a
//! query stopped returning it.
//!
//! A run that ends counts the product lines of every order held in scope whose product has
//! no item (after mapping by SKU); with any, it ends `RESOLUTION_REQUIRED`, and mapping the
//! last of its products later completes it.
//!
//! Every run holds a lease while it executes: its row's `heartbeat_at` is renewed every
//! [`SyncSettings::lease_renewal`], so only a run whose process died goes silent long enough
//! for the stale sweeper; a run that finds its lease taken stops. How each run ends is
//! reported to [`RunOutcomes`] (the schedule's health) before the run is closed.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use domain::connection::SourceKey;
use domain::ids::{AccountId, Actor, ConnectionId};
use domain::sales_order::{Observation, ObservedOrder};
use domain::sync_run::{
    RunFailure, RunStatus, SyncCounts, SyncCursor, SyncRun, SyncRunId, SyncTrigger,
};
use tracing::Instrument;
use uuid::Uuid;

use crate::access::{Caller, Operation};
use crate::connections::Connections;
use crate::ports::{AggregateStore, ProbeTarget};
use crate::schedule::{RunOutcome, RunOutcomes};
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
    /// A scheduled run was asked for after the connection's schedule stopped.
    #[error("the connection's schedule has stopped")]
    ScheduleStopped,
    /// Anything else: the lifecycle refused the step, or the store failed.
    #[error("sync store failed")]
    Failed(#[source] anyhow::Error),
}

/// Which of a source's change feeds a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    /// Orders, by their `write_date`.
    Orders,
    /// Order lines, by theirs: an edit of a line's text moves only the line's `write_date`.
    Lines,
}

impl Feed {
    /// The feed's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Lines => "lines",
        }
    }
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
    /// Records a page of observed orders with the cursor of its feed after it, atomically.
    async fn commit_batch(
        &self,
        ctx: &RunContext,
        orders: Vec<ObservedOrder>,
        feed: Feed,
        cursor: Option<SyncCursor>,
    ) -> Result<SyncCounts, SyncStoreRefusal>;
    /// Ends the run: maps by SKU the source's products that match an item, then counts the
    /// product lines of the orders held in scope whose product has no mapping; the run is
    /// completed without any, and needs resolution with some (which products is kept).
    async fn finish(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreRefusal>;
    /// Renews the lease of an unfinished run; `false` when the run is no longer unfinished
    /// (another replica closed it).
    async fn renew_lease(&self, ctx: &RunContext) -> Result<bool, SyncStoreRefusal>;
    /// Ends the run as failed.
    async fn fail(
        &self,
        ctx: &RunContext,
        failure: RunFailure,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal>;
    /// Runs of a connection, newest first, after the given (requested time, id), and how many
    /// match.
    async fn list_runs(
        &self,
        account: &AccountId,
        connection: &ConnectionId,
        status: Option<RunStatus>,
        after: Option<(DateTime<Utc>, SyncRunId)>,
        limit: u16,
    ) -> Result<(Vec<SyncRun>, i64), SyncStoreRefusal>;
    /// Whether someone asked the run to stop.
    async fn cancel_requested(&self, ctx: &RunContext) -> Result<bool, SyncStoreRefusal>;
    /// Asks a run to stop: a pending run fails at once, a running one after its batch.
    async fn cancel(&self, ctx: &RunContext, at: DateTime<Utc>) -> Result<(), SyncStoreRefusal>;
    /// Ids, in the source, of held orders the source has not been seen to delete, above
    /// `after`, in order.
    async fn held_ids(
        &self,
        account: &AccountId,
        source: &SourceKey,
        after: i64,
        limit: u16,
    ) -> Result<Vec<i64>, SyncStoreRefusal>;
    /// When the held orders of a source were last checked against it.
    async fn last_reconciled(
        &self,
        account: &AccountId,
        source: &SourceKey,
    ) -> Result<Option<DateTime<Utc>>, SyncStoreRefusal>;
    /// Notes that the held orders of a source were checked against it.
    async fn mark_reconciled(
        &self,
        account: &AccountId,
        source: &SourceKey,
        at: DateTime<Utc>,
    ) -> Result<(), SyncStoreRefusal>;
    /// Where reading a feed of a source continues.
    async fn cursor(
        &self,
        account: &AccountId,
        source: &SourceKey,
        feed: Feed,
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
    /// Up to `limit` orders of a feed changed at or after `from`: orders that changed, or
    /// orders whose lines changed.
    async fn next_page(
        &mut self,
        feed: Feed,
        from: SyncCursor,
        limit: u16,
    ) -> Result<FeedPage, RunFailure>;
    /// Which of these order ids the source still has (archived ones included).
    async fn existing(&mut self, ids: &[i64]) -> Result<Vec<i64>, RunFailure>;
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
    /// Hears how each run ended.
    pub outcomes: Arc<dyn RunOutcomes>,
}

impl std::fmt::Debug for SyncPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncPorts").finish_non_exhaustive()
    }
}

/// How runs read their sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSettings {
    /// Re-read before each run's cursor, for writes the source committed late.
    pub lookback: Duration,
    /// How often at most the held orders are checked against the source for deletions
    /// (every full re-sync checks).
    pub reconcile_every: Duration,
    /// How often a running run renews its lease (a third of the stale period, so that two
    /// renewals may fail before the run counts as interrupted).
    pub lease_renewal: std::time::Duration,
}

/// The runs executing in this process, so that a graceful stop can close them at once.
type RunningHere = Arc<std::sync::Mutex<HashMap<SyncRunId, RunContext>>>;

/// The sync use cases.
#[derive(Clone)]
pub struct Syncs {
    connections: Connections,
    ports: SyncPorts,
    settings: SyncSettings,
    running: RunningHere,
}

impl std::fmt::Debug for Syncs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncs")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Syncs {
    /// Wires the use cases to their ports.
    pub fn new(connections: Connections, ports: SyncPorts, settings: SyncSettings) -> Self {
        Self {
            connections,
            ports,
            settings,
            running: RunningHere::default(),
        }
    }

    /// Closes every run executing in this process as `INTERRUPTED`, for a graceful stop: the
    /// connections are free for the next run at once instead of after the stale period. A
    /// batch still in flight cannot commit on a closed run. Returns how many it closed.
    pub async fn interrupt_running(&self) -> usize {
        let running: Vec<RunContext> = match self.running.lock() {
            Ok(mut running) => running.drain().map(|(_, ctx)| ctx).collect(),
            Err(_) => Vec::new(),
        };
        let mut closed = 0;
        for ctx in running {
            let failure = RunFailure {
                code: "INTERRUPTED".to_owned(),
                message: "the service stopped while the sync ran".to_owned(),
                hint: Some(
                    "start the sync again; it continues from the last committed batch".to_owned(),
                ),
            };
            match self.ports.store.fail(&ctx, failure, Utc::now()).await {
                Ok(()) => closed += 1,
                Err(error) => {
                    tracing::warn!(run = %ctx.run_id, error = %error, "sync run not closed at stop")
                }
            }
        }
        closed
    }

    /// The runs of a connection of the caller's account, newest first: at most `first`
    /// after the run `after` (a cursor from an earlier page), and how many match.
    pub async fn list(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        status: Option<RunStatus>,
        after: Option<(DateTime<Utc>, SyncRunId)>,
        first: u16,
    ) -> Result<(Vec<SyncRun>, i64), AppError> {
        caller.require(Operation::ReadSyncRuns)?;
        if !self
            .connections
            .is_of_account(caller, connection_id)
            .await?
        {
            return Err(AppError::NotFound);
        }
        self.ports
            .store
            .list_runs(&caller.account_id, &connection_id, status, after, first)
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!(e)))
    }

    /// Asks a run to stop: a pending run fails at once, a running one after its current batch,
    /// with the code `CANCELLED_BY_USER`.
    pub async fn cancel(&self, caller: &Caller, run_id: SyncRunId) -> Result<SyncRun, AppError> {
        caller.require(Operation::RunSyncs)?;
        let run = self.get(caller, run_id).await?;
        let (Some(connection_id), Some(source)) = (run.connection_id, run.source.clone()) else {
            return Err(AppError::NotFound);
        };
        let ctx = RunContext {
            run_id,
            account_id: caller.account_id.clone(),
            connection_id,
            source,
            actor: caller.actor.clone(),
            correlation_id: caller.correlation_id,
        };
        self.ports
            .store
            .cancel(&ctx, Utc::now())
            .await
            .map_err(|error| match error {
                SyncStoreRefusal::RunInProgress(_) => AppError::NotFound,
                SyncStoreRefusal::ScheduleStopped | SyncStoreRefusal::Failed(_) => {
                    AppError::Conflict {
                        field: None,
                        message: "the sync run has already ended".into(),
                    }
                }
            })?;
        self.get(caller, run_id).await
    }

    /// Starts a full re-sync: the cursors are ignored, the whole scope is read again and the
    /// held orders are checked against the source for deletions.
    pub async fn full_resync(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
    ) -> Result<SyncRunId, AppError> {
        self.start(caller, connection_id, SyncTrigger::FullResync)
            .await?
            .run()
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
        self.start(caller, connection_id, SyncTrigger::Manual)
            .await?
            .run()
    }

    /// Starts a scheduled run of a connection and returns its id; `None` when the connection
    /// has a run pending or running already, or its schedule stopped meanwhile.
    pub async fn start_scheduled(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
    ) -> Result<Option<SyncRunId>, AppError> {
        let requested = self
            .start(caller, connection_id, SyncTrigger::Scheduled)
            .await?;
        Ok(match requested {
            Requested::New(run) => Some(run),
            Requested::InProgress(_) | Requested::ScheduleStopped => None,
        })
    }

    /// Requests a run and starts it in the background.
    async fn start(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        trigger: SyncTrigger,
    ) -> Result<Requested, AppError> {
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
        match self.ports.store.request(&ctx, trigger, Utc::now()).await {
            Ok(()) => {}
            Err(SyncStoreRefusal::RunInProgress(existing)) => {
                return Ok(Requested::InProgress(existing))
            }
            Err(SyncStoreRefusal::ScheduleStopped) => return Ok(Requested::ScheduleStopped),
            Err(SyncStoreRefusal::Failed(error)) => return Err(AppError::Internal(error)),
        }

        let batch = connection.schedule.batch_size.get();
        let engine = self.clone();
        let span = tracing::info_span!("sync_run", run = %ctx.run_id, connection = %connection_id);
        let run_id = ctx.run_id;
        let plan = RunPlan {
            batch,
            full: trigger == SyncTrigger::FullResync,
        };
        tokio::spawn(async move { engine.run_leased(ctx, target, plan).await }.instrument(span));
        Ok(Requested::New(run_id))
    }

    /// Runs a run while holding its lease, then says its connection is free. A run whose
    /// lease is taken stops where it is: whatever batch it was writing rolls back.
    async fn run_leased(&self, ctx: RunContext, target: ProbeTarget, plan: RunPlan) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(ctx.run_id, ctx.clone());
        }
        tokio::select! {
            _ = self.run(ctx.clone(), target, plan) => {}
            () = self.hold_lease(&ctx) => {}
        }
        if let Ok(mut running) = self.running.lock() {
            running.remove(&ctx.run_id);
        }
        self.ports.outcomes.run_closed();
    }

    /// Renews the run's lease until it is lost; never returns while the run holds it.
    async fn hold_lease(&self, ctx: &RunContext) {
        let mut renewals = tokio::time::interval(self.settings.lease_renewal);
        renewals.tick().await;
        loop {
            renewals.tick().await;
            match self.ports.store.renew_lease(ctx).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("sync run lost its lease; it stops");
                    return;
                }
                Err(error) => tracing::warn!(error = %error, "sync run lease not renewed"),
            }
        }
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

    /// Runs a requested run to its end and says how it ended. Failures end the run as failed
    /// with their cause; the outcome is reported before the run is closed.
    pub async fn run(&self, ctx: RunContext, target: ProbeTarget, plan: RunPlan) -> RunOutcome {
        let outcome = match self.import(&ctx, target, plan).await {
            Ok(()) => Ok(()),
            Err(failure) => {
                tracing::warn!(code = failure.code.as_str(), "sync run failed");
                Err(failure)
            }
        };
        let reported = match &outcome {
            Ok(_) => RunOutcome::Succeeded,
            Err(failure) => RunOutcome::Failed(failure.clone()),
        };
        // A run closed meanwhile by someone else (a stop, the stale sweeper) failed only
        // because it was closed: that says nothing about its connection.
        let still_open = self.ports.store.renew_lease(&ctx).await.unwrap_or(true);
        if still_open {
            self.ports.outcomes.run_ending(&ctx, &reported).await;
        }
        let ended = match outcome {
            Ok(()) => self.ports.store.finish(&ctx, Utc::now()).await,
            Err(failure) => self.ports.store.fail(&ctx, failure, Utc::now()).await,
        };
        match ended {
            Ok(()) => reported,
            Err(error) => {
                tracing::error!(error = %error, "sync run could not be closed");
                RunOutcome::Abandoned
            }
        }
    }

    /// Reads the orders feed, then the lines feed, then checks for deletions when due,
    /// committing each page. Which product lines are unmapped is counted when the run
    /// finishes, over every order held in scope.
    async fn import(
        &self,
        ctx: &RunContext,
        target: ProbeTarget,
        plan: RunPlan,
    ) -> Result<(), RunFailure> {
        self.ports
            .store
            .start(ctx, Utc::now())
            .await
            .map_err(internal)?;
        let mut feed = self.ports.feeds.open(target).await?;
        let read_before = |cursor: Option<SyncCursor>| cursor.filter(|_| !plan.full);

        let stored_orders = self.stored(ctx, Feed::Orders).await?;
        let orders_from = read_before(stored_orders);
        let orders_end = self
            .drain(ctx, feed.as_mut(), Feed::Orders, orders_from, plan.batch)
            .await?;
        // A source read whole in this run needs its lines followed only from where the
        // orders ended.
        let lines_from = read_before(self.stored(ctx, Feed::Lines).await?).or(Some(orders_end));
        self.drain(ctx, feed.as_mut(), Feed::Lines, lines_from, plan.batch)
            .await?;

        self.reconcile(ctx, feed.as_mut(), plan, stored_orders.is_none())
            .await
    }

    /// Checks the held orders against the source, when due, and records those it deleted.
    /// A source read for the first time is only noted as checked.
    async fn reconcile(
        &self,
        ctx: &RunContext,
        feed: &mut dyn OrderFeed,
        plan: RunPlan,
        new_source: bool,
    ) -> Result<(), RunFailure> {
        let store = &self.ports.store;
        let now = Utc::now();
        let last = store
            .last_reconciled(&ctx.account_id, &ctx.source)
            .await
            .map_err(internal)?;
        let due = plan.full || last.is_none_or(|at| now - at >= self.settings.reconcile_every);
        if due && !new_source {
            let mut after = 0;
            loop {
                let held = store
                    .held_ids(&ctx.account_id, &ctx.source, after, plan.batch)
                    .await
                    .map_err(internal)?;
                let Some(last_id) = held.last().copied() else {
                    break;
                };
                let existing: std::collections::HashSet<i64> =
                    feed.existing(&held).await?.into_iter().collect();
                let gone = held
                    .iter()
                    .filter(|id| !existing.contains(id))
                    .map(|id| ObservedOrder {
                        source_order_id: *id,
                        observation: Observation::Gone,
                    })
                    .collect();
                store
                    .commit_batch(ctx, gone, Feed::Orders, None)
                    .await
                    .map_err(internal)?;
                self.stop_if_cancelled(ctx).await?;
                after = last_id;
            }
        }
        if due {
            store
                .mark_reconciled(&ctx.account_id, &ctx.source, now)
                .await
                .map_err(internal)?;
        }
        Ok(())
    }

    async fn stop_if_cancelled(&self, ctx: &RunContext) -> Result<(), RunFailure> {
        if self
            .ports
            .store
            .cancel_requested(ctx)
            .await
            .map_err(internal)?
        {
            return Err(RunFailure {
                code: "CANCELLED_BY_USER".to_owned(),
                message: "the sync was cancelled; every batch committed before stays".to_owned(),
                hint: None,
            });
        }
        Ok(())
    }

    async fn stored(&self, ctx: &RunContext, feed: Feed) -> Result<Option<SyncCursor>, RunFailure> {
        self.ports
            .store
            .cursor(&ctx.account_id, &ctx.source, feed)
            .await
            .map_err(internal)
    }

    /// Reads one feed to its end from the look-back window before `stored`; returns where it
    /// ended. Each page is committed while the next one is read, so the source and the
    /// database work at the same time; a page is read ahead only once the one before it has
    /// named where reading continues, and nothing is committed out of order.
    async fn drain(
        &self,
        ctx: &RunContext,
        source: &mut dyn OrderFeed,
        feed: Feed,
        stored: Option<SyncCursor>,
        batch: u16,
    ) -> Result<SyncCursor, RunFailure> {
        let mut page = source
            .next_page(feed, self.starting_point(stored), batch)
            .await?;
        loop {
            let (next, exhausted) = (page.next, page.exhausted);
            let commit = self.commit_page(ctx, page.orders, feed, next);
            if exhausted {
                commit.await?;
                return Ok(next);
            }

            let (committed, read) = tokio::join!(commit, source.next_page(feed, next, batch));
            committed?;
            self.stop_if_cancelled(ctx).await?;
            page = read?;
        }
    }

    async fn commit_page(
        &self,
        ctx: &RunContext,
        orders: Vec<ObservedOrder>,
        feed: Feed,
        next: SyncCursor,
    ) -> Result<(), RunFailure> {
        self.ports
            .store
            .commit_batch(ctx, orders, feed, Some(next))
            .await
            .map(|_| ())
            .map_err(internal)
    }

    /// The look-back window before the stored cursor, or the beginning for a new source.
    fn starting_point(&self, stored: Option<SyncCursor>) -> SyncCursor {
        let beginning = NaiveDateTime::default();
        let second = stored
            .map_or(beginning, |c| c.second - self.settings.lookback)
            .max(beginning);
        SyncCursor { second, last_id: 0 }
    }
}

/// What asking for a run did.
enum Requested {
    /// A new run was recorded and started.
    New(SyncRunId),
    /// The connection had this run pending or running already.
    InProgress(SyncRunId),
    /// The run was scheduled, but the connection's schedule had stopped.
    ScheduleStopped,
}

impl Requested {
    /// The run that is going on now, for a run asked for by a person.
    fn run(self) -> Result<SyncRunId, AppError> {
        match self {
            Self::New(run) | Self::InProgress(run) => Ok(run),
            Self::ScheduleStopped => Err(AppError::Conflict {
                field: None,
                message: "the connection's schedule has stopped".into(),
            }),
        }
    }
}

/// How one run reads: orders per call, and whether it is a full re-sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunPlan {
    /// Orders per call.
    pub batch: u16,
    /// Ignore the cursors and check every held order.
    pub full: bool,
}

fn internal(error: SyncStoreRefusal) -> RunFailure {
    tracing::error!(error = %error, "sync store failed");
    RunFailure {
        code: "INTERNAL".to_owned(),
        message: "the sync could not record its progress".to_owned(),
        hint: Some("try again; if it keeps failing, contact support".to_owned()),
    }
}
