//! The scheduler end to end: the real `prepsync serve` processes (one or two replicas on one
//! database), a real PostgreSQL and the sandbox over HTTP. A connection is created, tested
//! and scheduled through GraphQL; the tests wait for scheduled runs and check, from
//! `sync_runs` and the events, that runs never overlap, that each is started once, and that
//! an overdue run starts as soon as the one before it ends.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use odoo_sandbox::{CallMatcher, Dataset, Fault, FaultRule, Sandbox, SandboxConfig, UserKind};
use prepsync_tests::{ServiceProcess, TestApp, TestDatabase, JWT_SECRET};
use serde_json::{json, Value};

/// Seconds between scheduled runs in these tests.
const INTERVAL: i64 = 1;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `prepsync serve` replica with a fast scheduler.
struct Replica {
    port: u16,
    env: Vec<(&'static str, String)>,
    process: Option<ServiceProcess>,
}

impl Replica {
    fn new(db: &TestDatabase) -> Self {
        let port = free_port();
        let env = vec![
            ("DATABASE_URL", db.url().to_owned()),
            (
                "PREPSYNC_MASTER_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
            ),
            ("PREPSYNC_JWT_SECRET", JWT_SECRET.to_owned()),
            ("PREPSYNC_LISTEN", format!("127.0.0.1:{port}")),
            ("PREPSYNC_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
            ("PREPSYNC_ALLOW_INSECURE_HTTP", "true".to_owned()),
            ("PREPSYNC_MIN_INTERVAL_SECONDS", "1".to_owned()),
            ("PREPSYNC_SCHEDULER_TICK_MS", "100".to_owned()),
            ("PREPSYNC_SYNC_STALE_SECONDS", "3".to_owned()),
            ("PREPSYNC_ODOO_RETRY_MIN_DELAY_MS", "10".to_owned()),
        ];
        Self {
            port,
            env,
            process: None,
        }
    }

    /// The same replica with one more setting.
    fn with(mut self, key: &'static str, value: &str) -> Self {
        self.env.push((key, value.to_owned()));
        self
    }

    fn start(&mut self) -> &mut Self {
        let process = ServiceProcess::start(crate::PREPSYNC, &["serve"], &self.env);
        process.wait_for_output("serving", Duration::from_secs(60));
        self.process = Some(process);
        self
    }

    /// Sends SIGTERM and returns the exit code.
    fn terminate(&mut self) -> Option<i32> {
        let mut process = self.process.take()?;
        process.signal("TERM");
        process.wait_exit(Duration::from_secs(20))
    }

    async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = prepsync_tests::http_client()
            .post(format!("http://127.0.0.1:{}/graphql", self.port))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }
}

fn token(db: &TestDatabase, account: &str) -> String {
    api::auth::issue_token(
        &TestApp::config(db).jwt,
        account,
        "admin",
        "tester",
        Duration::from_secs(600),
    )
    .unwrap()
}

async fn sandbox(orders: usize) -> Sandbox {
    let config = SandboxConfig::new(18).with_dataset(Dataset::Generated { orders, seed: 5 });
    Sandbox::start(config).await.unwrap()
}

/// Creates a connection to the sandbox, tests it and schedules it every [`INTERVAL`];
/// returns its id and how many orders its scope matches.
async fn schedule_connection(
    replica: &Replica,
    token: &str,
    sandbox: &Sandbox,
    batch: u16,
) -> (Value, i64) {
    let user = sandbox.user(UserKind::SalesAll);
    let create =
        "mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }";
    let input = json!({ "name": "Kitchen", "url": sandbox.url(), "database": sandbox.database(),
        "username": user.login, "apiKey": user.api_key, "batchSize": batch });
    let created = replica
        .graphql(token, create, json!({ "input": input }))
        .await;
    let id = created["data"]["createConnection"]["id"].clone();
    assert!(id.is_string(), "{created}");

    let test = "mutation($id: ID!) { testConnection(id: $id) { ok matchingOrders } }";
    let tested = replica.graphql(token, test, json!({ "id": id })).await;
    assert_eq!(tested["data"]["testConnection"]["ok"], true, "{tested}");
    let matching = tested["data"]["testConnection"]["matchingOrders"]
        .as_i64()
        .unwrap();

    let update = "mutation($id: ID!, $input: UpdateConnectionInput!) { \
        updateConnection(id: $id, input: $input) { syncMode nextRunAt } }";
    let input = json!({ "syncMode": "AUTOMATIC", "intervalSeconds": INTERVAL });
    let scheduled = replica
        .graphql(token, update, json!({ "id": id, "input": input }))
        .await;
    let scheduled = &scheduled["data"]["updateConnection"];
    assert_eq!(scheduled["syncMode"], "AUTOMATIC", "{scheduled}");
    assert!(scheduled["nextRunAt"].is_string(), "{scheduled}");
    (id, matching)
}

/// A run as `sync_runs` keeps it.
#[derive(Debug, Clone)]
struct Run {
    id: String,
    status: String,
    trigger: String,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    error_code: Option<String>,
}

/// The runs of a connection, oldest first.
async fn runs_of(db: &TestDatabase, connection: &Value) -> Vec<Run> {
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

/// Waits until the connection has at least `at_least` finished scheduled runs.
async fn wait_for_finished_runs(db: &TestDatabase, connection: &Value, at_least: usize) {
    let start = Instant::now();
    loop {
        let finished = runs_of(db, connection)
            .await
            .iter()
            .filter(|run| run.finished_at.is_some() && run.trigger == "SCHEDULED")
            .count();
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
async fn stop_and_settle(db: &TestDatabase, replica: &Replica, token: &str, connection: &Value) {
    let update =
        "mutation($id: ID!) { updateConnection(id: $id, input: { active: false }) { id } }";
    replica
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
/// apart.
async fn assert_runs_well_behaved(db: &TestDatabase, connection: &Value) -> Vec<Run> {
    let runs = runs_of(db, connection).await;
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
    for run in &runs {
        let started = starts.get(&run.id).copied().unwrap_or(0);
        assert!(started <= 1, "run {} started {started} times", run.id);
        assert_eq!(started == 1, run.started_at.is_some(), "{run:?}");
    }

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

async fn next_run_at(replica: &Replica, token: &str, connection: &Value) -> Option<DateTime<Utc>> {
    let query = "query($id: ID!) { connection(id: $id) { nextRunAt } }";
    let response = replica
        .graphql(token, query, json!({ "id": connection }))
        .await;
    response["data"]["connection"]["nextRunAt"]
        .as_str()
        .map(|text| text.parse().unwrap())
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_connection_created_tested_and_scheduled_over_graphql_syncs_every_interval() {
    let db = TestDatabase::create().await;
    let sandbox = sandbox(40).await;
    let mut replica = Replica::new(&db);
    replica.start();
    let token = token(&db, "acme");
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
    let sandbox = sandbox(40).await;
    let mut first = Replica::new(&db);
    let mut second = Replica::new(&db);
    first.start();
    second.start();
    let token = token(&db, "acme");
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
    let sandbox = sandbox(40).await;
    let slow = FaultRule::new(Fault::latency(Duration::from_millis(300)))
        .matching(CallMatcher::method("search_read"))
        .times(usize::MAX);
    sandbox.control().inject(slow);
    let mut replica = Replica::new(&db);
    replica.start();
    let token = token(&db, "acme");
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
    let mut first = Replica::new(&db).with(everything.0, everything.1);
    let mut second = Replica::new(&db).with(everything.0, everything.1);
    first.start();
    second.start();

    let mut connections = Vec::new();
    let mut sandboxes = Vec::new();
    for account in ["north", "south", "east"] {
        let sandbox = sandbox(20).await;
        let slow = FaultRule::new(Fault::latency(Duration::from_millis(400)))
            .matching(CallMatcher::method("search_read"))
            .times(usize::MAX);
        sandbox.control().inject(slow);
        let token = token(&db, account);
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
    let sandbox = sandbox(40).await;
    let slow = FaultRule::new(Fault::latency(Duration::from_millis(300)))
        .matching(CallMatcher::method("search_read"))
        .times(usize::MAX);
    sandbox.control().inject(slow);
    let mut replicas = [Replica::new(&db), Replica::new(&db)];
    for replica in &mut replicas {
        replica.start();
    }
    let token = token(&db, "acme");
    let (connection, _) = schedule_connection(&replicas[0], &token, &sandbox, 100).await;

    let start = Instant::now();
    let (run, owner) = loop {
        let running = runs_of(&db, &connection)
            .await
            .into_iter()
            .find(|run| run.status == "RUNNING");
        let owner = running.as_ref().and_then(|run| {
            replicas.iter().position(|replica| {
                let output = replica.process.as_ref().map(ServiceProcess::output);
                output.is_some_and(|text| text.contains(&format!("\"run\":\"{}\"", run.id)))
            })
        });
        if let (Some(run), Some(owner)) = (running, owner) {
            break (run, owner);
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no run started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    if let Some(mut process) = replicas[owner].process.take() {
        process.signal("KILL");
        process.wait_exit(Duration::from_secs(10));
    }

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
