//! Scheduled connections and their runs, read from `sync_runs` and the events: scheduling a
//! connection to the sandbox over GraphQL, waiting for scheduled runs, and checking that runs
//! never overlap and that each is started once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use odoo_sandbox::{Sandbox, UserKind};
use serde_json::{json, Value};

use crate::database::TestDatabase;
use crate::Graphql;

/// Seconds between scheduled runs in these tests (the replicas' minimum).
pub const INTERVAL: i64 = 1;

/// Creates a connection to the sandbox, tests it and schedules it every [`INTERVAL`];
/// returns its id and how many orders its scope matches.
pub async fn schedule_connection(
    client: &impl Graphql,
    token: &str,
    sandbox: &Sandbox,
    batch: u16,
) -> (Value, i64) {
    let user = sandbox.user(UserKind::SalesAll);
    let create =
        "mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }";
    let input = json!({ "name": "Kitchen", "url": sandbox.url(), "database": sandbox.database(),
        "username": user.login, "apiKey": user.api_key, "batchSize": batch });
    let created = client
        .graphql(token, create, json!({ "input": input }))
        .await;
    let id = created["data"]["createConnection"]["id"].clone();
    assert!(id.is_string(), "{created}");

    let test = "mutation($id: ID!) { testConnection(id: $id) { ok matchingOrders } }";
    let tested = client.graphql(token, test, json!({ "id": id })).await;
    assert_eq!(tested["data"]["testConnection"]["ok"], true, "{tested}");
    let matching = tested["data"]["testConnection"]["matchingOrders"]
        .as_i64()
        .unwrap();

    let update = "mutation($id: ID!, $input: UpdateConnectionInput!) { \
        updateConnection(id: $id, input: $input) { syncMode nextRunAt } }";
    let input = json!({ "syncMode": "AUTOMATIC", "intervalSeconds": INTERVAL });
    let scheduled = client
        .graphql(token, update, json!({ "id": id, "input": input }))
        .await;
    let scheduled = &scheduled["data"]["updateConnection"];
    assert_eq!(scheduled["syncMode"], "AUTOMATIC", "{scheduled}");
    assert!(scheduled["nextRunAt"].is_string(), "{scheduled}");
    (id, matching)
}

/// A run as `sync_runs` keeps it.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run's id.
    pub id: String,
    /// Its status.
    pub status: String,
    /// What started it (`SCHEDULED`, `MANUAL`, ...).
    pub trigger: String,
    /// When it was requested.
    pub requested_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Its failure's code, if it failed.
    pub error_code: Option<String>,
}

/// The runs of a connection, oldest first.
pub async fn runs_of(db: &TestDatabase, connection: &Value) -> Vec<Run> {
    let rows: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT run_id, status, state FROM sync_runs WHERE connection_id = $1
          ORDER BY requested_at, run_id",
    )
    .bind(connection.as_str().unwrap())
    .fetch_all(db.pool())
    .await
    .unwrap();
    let time = |state: &Value, field: &str| {
        state[field]
            .as_str()
            .map(|text| text.parse::<DateTime<Utc>>().unwrap())
    };
    rows.into_iter()
        .map(|(id, status, state)| Run {
            id,
            status,
            trigger: state["trigger"].as_str().unwrap_or_default().to_owned(),
            requested_at: time(&state, "requested_at").unwrap(),
            started_at: time(&state, "started_at"),
            finished_at: time(&state, "finished_at"),
            error_code: state["failure"]["code"].as_str().map(str::to_owned),
        })
        .collect()
}

/// How many scheduled runs of the connection have finished.
pub async fn finished_scheduled_runs(db: &TestDatabase, connection: &Value) -> usize {
    runs_of(db, connection)
        .await
        .iter()
        .filter(|run| run.finished_at.is_some() && run.trigger == "SCHEDULED")
        .count()
}

/// Waits until the connection has at least `at_least` finished scheduled runs.
pub async fn wait_for_finished_runs(db: &TestDatabase, connection: &Value, at_least: usize) {
    let start = Instant::now();
    loop {
        let finished = finished_scheduled_runs(db, connection).await;
        if finished >= at_least {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {finished} scheduled runs finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the schedule and waits until no run of the connection is unfinished.
pub async fn stop_and_settle(
    db: &TestDatabase,
    client: &impl Graphql,
    token: &str,
    connection: &Value,
) {
    let update =
        "mutation($id: ID!) { updateConnection(id: $id, input: { active: false }) { id } }";
    client
        .graphql(token, update, json!({ "id": connection }))
        .await;
    let start = Instant::now();
    while runs_of(db, connection)
        .await
        .iter()
        .any(|run| run.finished_at.is_none())
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "a run never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks the runs of one connection: each started once, never two at a time (in
/// `sync_runs` and in the order of the events), and scheduled runs at least an interval
/// apart. Returns the runs, oldest first.
pub async fn assert_runs_well_behaved(db: &TestDatabase, connection: &Value) -> Vec<Run> {
    let runs = runs_of(db, connection).await;
    assert_each_started_once(db, &runs).await;

    let ran: Vec<&Run> = runs.iter().filter(|run| run.started_at.is_some()).collect();
    for pair in ran.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        let ended = before.finished_at.expect("an earlier run ended");
        assert!(
            ended <= after.started_at.unwrap(),
            "runs overlap: {before:?} and {after:?}"
        );
    }
    assert_events_alternate(db, connection).await;

    let scheduled: Vec<&Run> = runs.iter().filter(|r| r.trigger == "SCHEDULED").collect();
    for pair in scheduled.windows(2) {
        let gap = pair[1].requested_at - pair[0].requested_at;
        assert!(
            gap >= chrono::Duration::milliseconds(INTERVAL * 1000 - 50),
            "a slot was run twice: {:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    runs
}

/// Each run has one `SyncStarted` event if it started, none otherwise.
async fn assert_each_started_once(db: &TestDatabase, runs: &[Run]) {
    let starts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT aggregate_id, count(*) FROM events
          WHERE aggregate_type = 'sync_run' AND event_type = 'SyncStarted'
            AND aggregate_id = ANY($1) GROUP BY aggregate_id",
    )
    .bind(runs.iter().map(|run| run.id.clone()).collect::<Vec<_>>())
    .fetch_all(db.pool())
    .await
    .unwrap();
    let starts: HashMap<String, i64> = starts.into_iter().collect();
    for run in runs {
        let started = starts.get(&run.id).copied().unwrap_or(0);
        assert!(started <= 1, "run {} started {started} times", run.id);
        assert_eq!(started == 1, run.started_at.is_some(), "{run:?}");
    }
}

/// In the global order of the events, each run of the connection ends before the next
/// starts.
async fn assert_events_alternate(db: &TestDatabase, connection: &Value) {
    let events: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.aggregate_id, e.event_type FROM events e
          WHERE e.aggregate_type = 'sync_run'
            AND e.event_type IN ('SyncStarted', 'SyncCompleted', 'ResolutionRequired', 'SyncFailed')
            AND e.aggregate_id IN (SELECT run_id FROM sync_runs WHERE connection_id = $1)
          ORDER BY e.transaction_id, e.global_position",
    )
    .bind(connection.as_str().unwrap())
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut running: Option<String> = None;
    for (run, event) in events {
        if event == "SyncStarted" {
            assert!(running.is_none(), "{run} started while {running:?} ran");
            running = Some(run);
        } else if running.as_ref() == Some(&run) {
            running = None;
        }
    }
}

/// The connection's `nextRunAt`, as `client` shows it.
pub async fn next_run_at(
    client: &impl Graphql,
    token: &str,
    connection: &Value,
) -> Option<DateTime<Utc>> {
    let query = "query($id: ID!) { connection(id: $id) { nextRunAt } }";
    let response = client
        .graphql(token, query, json!({ "id": connection }))
        .await;
    response["data"]["connection"]["nextRunAt"]
        .as_str()
        .map(|text| text.parse().unwrap())
}

/// One number from the database.
pub async fn count(db: &TestDatabase, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}
