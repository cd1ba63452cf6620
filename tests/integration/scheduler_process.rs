//! The scheduler end to end: the real `prepsync serve` processes (one or two replicas on one
//! database), a real PostgreSQL and the sandbox over HTTP. A connection is created, tested
//! and scheduled through GraphQL; the tests wait for scheduled runs and check, from
//! `sync_runs` and the events, that runs never overlap, that each is started once, and that
//! an overdue run starts as soon as the one before it ends.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use odoo_sandbox::{CallMatcher, Fault, FaultRule};
use prepsync_tests::schedule::{
    assert_runs_well_behaved, count, next_run_at, runs_of, schedule_connection, stop_and_settle,
    wait_for_finished_runs, Run, INTERVAL,
};
use prepsync_tests::{admin_token, generated_sandbox, Graphql, Replica, TestDatabase};
use serde_json::json;

#[tokio::test]
async fn a_connection_created_tested_and_scheduled_over_graphql_syncs_every_interval() {
    let db = TestDatabase::create().await;
    let sandbox = generated_sandbox(40).await;
    let mut replica = Replica::new(crate::PREPSYNC, &db);
    replica.start();
    let token = admin_token(&db, "acme");
    let (connection, matching) = schedule_connection(&replica, &token, &sandbox, 100).await;

    wait_for_finished_runs(&db, &connection, 3).await;
    let query = "query($id: ID!) { syncRuns(connectionId: $id, first: 10) { totalCount \
        edges { node { trigger status requestedAt } } } }";
    let listed = replica
        .graphql(&token, query, json!({ "id": connection }))
        .await;
    let listed = &listed["data"]["syncRuns"];
    assert!(listed["totalCount"].as_i64().unwrap() >= 3, "{listed}");
    let newest = &listed["edges"][0]["node"];
    assert_eq!(newest["trigger"], "SCHEDULED", "{listed}");
    let newest_at: DateTime<Utc> = newest["requestedAt"].as_str().unwrap().parse().unwrap();
    let next = next_run_at(&replica, &token, &connection).await.unwrap();
    let after = next - newest_at;
    assert!(
        after > chrono::Duration::zero() && after <= chrono::Duration::seconds(INTERVAL * 4),
        "nextRunAt {next} follows the newest run {newest_at}"
    );

    stop_and_settle(&db, &replica, &token, &connection).await;
    let runs = assert_runs_well_behaved(&db, &connection).await;
    assert!(runs.iter().all(|run| run.status != "FAILED"), "{runs:?}");
    let actors = "SELECT count(*) FROM events WHERE event_type = 'SyncRequested'
                   AND metadata ->> 'actor' = 'scheduler'";
    assert_eq!(count(&db, actors).await, runs.len() as i64);
    let held = "SELECT count(*) FROM held_orders WHERE in_scope";
    assert_eq!(
        count(&db, held).await,
        matching,
        "every order of the scope once"
    );
}

#[tokio::test]
async fn two_replicas_on_one_database_start_each_scheduled_run_once() {
    let db = TestDatabase::create().await;
    let sandbox = generated_sandbox(40).await;
    let mut first = Replica::new(crate::PREPSYNC, &db);
    let mut second = Replica::new(crate::PREPSYNC, &db);
    first.start();
    second.start();
    let token = admin_token(&db, "acme");
    let (connection, matching) = schedule_connection(&first, &token, &sandbox, 100).await;

    wait_for_finished_runs(&db, &connection, 4).await;
    let next = next_run_at(&second, &token, &connection).await;
    assert!(next.is_some(), "the other replica shows the schedule");
    stop_and_settle(&db, &second, &token, &connection).await;
    let runs = assert_runs_well_behaved(&db, &connection).await;
    assert!(runs.iter().all(|run| run.status != "FAILED"), "{runs:?}");
    let held = "SELECT count(*) FROM held_orders WHERE in_scope";
    assert_eq!(count(&db, held).await, matching);
}

#[tokio::test]
async fn the_schedule_goes_on_after_a_sigterm_and_a_restart() {
    let db = TestDatabase::create().await;
    let sandbox = generated_sandbox(40).await;
    let slow = FaultRule::new(Fault::latency(Duration::from_millis(300)))
        .matching(CallMatcher::method("search_read"))
        .times(usize::MAX);
    sandbox.control().inject(slow);
    let mut replica = Replica::new(crate::PREPSYNC, &db);
    replica.start();
    let token = admin_token(&db, "acme");
    let (connection, _) = schedule_connection(&replica, &token, &sandbox, 100).await;
    wait_for_finished_runs(&db, &connection, 1).await;

    let start = Instant::now();
    while !runs_of(&db, &connection)
        .await
        .iter()
        .any(|run| run.status == "RUNNING")
    {
        assert!(start.elapsed() < Duration::from_secs(30), "no run started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(replica.terminate(), Some(0), "a graceful stop");
    let runs = runs_of(&db, &connection).await;
    let interrupted = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM sync_runs WHERE connection_id = $1
            AND state -> 'failure' ->> 'code' = 'INTERRUPTED'",
    )
    .bind(connection.as_str().unwrap())
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(
        runs.iter().all(|run| run.finished_at.is_some()) && interrupted == 1,
        "the stopping process closed its run at once: {runs:?}"
    );
    let before = runs.len();
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(
        runs_of(&db, &connection).await.len(),
        before,
        "nothing runs while no replica does"
    );

    replica.start();
    let finished_before = runs_of(&db, &connection)
        .await
        .iter()
        .filter(|run| run.finished_at.is_some())
        .count();
    wait_for_finished_runs(&db, &connection, finished_before + 2).await;
    let runs = runs_of(&db, &connection).await;
    let completed = runs
        .iter()
        .filter(|run| run.finished_at.is_some() && run.status != "FAILED")
        .count();
    assert!(completed >= 3, "{runs:?}");
    assert!(
        runs[before..].iter().all(|run| run.trigger == "SCHEDULED"),
        "{runs:?}"
    );
    stop_and_settle(&db, &replica, &token, &connection).await;
    assert_runs_well_behaved(&db, &connection).await;
}

/// The acceptance scenario: two replicas, three connections every second, and a sandbox
/// slowed down so that each run outlasts its interval.
#[tokio::test]
async fn slow_runs_on_two_replicas_never_overlap_never_start_twice_and_overdue_runs_start_at_once()
{
    let db = TestDatabase::create().await;
    let everything = ("PREPSYNC_SYNC_LOOKBACK_SECONDS", "315360000");
    let mut first = Replica::new(crate::PREPSYNC, &db).with(everything.0, everything.1);
    let mut second = Replica::new(crate::PREPSYNC, &db).with(everything.0, everything.1);
    first.start();
    second.start();

    let mut connections = Vec::new();
    let mut sandboxes = Vec::new();
    for account in ["north", "south", "east"] {
        let sandbox = generated_sandbox(20).await;
        let slow = FaultRule::new(Fault::latency(Duration::from_millis(400)))
            .matching(CallMatcher::method("search_read"))
            .times(usize::MAX);
        sandbox.control().inject(slow);
        let token = admin_token(&db, account);
        let (connection, _) = schedule_connection(&first, &token, &sandbox, 100).await;
        connections.push((token, connection));
        sandboxes.push(sandbox);
    }

    for (_, connection) in &connections {
        wait_for_finished_runs(&db, connection, 3).await;
    }
    for (token, connection) in &connections {
        stop_and_settle(&db, &second, token, connection).await;
    }

    for (_, connection) in &connections {
        let runs = assert_runs_well_behaved(&db, connection).await;
        let ran: Vec<&Run> = runs.iter().filter(|run| run.started_at.is_some()).collect();
        for pair in ran.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let took = before.finished_at.unwrap() - before.started_at.unwrap();
            assert!(
                took > chrono::Duration::seconds(INTERVAL),
                "the slowed run outlasts its interval: {before:?}"
            );
            let waited = after.started_at.unwrap() - before.finished_at.unwrap();
            assert!(
                waited < chrono::Duration::milliseconds(1_000),
                "the overdue run started {waited} after the previous ended: {after:?}"
            );
        }
        assert!(runs.iter().all(|run| run.status != "FAILED"), "{runs:?}");
    }
}

/// A replica killed with SIGKILL in the middle of a scheduled run: the other replica finds
/// the run silent past its lease, closes it as `INTERRUPTED` and goes on with the schedule.
#[tokio::test]
async fn a_run_whose_replica_dies_is_closed_by_the_other_replica_which_takes_over_the_schedule() {
    let db = TestDatabase::create().await;
    let sandbox = generated_sandbox(40).await;
    let slow = FaultRule::new(Fault::latency(Duration::from_millis(300)))
        .matching(CallMatcher::method("search_read"))
        .times(usize::MAX);
    sandbox.control().inject(slow);
    let mut replicas = [
        Replica::new(crate::PREPSYNC, &db),
        Replica::new(crate::PREPSYNC, &db),
    ];
    for replica in &mut replicas {
        replica.start();
    }
    let token = admin_token(&db, "acme");
    let (connection, _) = schedule_connection(&replicas[0], &token, &sandbox, 100).await;

    let start = Instant::now();
    let (run, owner) = loop {
        let running = runs_of(&db, &connection)
            .await
            .into_iter()
            .find(|run| run.status == "RUNNING");
        let owner = running.as_ref().and_then(|run| {
            replicas.iter().position(|replica| {
                let output = replica.output();
                output.is_some_and(|text| text.contains(&format!("\"run\":\"{}\"", run.id)))
            })
        });
        if let (Some(run), Some(owner)) = (running, owner) {
            break (run, owner);
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no run started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    replicas[owner].kill();

    let survivor = &replicas[1 - owner];
    let start = Instant::now();
    let closed = loop {
        let runs = runs_of(&db, &connection).await;
        let closed = runs
            .iter()
            .find(|r| r.id == run.id && r.finished_at.is_some());
        if let Some(closed) = closed {
            break closed.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the dead run stayed open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        closed.error_code.as_deref(),
        Some("INTERRUPTED"),
        "{closed:?}"
    );
    let finished = runs_of(&db, &connection)
        .await
        .iter()
        .filter(|run| run.finished_at.is_some())
        .count();
    wait_for_finished_runs(&db, &connection, finished + 1).await;
    stop_and_settle(&db, survivor, &token, &connection).await;
    let runs = assert_runs_well_behaved(&db, &connection).await;
    let after: Vec<&Run> = runs
        .iter()
        .filter(|r| r.requested_at > closed.requested_at)
        .collect();
    assert!(
        !after.is_empty() && after.iter().all(|run| run.status != "FAILED"),
        "the survivor took the schedule over: {runs:?}"
    );
}
