//! The schedule: connections in automatic mode with `active` set are synced every interval,
//! by whichever replica claims the due slot first. PostgreSQL is the only coordinator: a slot
//! is claimed under a row lock that other replicas skip, and a claim is a lease that expires
//! if its replica dies before the run is requested, so a due run is requested once and never
//! lost. One unfinished run per connection is the sync store's own guarantee, so runs never
//! overlap; a run that outlasts its interval is followed at once when it ends, and slots
//! missed while every replica was down become one run.
//!
//! The outcome of every run feeds the connection's health: failures back off (exponentially,
//! from the interval up to a ceiling), and authentication or permission failures
//! [`SchedulePolicy::pause_after`] times in a row pause the schedule, because Odoo locks out
//! repeated failed logins. `resumeSchedule` or saving new credentials resumes it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use domain::ids::{AccountId, ConnectionId};
use domain::sync_run::RunFailure;

use crate::access::{Caller, Operation};
use crate::connections::Connections;
use crate::sync::{RunContext, Syncs};
use crate::AppError;

/// How a run ended, as the schedule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Completed, or completed with unmapped lines.
    Succeeded,
    /// Failed with this cause.
    Failed(RunFailure),
    /// The run lost its lease (another replica closed it as interrupted) and stopped.
    Abandoned,
}

/// Failure codes that mean the credentials or the user's rights are wrong: retrying them
/// only locks the Odoo user out.
pub const CREDENTIAL_FAILURES: [&str; 2] = ["ODOO_AUTHENTICATION_FAILED", "ODOO_PERMISSION_DENIED"];

/// The code of a run a user cancelled: not a failure of the connection.
const CANCELLED: &str = "CANCELLED_BY_USER";

/// The rules of the schedule in this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulePolicy {
    /// Credential failures in a row that pause the schedule.
    pub pause_after: u32,
    /// The longest delay failures back off to (never less than the interval).
    pub max_backoff: Duration,
    /// How long a claim of a due slot holds before another replica may take it over.
    pub claim_lease: Duration,
    /// Due slots claimed per tick and replica.
    pub claims_per_tick: u16,
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        Self {
            pause_after: 3,
            max_backoff: Duration::from_secs(6 * 3600),
            claim_lease: Duration::from_secs(60),
            claims_per_tick: 20,
        }
    }
}

/// A connection's schedule and health as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleState {
    /// Automatic mode.
    pub automatic: bool,
    /// The schedule runs.
    pub active: bool,
    /// The connection is deleted.
    pub deleted: bool,
    /// Seconds between scheduled runs.
    pub interval_seconds: u32,
    /// When the next scheduled run is due.
    pub next_run_at: DateTime<Utc>,
    /// Failed runs in a row (cancelled ones aside).
    pub consecutive_failures: u32,
    /// Credential failures in a row.
    pub auth_failures: u32,
    /// Why the schedule is paused, when it is.
    pub paused_reason: Option<String>,
    /// The last failure, while failures go on.
    pub last_error: Option<(String, String)>,
}

impl ScheduleState {
    /// When the next scheduled run is due, if the schedule runs at all.
    pub fn next_run_at(&self) -> Option<DateTime<Utc>> {
        let runs = self.automatic && self.active && !self.deleted && self.paused_reason.is_none();
        runs.then_some(self.next_run_at)
    }

    /// The connection's health.
    pub fn health(&self) -> Health {
        let state = match (&self.paused_reason, self.consecutive_failures) {
            (Some(_), _) => HealthState::Paused,
            (None, 0) => HealthState::Ok,
            (None, _) => HealthState::Failing,
        };
        let reason = self.paused_reason.clone().or_else(|| {
            self.last_error
                .as_ref()
                .filter(|_| state == HealthState::Failing)
                .map(|(code, message)| format!("{code}: {message}"))
        });
        Health {
            state,
            reason,
            consecutive_failures: self.consecutive_failures,
        }
    }

    /// The state after a run ended at `now`: failures counted, backed off or paused.
    pub fn after(&self, outcome: &RunOutcome, now: DateTime<Utc>, policy: &SchedulePolicy) -> Self {
        let failure = match outcome {
            RunOutcome::Abandoned => return self.clone(),
            RunOutcome::Failed(failure) if failure.code == CANCELLED => return self.clone(),
            RunOutcome::Succeeded => {
                return Self {
                    consecutive_failures: 0,
                    auth_failures: 0,
                    last_error: None,
                    ..self.clone()
                }
            }
            RunOutcome::Failed(failure) => failure,
        };
        let credential = CREDENTIAL_FAILURES.contains(&failure.code.as_str());
        let consecutive_failures = self.consecutive_failures.saturating_add(1);
        let auth_failures = if credential {
            self.auth_failures.saturating_add(1)
        } else {
            0
        };
        let paused_reason = self.paused_reason.clone().or_else(|| {
            (auth_failures >= policy.pause_after).then(|| pause_reason(auth_failures, failure))
        });
        let retry = now + backoff(self.interval_seconds, consecutive_failures, policy);
        Self {
            consecutive_failures,
            auth_failures,
            paused_reason,
            last_error: Some((failure.code.clone(), failure.message.clone())),
            next_run_at: self.next_run_at.max(retry),
            ..self.clone()
        }
    }
}

fn pause_reason(failures: u32, failure: &RunFailure) -> String {
    format!(
        "paused after {failures} authentication or permission failures in a row ({}: {}); \
         save new credentials or resume the schedule",
        failure.code, failure.message
    )
}

/// The delay before the next attempt after `failures` failed runs in a row: the interval,
/// doubling with each further failure, up to the larger of the interval and the policy's
/// ceiling.
pub fn backoff(interval_seconds: u32, failures: u32, policy: &SchedulePolicy) -> chrono::Duration {
    let interval = Duration::from_secs(u64::from(interval_seconds.max(1)));
    let delays = ExponentialBuilder::new()
        .with_min_delay(interval)
        .with_factor(2.0)
        .with_max_delay(policy.max_backoff.max(interval))
        .without_max_times()
        .build();
    let steps = failures.clamp(1, 64) as usize;
    let delay = delays.take(steps).last().unwrap_or(interval);
    chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
}

/// How a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// The last run succeeded (or none failed yet).
    Ok,
    /// The last runs failed; the schedule backs off.
    Failing,
    /// Credential failures paused the schedule.
    Paused,
}

/// A connection's health, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// OK, failing or paused.
    pub state: HealthState,
    /// Why it is failing or paused.
    pub reason: Option<String>,
    /// Failed runs in a row.
    pub consecutive_failures: u32,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            state: HealthState::Ok,
            reason: None,
            consecutive_failures: 0,
        }
    }
}

/// A due slot one replica has claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The connection's account.
    pub account_id: AccountId,
    /// The connection.
    pub connection_id: ConnectionId,
    /// When the slot was due, for giving it back.
    pub due_at: DateTime<Utc>,
}

/// Why the schedule store failed.
#[derive(Debug, thiserror::Error)]
#[error("schedule store failed")]
pub struct ScheduleStoreError(#[source] pub anyhow::Error);

/// Where schedules are kept and claimed.
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Claims up to `limit` due slots of connections without an unfinished run, moving each a
    /// lease ahead; replicas claiming at the same time get different slots.
    async fn claim_due(
        &self,
        limit: u16,
        lease: Duration,
    ) -> Result<Vec<Claim>, ScheduleStoreError>;
    /// The run of a claimed slot was requested and started by `at` (taken once the request
    /// returned, so that no run is requested less than an interval after the one before):
    /// the next slot is an interval later.
    async fn confirm(
        &self,
        connection: &ConnectionId,
        at: DateTime<Utc>,
    ) -> Result<(), ScheduleStoreError>;
    /// Gives a claimed slot back, due when it was.
    async fn release(&self, claim: &Claim) -> Result<(), ScheduleStoreError>;
    /// A connection's schedule, if it has one.
    async fn state(
        &self,
        account: &AccountId,
        connection: &ConnectionId,
    ) -> Result<Option<ScheduleState>, ScheduleStoreError>;
    /// Changes a connection's schedule under a row lock.
    async fn update(
        &self,
        account: &AccountId,
        connection: &ConnectionId,
        change: &(dyn for<'s> Fn(&'s ScheduleState) -> ScheduleState + Sync),
    ) -> Result<(), ScheduleStoreError>;
}

/// Hears how each run ends; the schedule keeps health from it. The outcome is heard before
/// the run is closed, so that no replica claims the connection's next slot before its health
/// (a pause, a back-off) is recorded.
#[async_trait]
pub trait RunOutcomes: Send + Sync {
    /// A run is about to be closed with this outcome.
    async fn run_ending(&self, ctx: &RunContext, outcome: &RunOutcome);
    /// A run was closed (or abandoned): its connection is free for its next slot.
    fn run_closed(&self);
}

/// What the API shows of a connection's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleView {
    /// When the next scheduled run is due; none unless automatic, active and not paused.
    pub next_run_at: Option<DateTime<Utc>>,
    /// How the connection is doing.
    pub health: Health,
}

impl From<Option<ScheduleState>> for ScheduleView {
    fn from(state: Option<ScheduleState>) -> Self {
        state.map_or_else(Self::default, |state| Self {
            next_run_at: state.next_run_at(),
            health: state.health(),
        })
    }
}

/// The scheduler use cases: a tick that starts due runs, the health of connections, resuming.
#[derive(Clone)]
pub struct Scheduler {
    connections: Connections,
    syncs: Syncs,
    store: Arc<dyn ScheduleStore>,
    policy: SchedulePolicy,
    stopped: Arc<AtomicBool>,
    ticking: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Wires the scheduler to the sync use cases and its store.
    pub fn new(
        connections: Connections,
        syncs: Syncs,
        store: Arc<dyn ScheduleStore>,
        policy: SchedulePolicy,
    ) -> Self {
        Self {
            connections,
            syncs,
            store,
            policy,
            stopped: Arc::new(AtomicBool::new(false)),
            ticking: Arc::default(),
        }
    }

    /// Stops claiming due slots in this process and closes its runs as `INTERRUPTED`, for a
    /// graceful stop; other replicas take the next slots. Returns how many runs it closed.
    pub async fn stop(&self) -> usize {
        self.stopped.store(true, Ordering::SeqCst);
        let _no_tick_in_progress = self.ticking.lock().await;
        self.syncs.interrupt_running().await
    }

    /// Claims the due slots this replica can get and requests their runs, which start at once
    /// in this process. Returns how many runs it requested.
    pub async fn tick(&self) -> Result<usize, ScheduleStoreError> {
        let _ticking = self.ticking.lock().await;
        if self.stopped.load(Ordering::SeqCst) {
            return Ok(0);
        }
        let claims = self
            .store
            .claim_due(self.policy.claims_per_tick, self.policy.claim_lease)
            .await?;
        let mut requested = 0;
        for claim in claims {
            requested += usize::from(self.start(&claim).await?);
        }
        Ok(requested)
    }

    async fn start(&self, claim: &Claim) -> Result<bool, ScheduleStoreError> {
        let caller = Caller::scheduler(claim.account_id.clone());
        match self
            .syncs
            .start_scheduled(&caller, claim.connection_id)
            .await
        {
            Ok(Some(run)) => {
                tracing::info!(connection = %claim.connection_id, run = %run, "scheduled sync requested");
                self.store.confirm(&claim.connection_id, Utc::now()).await?;
                Ok(true)
            }
            Ok(None) => {
                self.store.release(claim).await?;
                Ok(false)
            }
            Err(error) => {
                tracing::warn!(connection = %claim.connection_id, error = %error, "scheduled sync not requested; retried when its claim expires");
                Ok(false)
            }
        }
    }

    /// The schedule and health of a connection of the caller's account.
    pub async fn view(
        &self,
        caller: &Caller,
        connection: ConnectionId,
    ) -> Result<ScheduleView, AppError> {
        caller.require(Operation::ReadConnections)?;
        let state = self
            .store
            .state(&caller.account_id, &connection)
            .await
            .map_err(AppError::internal)?;
        Ok(state.into())
    }

    /// Resumes a paused schedule: the next run is due at once. Resuming a schedule that is
    /// not paused changes nothing.
    pub async fn resume(
        &self,
        caller: &Caller,
        connection: ConnectionId,
    ) -> Result<ScheduleView, AppError> {
        caller.require(Operation::ResumeSchedules)?;
        self.connections.get(caller, connection).await?;

        let now = Utc::now();
        let resume = move |state: &ScheduleState| match state.paused_reason {
            Some(_) => ScheduleState {
                paused_reason: None,
                auth_failures: 0,
                next_run_at: state.next_run_at.min(now),
                ..state.clone()
            },
            None => state.clone(),
        };
        self.store
            .update(&caller.account_id, &connection, &resume)
            .await
            .map_err(AppError::internal)?;
        tracing::info!(connection = %connection, "schedule resumed");
        self.view(caller, connection).await
    }
}

/// Notes how a run ended in its connection's schedule.
pub async fn record(
    store: &dyn ScheduleStore,
    policy: &SchedulePolicy,
    ctx: &RunContext,
    outcome: &RunOutcome,
) -> Result<(), ScheduleStoreError> {
    let now = Utc::now();
    let change = |state: &ScheduleState| state.after(outcome, now, policy);
    store
        .update(&ctx.account_id, &ctx.connection_id, &change)
        .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn scheduled() -> ScheduleState {
        ScheduleState {
            automatic: true,
            active: true,
            deleted: false,
            interval_seconds: 60,
            next_run_at: DateTime::from_timestamp(1_000_000, 0).unwrap(),
            consecutive_failures: 0,
            auth_failures: 0,
            paused_reason: None,
            last_error: None,
        }
    }

    fn failed(code: &str) -> RunOutcome {
        RunOutcome::Failed(RunFailure {
            code: code.to_owned(),
            message: "it failed".to_owned(),
            hint: None,
        })
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_000_030, 0).unwrap()
    }

    #[test]
    fn failures_back_off_from_the_interval_doubling_up_to_the_ceiling() {
        let policy = SchedulePolicy {
            max_backoff: Duration::from_secs(300),
            ..SchedulePolicy::default()
        };
        let seconds: Vec<i64> = (1..=5)
            .map(|n| backoff(60, n, &policy).num_seconds())
            .collect();
        assert_eq!(seconds, [60, 120, 240, 300, 300]);
        assert_eq!(backoff(3600, 4, &policy).num_seconds(), 3600);
    }

    #[test]
    fn three_credential_failures_in_a_row_pause_the_schedule_saying_why() {
        let policy = SchedulePolicy::default();
        let mut state = scheduled();
        for _ in 0..2 {
            state = state.after(&failed("ODOO_AUTHENTICATION_FAILED"), now(), &policy);
            assert_eq!(state.health().state, HealthState::Failing);
        }
        state = state.after(&failed("ODOO_PERMISSION_DENIED"), now(), &policy);
        let health = state.health();
        assert_eq!(health.state, HealthState::Paused);
        assert_eq!(health.consecutive_failures, 3);
        assert!(health.reason.unwrap().contains("ODOO_PERMISSION_DENIED"));
        assert_eq!(state.next_run_at(), None);
    }

    #[test]
    fn another_kind_of_failure_breaks_the_run_of_credential_failures() {
        let policy = SchedulePolicy::default();
        let state = [
            "ODOO_AUTHENTICATION_FAILED",
            "ODOO_AUTHENTICATION_FAILED",
            "ODOO_TIMEOUT",
            "ODOO_AUTHENTICATION_FAILED",
        ]
        .into_iter()
        .fold(scheduled(), |state, code| {
            state.after(&failed(code), now(), &policy)
        });
        assert_eq!(state.health().state, HealthState::Failing);
        assert_eq!((state.consecutive_failures, state.auth_failures), (4, 1));
    }

    #[test]
    fn a_success_clears_the_failures_and_keeps_the_slot() {
        let policy = SchedulePolicy::default();
        let failing = scheduled().after(&failed("ODOO_TIMEOUT"), now(), &policy);
        assert_eq!(failing.next_run_at, now() + chrono::Duration::seconds(60));
        let ok = failing.after(&RunOutcome::Succeeded, now(), &policy);
        assert_eq!(ok.health(), Health::default());
        assert_eq!(ok.next_run_at, failing.next_run_at);
    }

    #[test]
    fn a_cancelled_or_abandoned_run_changes_nothing() {
        let policy = SchedulePolicy::default();
        let state = scheduled();
        assert_eq!(state.after(&failed(CANCELLED), now(), &policy), state);
        assert_eq!(state.after(&RunOutcome::Abandoned, now(), &policy), state);
    }

    #[test]
    fn only_automatic_active_live_schedules_have_a_next_run() {
        let state = scheduled();
        assert!(state.next_run_at().is_some());
        for stopped in [
            ScheduleState {
                automatic: false,
                ..state.clone()
            },
            ScheduleState {
                active: false,
                ..state.clone()
            },
            ScheduleState {
                deleted: true,
                ..state.clone()
            },
        ] {
            assert_eq!(stopped.next_run_at(), None);
        }
    }
}
