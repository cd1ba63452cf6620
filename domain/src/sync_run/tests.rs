#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::connection::{DatabaseName, OdooUrl, SourceKey, UrlPolicy};
use crate::ids::{AccountId, ConnectionId};

type Framework = TestFramework<SyncRun>;

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap()
}

fn acme() -> AccountId {
    AccountId::parse("acme").unwrap()
}

fn source() -> SourceKey {
    let url = OdooUrl::parse("https://acme.odoo.com", UrlPolicy::default()).unwrap();
    SourceKey::of(&url, &DatabaseName::parse("acme").unwrap())
}

fn requested() -> SyncRunEvent {
    SyncRunEvent::SyncRequested {
        run_id: SyncRunId::new(),
        account_id: acme(),
        connection_id: ConnectionId::new(),
        source: source(),
        trigger: SyncTrigger::Manual,
        at: at(),
    }
}

fn started() -> SyncRunEvent {
    SyncRunEvent::SyncStarted { at: at() }
}

fn batch(imported: u64) -> SyncRunEvent {
    SyncRunEvent::SyncBatchCommitted {
        counts: SyncCounts {
            fetched: imported,
            imported,
            ..Default::default()
        },
        cursor: None,
    }
}

#[tokio::test]
async fn a_requested_run_starts_once() {
    Framework::with(())
        .given(vec![requested()])
        .when_async(SyncRunCommand::Start {
            account_id: acme(),
            at: at(),
        })
        .await
        .then_expect_events(vec![started()]);
    Framework::with(())
        .given(vec![requested(), started()])
        .when_async(SyncRunCommand::Start {
            account_id: acme(),
            at: at(),
        })
        .await
        .then_expect_error(RunError::WrongStatus(RunStatus::Running));
}

#[tokio::test]
async fn another_account_cannot_touch_a_run() {
    Framework::with(())
        .given(vec![requested()])
        .when_async(SyncRunCommand::Cancel {
            account_id: AccountId::parse("globex").unwrap(),
            at: at(),
        })
        .await
        .then_expect_error(RunError::NotFound);
}

#[tokio::test]
async fn a_run_with_unmapped_lines_finishes_as_resolution_required() {
    Framework::with(())
        .given(vec![requested(), started(), batch(10)])
        .when_async(SyncRunCommand::Finish {
            account_id: acme(),
            unmapped_lines: 3,
            at: at(),
        })
        .await
        .then_expect_events(vec![SyncRunEvent::ResolutionRequired {
            unmapped_lines: 3,
            at: at(),
        }]);
}

#[tokio::test]
async fn a_run_without_unmapped_lines_completes() {
    Framework::with(())
        .given(vec![requested(), started(), batch(10)])
        .when_async(SyncRunCommand::Finish {
            account_id: acme(),
            unmapped_lines: 0,
            at: at(),
        })
        .await
        .then_expect_events(vec![SyncRunEvent::SyncCompleted { at: at() }]);
}

#[tokio::test]
async fn cancelling_a_pending_run_fails_it_at_once_and_a_running_one_after_its_batch() {
    let result = Framework::with(())
        .given(vec![requested()])
        .when_async(SyncRunCommand::Cancel {
            account_id: acme(),
            at: at(),
        })
        .await
        .inspect_result()
        .unwrap();
    assert!(
        matches!(&result[..], [SyncRunEvent::SyncFailed { failure, .. }] if failure.code == "CANCELLED_BY_USER")
    );

    Framework::with(())
        .given(vec![requested(), started()])
        .when_async(SyncRunCommand::Cancel {
            account_id: acme(),
            at: at(),
        })
        .await
        .then_expect_events(vec![SyncRunEvent::SyncCancelRequested { at: at() }]);
}

#[tokio::test]
async fn a_finished_run_cannot_fail_or_take_batches() {
    let finished = vec![
        requested(),
        started(),
        SyncRunEvent::SyncCompleted { at: at() },
    ];
    Framework::with(())
        .given(finished.clone())
        .when_async(SyncRunCommand::RecordBatch {
            account_id: acme(),
            counts: SyncCounts::default(),
            cursor: None,
        })
        .await
        .then_expect_error(RunError::WrongStatus(RunStatus::Completed));
    let failure = RunFailure {
        code: "INTERRUPTED".into(),
        message: "m".into(),
        hint: None,
    };
    Framework::with(())
        .given(finished)
        .when_async(SyncRunCommand::Fail {
            account_id: acme(),
            failure,
            at: at(),
        })
        .await
        .then_expect_error(RunError::WrongStatus(RunStatus::Completed));
}

#[test]
fn batches_add_up_and_mapping_the_last_line_completes_the_run() {
    let mut run = SyncRun::default();
    for event in [requested(), started(), batch(10), batch(5)] {
        cqrs_es::Aggregate::apply(&mut run, event);
    }
    assert_eq!((run.counts.imported, run.status), (15, RunStatus::Running));
    cqrs_es::Aggregate::apply(
        &mut run,
        SyncRunEvent::ResolutionRequired {
            unmapped_lines: 2,
            at: at(),
        },
    );
    let resolved = run
        .decide(SyncRunCommand::Resolve {
            account_id: acme(),
            at: at(),
        })
        .unwrap();
    cqrs_es::Aggregate::apply(&mut run, resolved[0].clone());
    assert_eq!(run.status, RunStatus::Completed);
}
