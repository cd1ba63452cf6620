//! A sync when things go wrong: Odoo failing mid-sync, writes Odoo commits late, and a
//! connection deleted and created again. Every run either succeeds after retries or fails
//! with the guide's code, and never records part of a batch.

use std::time::Duration;

use odoo_sandbox::{CallMatcher, Fault, FaultRule, NewLine, NewOrder, Sandbox, SandboxConfig};
use prepsync_tests::TestApp;
use serde_json::{json, Value};

use crate::sync_support::{connect_with, count, sync};

/// The versions whose protocols and states differ: 16 (state `done`, JSON-RPC), 17 (locked
/// `sale`), 18, and 19 (JSON-2).
const VERSIONS: [u8; 4] = [16, 17, 18, 19];

async fn connect(app: &TestApp, token: &str, sandbox: &Sandbox) -> Value {
    connect_with(app, token, sandbox, json!({ "batchSize": 20 })).await
}

/// Every order event belongs to a committed batch: the events match the counts of the runs.
async fn assert_no_partial_batch(app: &TestApp) {
    let imported_events = count(
        app,
        "SELECT count(*) FROM events WHERE event_type = 'OrderImported'",
    )
    .await;
    let counted: i64 = count(
        app,
        "SELECT coalesce(sum((payload -> 'counts' ->> 'imported')::bigint), 0)::bigint FROM events WHERE event_type = 'SyncBatchCommitted'",
    )
    .await;
    assert_eq!(imported_events, counted);
    assert_eq!(
        count(app, "SELECT count(*) FROM held_orders").await,
        imported_events
    );
}

#[tokio::test]
async fn transient_failures_mid_sync_are_retried_and_the_sync_completes() {
    let app = TestApp::spawn().await;
    for version in VERSIONS {
        // An account per sandbox: a later sandbox may get an earlier one's port.
        let token = app.token(&format!("acme-{version}"), "admin");
        let sandbox = Sandbox::start(SandboxConfig::new(version)).await.unwrap();
        let connection = connect(&app, &token, &sandbox).await;
        let expected = app
            .graphql(
                &token,
                "mutation($id: ID!) { testConnection(id: $id) { matchingOrders } }",
                json!({ "id": connection }),
            )
            .await["data"]["testConnection"]["matchingOrders"]
            .as_u64()
            .unwrap();
        let control = sandbox.control();
        for (nth, fault) in [
            (3, Fault::Status { status: 503 }),
            (5, Fault::ConnectionReset),
            (7, Fault::TooManyRequests { retry_after: 0 }),
        ] {
            control.inject(
                FaultRule::new(fault)
                    .matching(CallMatcher::method("search_read"))
                    .on_nth(nth),
            );
        }

        let run = sync(&app, &token, &connection).await;
        assert_eq!(
            run["counts"]["imported"].as_u64(),
            Some(expected),
            "{version}: {run}"
        );
        assert_ne!(run["status"], "FAILED", "{version}: {run}");
        assert_no_partial_batch(&app).await;
    }
}

#[tokio::test]
async fn lasting_failures_mid_sync_end_the_run_with_the_guides_code_and_no_partial_batch() {
    let app = TestApp::spawn_with(|config| config.odoo.request_timeout_ms = 700).await;
    let cases = [
        (Fault::Status { status: 500 }, "ODOO_SERVER_ERROR"),
        (Fault::HtmlPage, "ODOO_UNEXPECTED_RESPONSE"),
        (Fault::MalformedBody, "ODOO_UNEXPECTED_RESPONSE"),
        (Fault::Hang, "ODOO_TIMEOUT"),
    ];
    let runs = VERSIONS
        .into_iter()
        .flat_map(|version| cases.iter().map(move |case| (version, case.clone())));
    for (case, (version, (fault, code))) in runs.enumerate() {
        // An account per sandbox: a later sandbox may get an earlier one's port.
        let token = app.token(&format!("acme-{case}"), "admin");
        let sandbox = Sandbox::start(SandboxConfig::new(version)).await.unwrap();
        let connection = connect(&app, &token, &sandbox).await;
        let rule = FaultRule::new(fault.clone())
            .matching(CallMatcher::method("search_read"))
            .on_nth(4)
            .times(1000);
        sandbox.control().inject(rule);

        let run = sync(&app, &token, &connection).await;
        assert_eq!(run["status"], "FAILED", "{version} {fault:?}: {run}");
        assert_eq!(run["error"]["code"], code, "{version} {fault:?}: {run}");
        assert!(run["error"]["hint"].is_string());
        assert!(
            run["counts"]["imported"].as_u64().unwrap() > 0,
            "batches before the fault stay: {run}"
        );
        assert_no_partial_batch(&app).await;
    }
}

#[tokio::test]
async fn an_order_committed_late_is_picked_up_by_the_look_back() {
    let app = TestApp::spawn().await;
    for version in VERSIONS {
        let token = app.token(&format!("acme-{version}"), "admin");
        let sandbox = Sandbox::start(SandboxConfig::new(version)).await.unwrap();
        late_commit_is_picked_up(&app, &token, &sandbox).await;
    }
}

async fn late_commit_is_picked_up(app: &TestApp, token: &str, sandbox: &Sandbox) {
    let connection = connect(app, token, sandbox).await;
    sync(app, token, &connection).await;
    let control = sandbox.control();
    let line = control.order(control.order_ids()[0]).unwrap()["order_line"][0]
        .as_i64()
        .unwrap();
    let product = control.line(line).unwrap()["product_id"][0]
        .as_i64()
        .unwrap();
    let confirmed = || {
        NewOrder::quotation()
            .in_state("sale")
            .with_line(NewLine::product(product, 2.0, 3.0))
    };

    let mut late = control.begin();
    let late_id = late.create_order(confirmed());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    control.create_order(confirmed()).unwrap();
    let first = sync(app, token, &connection).await;
    assert_eq!(first["counts"]["imported"].as_u64(), Some(1), "{first}");

    late.commit().unwrap();
    let second = sync(app, token, &connection).await;
    assert_eq!(second["counts"]["imported"].as_u64(), Some(1), "{second}");
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM held_orders WHERE source_order_id = $1 AND connection_id = $2",
    )
    .bind(late_id)
    .bind(connection.as_str().unwrap())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(held, 1);
}

#[tokio::test]
async fn a_connection_deleted_and_created_again_continues_the_same_records() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let first = connect(&app, &token, &sandbox).await;
    let run = sync(&app, &token, &first).await;
    let imported = run["counts"]["imported"].as_u64().unwrap();
    app.graphql(
        &token,
        "mutation($id: ID!) { deleteConnection(id: $id) }",
        json!({ "id": first }),
    )
    .await;

    let second = connect(&app, &token, &sandbox).await;
    assert_ne!(first, second);
    let again = sync(&app, &token, &second).await;
    assert_eq!(again["counts"]["imported"].as_u64(), Some(0), "{again}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM held_orders").await as u64,
        imported
    );
    let moved = count(
        &app,
        &format!(
            "SELECT count(*) FROM held_orders WHERE connection_id = {}",
            sql_text(&second)
        ),
    )
    .await;
    assert_eq!(
        moved, 0,
        "unchanged orders keep the connection that last recorded them"
    );
}

fn sql_text(value: &Value) -> String {
    format!("'{}'", value.as_str().unwrap())
}
