//! Read models fed by the projection runtime from real sandbox syncs: Sales Records totals
//! against the sandbox's own, a rebuild from zero against the incremental result, and runner
//! tasks aborted mid-batch.

use std::time::Duration;

use odoo_sandbox::{LineChanges, Sandbox, SandboxConfig};
use prepsync_tests::TestApp;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::sync_support::{connect, sync};

/// Waits until every projection has applied every event.
pub(crate) async fn caught_up(app: &TestApp, token: &str) {
    for _ in 0..600 {
        let answer = app
            .graphql(
                token,
                "{ projections { name position lagEvents } }",
                json!({}),
            )
            .await;
        let list = answer["data"]["projections"].as_array().cloned();
        let list = list.unwrap_or_else(|| panic!("{answer}"));
        if list.iter().all(|p| p["lagEvents"] == 0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the projections did not catch up within a minute");
}

/// Orders, lines and total amounts by status, as `salesRecords` answers them page by page.
async fn api_totals(
    app: &TestApp,
    token: &str,
    connection: &Value,
) -> Vec<(String, i64, i64, Decimal)> {
    let mut by_status: std::collections::BTreeMap<String, (i64, i64, Decimal)> = Default::default();
    let mut after = Value::Null;
    let mut seen = 0;
    loop {
        let answer = app
            .graphql(
                token,
                "query($id: ID!, $after: String) {
                   salesRecords(filter: { connectionId: $id }, first: 200, after: $after) {
                     totalCount pageInfo { hasNextPage endCursor }
                     edges { node { status amountTotal lines { odooLineId } } } } }",
                json!({ "id": connection, "after": after }),
            )
            .await;
        let page = &answer["data"]["salesRecords"];
        assert!(page.is_object(), "{answer}");
        for edge in page["edges"].as_array().unwrap() {
            let node = &edge["node"];
            let entry = by_status
                .entry(node["status"].as_str().unwrap().to_owned())
                .or_default();
            entry.0 += 1;
            entry.1 += node["lines"].as_array().unwrap().len() as i64;
            entry.2 += node["amountTotal"]
                .as_str()
                .map(|s| s.parse::<Decimal>().unwrap())
                .unwrap_or_else(|| node["amountTotal"].to_string().parse().unwrap());
            seen += 1;
        }
        if page["pageInfo"]["hasNextPage"] != true {
            assert_eq!(page["totalCount"].as_i64(), Some(seen), "{answer}");
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    by_status
        .into_iter()
        .map(|(status, (orders, lines, amount))| (status, orders, lines, amount.round_dp(2)))
        .collect()
}

/// The same totals from the sandbox's own records, for the orders of the scope (confirmed
/// or locked, or cancelled after an import).
fn sandbox_totals(sandbox: &Sandbox, imported: &[i64]) -> Vec<(String, i64, i64, Decimal)> {
    let control = sandbox.control();
    let mut by_status: std::collections::BTreeMap<String, (i64, i64, Decimal)> = Default::default();
    for id in imported {
        let order = control.order(*id).unwrap();
        let locked = order["locked"].as_bool().unwrap_or(false);
        let status = match order["state"].as_str().unwrap() {
            "sale" if locked => "DONE",
            "sale" => "CONFIRMED",
            "done" => "DONE",
            "cancel" => "CANCELLED",
            _ => "QUOTATION",
        };
        let entry = by_status.entry(status.to_owned()).or_default();
        entry.0 += 1;
        entry.1 += order["order_line"].as_array().map_or(0, Vec::len) as i64;
        entry.2 += Decimal::try_from(order["amount_total"].as_f64().unwrap()).unwrap();
    }
    by_status
        .into_iter()
        .map(|(status, (orders, lines, amount))| (status, orders, lines, amount.round_dp(2)))
        .collect()
}

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
    let projection = projections::by_name("sales_records").unwrap();
    projections::replay(app.db.pool(), projection.as_ref())
        .await
        .unwrap();
    for round in 0..6u64 {
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let pool = app.db.pool().clone();
            let projection = projection.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    if projections::step(&pool, projection.as_ref(), 7)
                        .await
                        .unwrap()
                        == 0
                    {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(15 + round * 7)).await;
        for task in tasks {
            task.abort();
        }
    }
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
