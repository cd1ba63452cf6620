//! Helpers shared by the sync tests: connecting to the sandbox, running a sync to its end,
//! counting rows.

use std::time::Duration;

use odoo_sandbox::{Sandbox, UserKind};
use prepsync_tests::TestApp;
use serde_json::{json, Value};

use crate::connections::create;

pub const RUN_FIELDS: &str = "id status trigger requestedAt startedAt finishedAt \
    counts { fetched imported updated cancelled removed outOfScope unchanged unmappedLines } \
    error { code message hint }";

/// A connection to the sandbox as its sales user, with `extra` settings.
pub async fn connect_with(app: &TestApp, token: &str, sandbox: &Sandbox, extra: Value) -> Value {
    let user = sandbox.user(UserKind::SalesAll);
    let input = json!({
        "name": "Sandbox",
        "url": sandbox.url(),
        "database": sandbox.database(),
        "username": user.login,
        "apiKey": user.api_key,
    });
    let mut input = input;
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    let created = create(app, token, input).await;
    assert!(created["errors"].is_null(), "{created}");
    created["data"]["createConnection"]["id"].clone()
}

/// A connection to the sandbox as its sales user.
pub async fn connect(app: &TestApp, token: &str, sandbox: &Sandbox) -> Value {
    connect_with(app, token, sandbox, json!({})).await
}

/// Starts a run and waits until it ends.
pub async fn sync(app: &TestApp, token: &str, connection: &Value) -> Value {
    let mutation =
        format!("mutation($id: ID!) {{ syncNow(connectionId: $id) {{ {RUN_FIELDS} }} }}");
    let started = app
        .graphql(token, &mutation, json!({ "id": connection }))
        .await;
    let run_id = started["data"]["syncNow"]["id"].clone();
    assert!(run_id.is_string(), "{started}");
    wait(app, token, &run_id).await
}

/// Waits until a run ends.
pub async fn wait(app: &TestApp, token: &str, run_id: &Value) -> Value {
    let query = format!("query($id: ID!) {{ syncRun(id: $id) {{ {RUN_FIELDS} }} }}");
    for _ in 0..600 {
        let run =
            app.graphql(token, &query, json!({ "id": run_id })).await["data"]["syncRun"].clone();
        if !matches!(run["status"].as_str(), Some("PENDING" | "RUNNING")) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the run did not end within a minute");
}

/// One number from the database.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}
