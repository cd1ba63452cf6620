//! Read models fed by the projection runtime from real sandbox syncs: Sales Records totals
//! against the sandbox's own, a rebuild from zero against the incremental result, and runner
//! tasks aborted mid-batch.

use odoo_sandbox::{LineChanges, Sandbox, SandboxConfig};
use prepsync_tests::read_models::{
    api_totals, caught_up, rebuild_with_aborted_runners, sandbox_totals,
};
use prepsync_tests::TestApp;
use serde_json::{json, Value};

use crate::sync_support::{connect, sync};

async fn imported_ids(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("SELECT source_order_id FROM sales_records ORDER BY 1")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

/// Every row of both tables, in a fixed order, as JSON.
async fn contents(app: &TestApp) -> (Vec<Value>, Vec<Value>) {
    let records = sqlx::query_scalar("SELECT to_jsonb(r) FROM sales_records r ORDER BY record_id")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    let lines = sqlx::query_scalar(
        "SELECT to_jsonb(l) FROM sales_record_lines l ORDER BY record_id, source_line_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    (records, lines)
}

#[tokio::test]
async fn sales_records_totals_equal_the_sandboxs_own_after_a_sync_and_after_a_resync_with_changes()
{
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(19)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    let run = sync(&app, &token, &connection).await;
    assert!(run["counts"]["imported"].as_u64().unwrap() > 0, "{run}");
    caught_up(&app, &token).await;

    let ids = imported_ids(&app).await;
    assert_eq!(
        ids.len() as u64,
        run["counts"]["imported"].as_u64().unwrap()
    );
    assert_eq!(
        api_totals(&app, &token, &connection).await,
        sandbox_totals(&sandbox, &ids)
    );

    // Changes in the source: one order cancelled, a line of another re-quantified.
    let control = sandbox.control();
    control.cancel_order(ids[0]).unwrap();
    let other = control.order(ids[1]).unwrap();
    let line = other["order_line"][0].as_i64().unwrap();
    control
        .update_line(
            line,
            LineChanges {
                quantity: Some(7.0),
                ..LineChanges::default()
            },
        )
        .unwrap();
    let run = sync(&app, &token, &connection).await;
    assert!(run["counts"]["cancelled"].as_u64().unwrap() >= 1, "{run}");
    caught_up(&app, &token).await;
    let totals = api_totals(&app, &token, &connection).await;
    assert!(totals.iter().any(|t| t.0 == "CANCELLED"), "{totals:?}");
    assert_eq!(totals, sandbox_totals(&sandbox, &imported_ids(&app).await));

    // Another account sees none of them.
    let other = app.token("other", "admin");
    let answer = app
        .graphql(&other, "{ salesRecords { totalCount } }", json!({}))
        .await;
    assert_eq!(answer["data"]["salesRecords"]["totalCount"], 0, "{answer}");
}

#[tokio::test]
async fn a_rebuild_from_zero_equals_the_incremental_result_even_with_runner_tasks_aborted_mid_batch(
) {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(19)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    sync(&app, &token, &connection).await;
    // A time zone change recomputes delivery days.
    let changed = app
        .graphql(
            &token,
            "mutation { updateAccountSettings(input: { timeZone: \"Pacific/Auckland\" }) { timeZone } }",
            json!({}),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    let control = sandbox.control();
    let first = control.order_ids()[0];
    control.cancel_order(first).unwrap();
    sync(&app, &token, &connection).await;
    caught_up(&app, &token).await;
    let incremental = contents(&app).await;
    assert!(!incremental.0.is_empty() && !incremental.1.is_empty());

    // Rebuild from zero while the service's own runner keeps running, with extra runners on
    // small batches that are aborted at arbitrary points, mid-transaction included.
    rebuild_with_aborted_runners(app.db.pool(), "sales_records", 7, 15, 7).await;
    caught_up(&app, &token).await;
    assert_eq!(contents(&app).await, incremental);

    let days: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sales_records
          WHERE delivery_day IS DISTINCT FROM (delivery_date AT TIME ZONE 'Pacific/Auckland')::date",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(days, 0);
}
