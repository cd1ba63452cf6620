//! The read models as a client sees them, and the same figures from the sandbox's own
//! records: Sales Records totals per status, and waiting for the projections.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use odoo_sandbox::Sandbox;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::database::TestDatabase;
use crate::Graphql;

/// Empties a projection and rebuilds it from the first event with three extra runners on
/// batches of `batch` events, aborted at arbitrary points (mid-transaction included) six
/// times over, after pauses growing from `pause_ms` by `pause_step_ms`. The service's own
/// runners go on beside them.
pub async fn rebuild_with_aborted_runners(
    pool: &sqlx::PgPool,
    name: &str,
    batch: i64,
    pause_ms: u64,
    pause_step_ms: u64,
) {
    let projection = projections::by_name(name).unwrap();
    projections::replay(pool, projection.as_ref())
        .await
        .unwrap();
    for round in 0..6u64 {
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let pool = pool.clone();
            let projection = projection.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    if projections::step(&pool, projection.as_ref(), batch)
                        .await
                        .unwrap()
                        == 0
                    {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(pause_ms + round * pause_step_ms)).await;
        for task in tasks {
            task.abort();
        }
    }
}

/// Orders, lines and total amount (to the cent) per Sales Record status, by status.
pub type Totals = Vec<(String, i64, i64, Decimal)>;

/// Waits until every projection has applied every event.
pub async fn caught_up(client: &impl Graphql, token: &str) {
    let start = Instant::now();
    let query = "{ projections { name position lagEvents } }";
    loop {
        let answer = client.graphql(token, query, json!({})).await;
        let list = answer["data"]["projections"].as_array().cloned();
        let list = list.unwrap_or_else(|| panic!("{answer}"));
        if list.iter().all(|p| p["lagEvents"] == 0) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the projections did not catch up within a minute: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the `sales_records` projection has applied every event up to `position` (a
/// global position), whatever was recorded since.
pub async fn sales_records_caught_up_to(db: &TestDatabase, position: i64) {
    let behind = "SELECT count(*) FROM events e
         WHERE e.global_position <= $1
           AND (e.transaction_id, e.global_position) > (
               SELECT coalesce(max(transaction_id), 0)::text::xid8, coalesce(max(position), 0)
                 FROM projection_checkpoints WHERE name = 'sales_records')";
    let start = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar(behind)
            .bind(position)
            .fetch_one(db.pool())
            .await
            .unwrap();
        if left == 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "sales_records is still {left} events short of {position}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Orders, lines and total amounts by status, as `salesRecords` answers them page by page
/// for the connection.
pub async fn api_totals(client: &impl Graphql, token: &str, connection: &Value) -> Totals {
    let query = "query($id: ID!, $after: String) {
        salesRecords(filter: { connectionId: $id }, first: 200, after: $after) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { node { status amountTotal lines { odooLineId } } } } }";
    let mut by_status: BTreeMap<String, (i64, i64, Decimal)> = BTreeMap::new();
    let mut after = Value::Null;
    let mut seen = 0;
    loop {
        let variables = json!({ "id": connection, "after": after });
        let answer = client.graphql(token, query, variables).await;
        let page = &answer["data"]["salesRecords"];
        assert!(page.is_object(), "{answer}");
        for edge in page["edges"].as_array().unwrap() {
            let node = &edge["node"];
            let entry = by_status
                .entry(node["status"].as_str().unwrap().to_owned())
                .or_default();
            entry.0 += 1;
            entry.1 += node["lines"].as_array().unwrap().len() as i64;
            entry.2 += decimal(&node["amountTotal"]);
            seen += 1;
        }
        if page["pageInfo"]["hasNextPage"] != true {
            assert_eq!(page["totalCount"].as_i64(), Some(seen), "{answer}");
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    rounded(by_status)
}

/// The same totals from the sandbox's own records of these orders (its ids).
pub fn sandbox_totals(sandbox: &Sandbox, orders: &[i64]) -> Totals {
    let control = sandbox.control();
    let mut by_status: BTreeMap<String, (i64, i64, Decimal)> = BTreeMap::new();
    for id in orders {
        let order = control.order(*id).unwrap();
        let entry = by_status
            .entry(sandbox_status(&order).to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += order["order_line"].as_array().map_or(0, Vec::len) as i64;
        entry.2 += Decimal::try_from(order["amount_total"].as_f64().unwrap()).unwrap();
    }
    rounded(by_status)
}

/// The Sales Record status of a sandbox order.
pub fn sandbox_status(order: &Value) -> &'static str {
    let locked = order["locked"].as_bool().unwrap_or(false);
    match order["state"].as_str().unwrap() {
        "sale" if locked => "DONE",
        "sale" => "CONFIRMED",
        "done" => "DONE",
        "cancel" => "CANCELLED",
        _ => "QUOTATION",
    }
}

/// A GraphQL `Decimal`, sent as a string or a number.
pub fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .map(|s| s.parse::<Decimal>().unwrap())
        .unwrap_or_else(|| value.to_string().parse().unwrap())
}

fn rounded(by_status: BTreeMap<String, (i64, i64, Decimal)>) -> Totals {
    by_status
        .into_iter()
        .map(|(status, (orders, lines, amount))| (status, orders, lines, amount.round_dp(2)))
        .collect()
}
