//! Deleting a connection while it syncs: the run stops instead of syncing on for a connection
//! that no longer exists.

use std::time::{Duration, Instant};

use odoo_sandbox::{CallMatcher, Dataset, Fault, FaultRule, Sandbox, SandboxConfig};
use prepsync_tests::TestApp;
use serde_json::json;

use crate::sync_support::{connect_with, count};

const IMPORTED: &str = "SELECT count(*) FROM events WHERE event_type = 'OrderImported'";

#[tokio::test]
async fn deleting_a_connection_during_its_run_cancels_the_run_after_its_current_batch() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let config = SandboxConfig::new(18).with_dataset(Dataset::Generated {
        orders: 300,
        seed: 3,
    });
    let sandbox = Sandbox::start(config).await.unwrap();
    let id = connect_with(&app, &token, &sandbox, json!({ "batchSize": 10 })).await;
    sandbox.control().inject(
        FaultRule::new(Fault::latency(Duration::from_millis(300)))
            .matching(CallMatcher::method("search_read"))
            .times(100_000),
    );
    let started = app
        .graphql(
            &token,
            "mutation($id: ID!) { syncNow(connectionId: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(started["errors"].is_null(), "{started}");
    while count(&app, IMPORTED).await == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let deleted = app
        .graphql(
            &token,
            "mutation($id: ID!) { deleteConnection(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteConnection"], true, "{deleted}");
    let at_delete = count(&app, IMPORTED).await;
    let open = "SELECT count(*) FROM sync_runs WHERE status IN ('PENDING', 'RUNNING')";
    let start = Instant::now();
    while count(&app, open).await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the run of the deleted connection went on"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, code): (String, Option<String>) = sqlx::query_as(
        "SELECT status, state -> 'failure' ->> 'code' FROM sync_runs WHERE connection_id = $1",
    )
    .bind(id.as_str().unwrap())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("FAILED", Some("CANCELLED_BY_USER"))
    );
    let after = count(&app, IMPORTED).await;
    assert!(
        after <= at_delete + 30,
        "{at_delete} orders at the deletion, {after} after the run"
    );
}
