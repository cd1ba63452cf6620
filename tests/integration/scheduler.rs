//! The scheduler in-process against the sandbox: credential failures pause a schedule until it
//! is resumed or given new credentials; deactivating, switching to manual or deleting a
//! connection stops its schedule at once.

use std::time::{Duration, Instant};

use odoo_sandbox::{Dataset, Sandbox, SandboxConfig, UserKind};
use prepsync_tests::TestApp;
use serde_json::{json, Value};

use crate::sync_support::{connect_with, count};

/// A service whose schedules may run every second and back off no further than that.
pub async fn fast_scheduler() -> TestApp {
    TestApp::spawn_with(|config| {
        config.policy.min_interval_seconds = 1;
        config.scheduler.max_backoff_seconds = 1;
    })
    .await
}

/// A sandbox with a few generated orders.
pub async fn small_sandbox() -> Sandbox {
    let config = SandboxConfig::new(18).with_dataset(Dataset::Generated {
        orders: 30,
        seed: 3,
    });
    Sandbox::start(config).await.unwrap()
}

const SCHEDULE: &str = "query($id: ID!) { connection(id: $id) { syncMode active nextRunAt \
    health { state reason consecutiveFailures } } }";

async fn schedule(app: &TestApp, token: &str, id: &Value) -> Value {
    let response = app.graphql(token, SCHEDULE, json!({ "id": id })).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["connection"].clone()
}

/// Waits until the connection's health is in `state`.
async fn wait_for_health(app: &TestApp, token: &str, id: &Value, state: &str) -> Value {
    let start = Instant::now();
    loop {
        let connection = schedule(app, token, id).await;
        if connection["health"]["state"] == state {
            return connection;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "health never became {state}: {connection}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The runs of a connection, newest first.
async fn runs(app: &TestApp, token: &str, id: &Value) -> Vec<Value> {
    let query = "query($id: ID!) { syncRuns(connectionId: $id, first: 500) { totalCount \
        edges { node { id status trigger error { code } } } } }";
    let response = app.graphql(token, query, json!({ "id": id })).await;
    let edges = response["data"]["syncRuns"]["edges"].as_array().cloned();
    edges
        .unwrap_or_else(|| panic!("{response}"))
        .into_iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

fn connection_runs_sql(id: &Value, extra: &str) -> String {
    let id = id.as_str().unwrap();
    format!("SELECT count(*) FROM sync_runs WHERE connection_id = '{id}' {extra}")
}

/// Waits until the connection has no unfinished run.
async fn wait_idle(app: &TestApp, id: &Value) {
    let sql = connection_runs_sql(id, "AND status IN ('PENDING', 'RUNNING')");
    let start = Instant::now();
    while count(app, &sql).await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "a run never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the connection has more than `than` runs.
async fn wait_for_runs(app: &TestApp, id: &Value, than: i64) -> i64 {
    let sql = connection_runs_sql(id, "");
    let start = Instant::now();
    loop {
        let runs = count(app, &sql).await;
        if runs > than {
            return runs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no scheduled run after {than}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that no run is requested over a few intervals.
async fn assert_no_new_runs(app: &TestApp, id: &Value, why: &str) {
    wait_idle(app, id).await;
    let sql = connection_runs_sql(id, "");
    let before = count(app, &sql).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(count(app, &sql).await, before, "{why}: no run after that");
}

async fn update(app: &TestApp, token: &str, id: &Value, input: Value) -> Value {
    let mutation = "mutation($id: ID!, $input: UpdateConnectionInput!) { \
        updateConnection(id: $id, input: $input) { id nextRunAt health { state } } }";
    let response = app
        .graphql(token, mutation, json!({ "id": id, "input": input }))
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["updateConnection"].clone()
}

#[tokio::test]
async fn three_authentication_failures_in_a_row_pause_the_schedule_until_resumed_or_given_new_credentials(
) {
    let app = fast_scheduler().await;
    let token = app.token("acme", "admin");
    let sandbox = small_sandbox().await;
    let wrong_key =
        json!({ "apiKey": "0".repeat(40), "syncMode": "AUTOMATIC", "intervalSeconds": 1 });
    let id = connect_with(&app, &token, &sandbox, wrong_key).await;

    let paused = wait_for_health(&app, &token, &id, "PAUSED").await;
    assert_eq!(paused["health"]["consecutiveFailures"], 3, "{paused}");
    let reason = paused["health"]["reason"].as_str().unwrap();
    assert!(reason.contains("ODOO_AUTHENTICATION_FAILED"), "{reason}");
    assert!(reason.contains("resume"), "{reason}");
    assert!(paused["nextRunAt"].is_null(), "{paused}");
    assert_no_new_runs(&app, &id, "paused").await;
    let failed = runs(&app, &token, &id).await;
    assert_eq!(failed.len(), 3);
    for run in &failed {
        assert_eq!(run["trigger"], "SCHEDULED");
        assert_eq!(run["error"]["code"], "ODOO_AUTHENTICATION_FAILED", "{run}");
    }

    let resume = "mutation($id: ID!) { resumeSchedule(connectionId: $id) { nextRunAt health { state consecutiveFailures } } }";
    let resumed = app.graphql(&token, resume, json!({ "id": id })).await;
    let resumed = &resumed["data"]["resumeSchedule"];
    assert_eq!(resumed["health"]["state"], "FAILING", "{resumed}");
    assert!(resumed["nextRunAt"].is_string(), "{resumed}");
    wait_for_health(&app, &token, &id, "PAUSED").await;
    assert_eq!(
        runs(&app, &token, &id).await.len(),
        6,
        "three more failures pause it again"
    );

    let key = sandbox.user(UserKind::SalesAll).api_key;
    update(&app, &token, &id, json!({ "apiKey": key })).await;
    let healthy = wait_for_health(&app, &token, &id, "OK").await;
    assert_eq!(healthy["health"]["consecutiveFailures"], 0);
    assert!(healthy["health"]["reason"].is_null());
    let latest = &runs(&app, &token, &id).await[0];
    assert_eq!(latest["trigger"], "SCHEDULED");
    assert!(latest["error"].is_null(), "{latest}");
}

#[tokio::test]
async fn deactivating_switching_to_manual_or_deleting_stops_the_schedule_at_once_and_deleting_keeps_the_data(
) {
    let app = fast_scheduler().await;
    let token = app.token("acme", "admin");
    let sandbox = small_sandbox().await;
    let automatic = json!({ "syncMode": "AUTOMATIC", "intervalSeconds": 1 });
    let id = connect_with(&app, &token, &sandbox, automatic).await;
    wait_for_runs(&app, &id, 0).await;

    let stops = [
        (json!({ "active": false }), json!({ "active": true })),
        (
            json!({ "syncMode": "MANUAL" }),
            json!({ "syncMode": "AUTOMATIC" }),
        ),
    ];
    for (stop, restart) in stops {
        let stopped = update(&app, &token, &id, stop.clone()).await;
        assert!(stopped["nextRunAt"].is_null(), "{stop}: {stopped}");
        assert_no_new_runs(&app, &id, &stop.to_string()).await;
        let before = count(&app, &connection_runs_sql(&id, "")).await;
        update(&app, &token, &id, restart).await;
        wait_for_runs(&app, &id, before).await;
    }

    let imported = "SELECT count(*) FROM events WHERE event_type = 'OrderImported'";
    wait_idle(&app, &id).await;
    let orders = count(&app, imported).await;
    assert!(orders > 0, "the scheduled runs imported the orders");
    let deleted = app
        .graphql(
            &token,
            "mutation($id: ID!) { deleteConnection(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteConnection"], true, "{deleted}");
    assert_no_new_runs(&app, &id, "deleted").await;
    assert_eq!(count(&app, imported).await, orders, "synced data stays");
    let held = "SELECT count(*) FROM held_orders WHERE in_scope AND NOT removed";
    assert_eq!(count(&app, held).await, orders);
}

#[tokio::test]
async fn scheduled_runs_are_recorded_as_the_scheduler_with_the_scheduled_trigger() {
    let app = fast_scheduler().await;
    let token = app.token("acme", "admin");
    let sandbox = small_sandbox().await;
    let automatic = json!({ "syncMode": "AUTOMATIC", "intervalSeconds": 1 });
    let id = connect_with(&app, &token, &sandbox, automatic).await;
    wait_for_runs(&app, &id, 1).await;

    let sql = "SELECT count(*) FROM events WHERE event_type = 'SyncRequested'
                AND metadata ->> 'actor' <> 'scheduler'";
    assert_eq!(count(&app, sql).await, 0);
    let sql = "SELECT count(*) FROM events WHERE event_type = 'SyncRequested'
                AND payload ->> 'trigger' = 'SCHEDULED'";
    assert!(count(&app, sql).await >= 2);
}

#[tokio::test]
async fn connections_made_before_the_scheduler_existed_get_their_schedules_from_their_events() {
    let app = fast_scheduler().await;
    let token = app.token("acme", "admin");
    let automatic = json!({ "syncMode": "AUTOMATIC", "intervalSeconds": 7200, "active": false });
    let mut input = crate::connections::valid_input();
    input
        .as_object_mut()
        .unwrap()
        .extend(automatic.as_object().cloned().unwrap());
    let created = crate::connections::create(&app, &token, input).await;
    let kept = created["data"]["createConnection"]["id"].clone();
    update(
        &app,
        &token,
        &kept,
        json!({ "active": true, "intervalSeconds": 900 }),
    )
    .await;
    let mut other = crate::connections::valid_input();
    other["url"] = json!("https://other.example.com");
    let created = crate::connections::create(&app, &token, other).await;
    let gone = created["data"]["createConnection"]["id"].clone();
    let delete = "mutation($id: ID!) { deleteConnection(id: $id) }";
    app.graphql(&token, delete, json!({ "id": gone })).await;

    let columns =
        "connection_id, account_id, automatic, active, deleted, interval_seconds, credentials";
    let select = format!("SELECT {columns} FROM connection_schedules ORDER BY connection_id");
    type Row = (String, String, bool, bool, bool, i32, String);
    let followed: Vec<Row> = sqlx::query_as(&select)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(followed.len(), 2);
    let migration = include_str!("../../migrations/20261204000009_scheduler.sql");
    let backfill = migration
        .split("-- Connections that existed before this migration")
        .nth(1)
        .and_then(|rest| rest.split_once('\n'))
        .map(|(_, statement)| statement)
        .unwrap();
    sqlx::query("DELETE FROM connection_schedules")
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query(backfill).execute(app.db.pool()).await.unwrap();

    let backfilled: Vec<Row> = sqlx::query_as(&select)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(backfilled, followed);
    let kept_row = followed
        .iter()
        .find(|row| row.0 == kept.as_str().unwrap())
        .unwrap();
    assert_eq!(
        (kept_row.2, kept_row.3, kept_row.4, kept_row.5),
        (true, true, false, 900)
    );
    let gone_row = followed
        .iter()
        .find(|row| row.0 == gone.as_str().unwrap())
        .unwrap();
    assert!(
        gone_row.4,
        "the deleted connection's schedule stays stopped"
    );
}

#[tokio::test]
async fn a_connection_whose_runs_keep_failing_backs_off_and_is_not_paused() {
    let app = TestApp::spawn_with(|config| {
        config.policy.min_interval_seconds = 1;
        config.scheduler.max_backoff_seconds = 4;
    })
    .await;
    let token = app.token("acme", "admin");
    let sandbox = small_sandbox().await;
    let down =
        odoo_sandbox::FaultRule::new(odoo_sandbox::Fault::Status { status: 500 }).times(usize::MAX);
    sandbox.control().inject(down);
    let automatic = json!({ "syncMode": "AUTOMATIC", "intervalSeconds": 1 });
    let id = connect_with(&app, &token, &sandbox, automatic).await;

    wait_for_runs(&app, &id, 3).await;
    let requested: Vec<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "SELECT requested_at FROM sync_runs WHERE connection_id = $1 ORDER BY requested_at",
    )
    .bind(id.as_str().unwrap())
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let gaps: Vec<i64> = requested
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).num_milliseconds())
        .collect();
    assert!(gaps[0] >= 900, "{gaps:?}");
    assert!(
        gaps[1] >= 1_900 && gaps[2] >= 3_900,
        "the delays double: {gaps:?}"
    );

    let connection = schedule(&app, &token, &id).await;
    let health = &connection["health"];
    assert_eq!(health["state"], "FAILING", "{connection}");
    assert!(health["consecutiveFailures"].as_i64().unwrap() >= 3);
    assert!(
        health["reason"].as_str().unwrap().starts_with("ODOO_"),
        "{health}"
    );
    assert!(
        connection["nextRunAt"].is_string(),
        "not paused: {connection}"
    );
}
