//! The sync run aggregate: which lifecycle steps are allowed, and the state its events leave.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::events::{RunFailure, SyncCounts, SyncCursor, SyncRunEvent, SyncTrigger};
use super::SyncRunId;
use crate::connection::SourceKey;
use crate::ids::{AccountId, ConnectionId};

/// Where a run is in its lifecycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Waiting for a worker.
    #[default]
    Pending,
    /// A worker is importing.
    Running,
    /// Finished; every product line in scope is mapped.
    Completed,
    /// Stopped without finishing.
    Failed,
    /// Finished with unmapped product lines.
    ResolutionRequired,
}

impl RunStatus {
    /// Whether the run has ended.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::ResolutionRequired
        )
    }
}

/// The sync run aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncRun {
    /// The run's id, once requested.
    pub id: Option<SyncRunId>,
    /// Its account.
    pub account_id: Option<AccountId>,
    /// The connection it syncs.
    pub connection_id: Option<ConnectionId>,
    /// The source it reads.
    pub source: Option<SourceKey>,
    /// What started it.
    pub trigger: Option<SyncTrigger>,
    /// Its status.
    pub status: RunStatus,
    /// What it has done.
    pub counts: SyncCounts,
    /// Where reading continues after its last batch.
    pub cursor: Option<SyncCursor>,
    /// Whether someone asked it to stop.
    pub cancel_requested: bool,
    /// Why it failed.
    pub failure: Option<RunFailure>,
    /// When it was asked for.
    pub requested_at: Option<DateTime<Utc>>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What can be asked of a run. Every command names the caller's account.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncRunCommand {
    /// Ask for a run.
    Request {
        /// Its id.
        run_id: SyncRunId,
        /// Its account.
        account_id: AccountId,
        /// The connection.
        connection_id: ConnectionId,
        /// The connection's source.
        source: SourceKey,
        /// What asked.
        trigger: SyncTrigger,
        /// Now.
        at: DateTime<Utc>,
    },
    /// A worker starts it.
    Start {
        /// The run's account.
        account_id: AccountId,
        /// Now.
        at: DateTime<Utc>,
    },
    /// A batch was committed.
    RecordBatch {
        /// The run's account.
        account_id: AccountId,
        /// What the batch did.
        counts: SyncCounts,
        /// Where reading continues.
        cursor: Option<SyncCursor>,
    },
    /// Stop after the current batch (at once if it has not started).
    Cancel {
        /// The caller's account.
        account_id: AccountId,
        /// Now.
        at: DateTime<Utc>,
    },
    /// Every batch is done.
    Finish {
        /// The run's account.
        account_id: AccountId,
        /// Unmapped product lines in the run's scope.
        unmapped_lines: u64,
        /// Now.
        at: DateTime<Utc>,
    },
    /// The run cannot go on.
    Fail {
        /// The run's account.
        account_id: AccountId,
        /// Why.
        failure: RunFailure,
        /// Now.
        at: DateTime<Utc>,
    },
    /// The last unmapped line of the run's scope was mapped.
    Resolve {
        /// The run's account.
        account_id: AccountId,
        /// Now.
        at: DateTime<Utc>,
    },
}

/// Why a run command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// No such run in the caller's account.
    #[error("sync run not found")]
    NotFound,
    /// A run with this id exists already.
    #[error("sync run already requested")]
    AlreadyRequested,
    /// The step needs a run in another status.
    #[error("sync run is {0:?}")]
    WrongStatus(RunStatus),
}

impl Aggregate for SyncRun {
    const TYPE: &'static str = "sync_run";
    type Command = SyncRunCommand;
    type Event = SyncRunEvent;
    type Error = RunError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            SyncRunEvent::SyncRequested {
                run_id,
                account_id,
                connection_id,
                source,
                trigger,
                at,
            } => {
                self.id = Some(run_id);
                self.account_id = Some(account_id);
                self.connection_id = Some(connection_id);
                self.source = Some(source);
                self.trigger = Some(trigger);
                self.requested_at = Some(at);
            }
            SyncRunEvent::SyncStarted { at } => {
                self.status = RunStatus::Running;
                self.started_at = Some(at);
            }
            SyncRunEvent::SyncBatchCommitted { counts, cursor } => {
                self.counts += counts;
                self.cursor = cursor.or(self.cursor);
            }
            SyncRunEvent::SyncCancelRequested { .. } => self.cancel_requested = true,
            SyncRunEvent::SyncCompleted { at } | SyncRunEvent::SyncResolved { at } => {
                self.finish(RunStatus::Completed, at);
            }
            SyncRunEvent::ResolutionRequired { unmapped_lines, at } => {
                self.counts.unmapped_lines = unmapped_lines;
                self.finish(RunStatus::ResolutionRequired, at);
            }
            SyncRunEvent::SyncFailed { failure, at } => {
                self.failure = Some(failure);
                self.finish(RunStatus::Failed, at);
            }
        }
    }
}

impl SyncRun {
    /// The events a command produces, or why it is refused.
    pub fn decide(&self, command: SyncRunCommand) -> Result<Vec<SyncRunEvent>, RunError> {
        match command {
            SyncRunCommand::Request {
                run_id,
                account_id,
                connection_id,
                source,
                trigger,
                at,
            } => {
                if self.id.is_some() {
                    return Err(RunError::AlreadyRequested);
                }
                Ok(vec![SyncRunEvent::SyncRequested {
                    run_id,
                    account_id,
                    connection_id,
                    source,
                    trigger,
                    at,
                }])
            }
            SyncRunCommand::Start { account_id, at } => {
                self.expect(&account_id, &[RunStatus::Pending])?;
                Ok(vec![SyncRunEvent::SyncStarted { at }])
            }
            SyncRunCommand::RecordBatch {
                account_id,
                counts,
                cursor,
            } => {
                self.expect(&account_id, &[RunStatus::Running])?;
                Ok(vec![SyncRunEvent::SyncBatchCommitted { counts, cursor }])
            }
            SyncRunCommand::Cancel { account_id, at } => self.cancel(&account_id, at),
            SyncRunCommand::Finish {
                account_id,
                unmapped_lines,
                at,
            } => {
                self.expect(&account_id, &[RunStatus::Running])?;
                Ok(vec![match unmapped_lines {
                    0 => SyncRunEvent::SyncCompleted { at },
                    _ => SyncRunEvent::ResolutionRequired { unmapped_lines, at },
                }])
            }
            SyncRunCommand::Fail {
                account_id,
                failure,
                at,
            } => {
                self.expect(&account_id, &[RunStatus::Pending, RunStatus::Running])?;
                Ok(vec![SyncRunEvent::SyncFailed { failure, at }])
            }
            SyncRunCommand::Resolve { account_id, at } => {
                self.expect(&account_id, &[RunStatus::ResolutionRequired])?;
                Ok(vec![SyncRunEvent::SyncResolved { at }])
            }
        }
    }

    fn cancel(
        &self,
        account_id: &AccountId,
        at: DateTime<Utc>,
    ) -> Result<Vec<SyncRunEvent>, RunError> {
        self.expect(account_id, &[RunStatus::Pending, RunStatus::Running])?;
        if self.status == RunStatus::Running {
            return Ok(if self.cancel_requested {
                vec![]
            } else {
                vec![SyncRunEvent::SyncCancelRequested { at }]
            });
        }
        let failure = RunFailure {
            code: "CANCELLED_BY_USER".to_owned(),
            message: "the sync was cancelled before it started".to_owned(),
            hint: None,
        };
        Ok(vec![SyncRunEvent::SyncFailed { failure, at }])
    }

    fn expect(&self, account_id: &AccountId, allowed: &[RunStatus]) -> Result<(), RunError> {
        if self.id.is_none() || self.account_id.as_ref() != Some(account_id) {
            return Err(RunError::NotFound);
        }
        if !allowed.contains(&self.status) {
            return Err(RunError::WrongStatus(self.status));
        }
        Ok(())
    }

    fn finish(&mut self, status: RunStatus, at: DateTime<Utc>) {
        self.status = status;
        self.finished_at = Some(at);
    }
}
