//! The whole job at the process level: real `prepsync serve` processes on a fresh database,
//! the sandbox over HTTP. A connection is created, tested and scheduled through GraphQL;
//! scheduled runs bring the orders in and keep them current; items are made and products
//! mapped; Sales Records and planning demand then equal what the sandbox's own records say.
//! The same with two replicas on one database, and across a SIGTERM and a restart.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate, NaiveDateTime};
use odoo_sandbox::{LineChanges, NewLine, Sandbox};
use prepsync_tests::read_models::{
    api_totals, decimal, sales_records_caught_up_to, sandbox_totals,
};
use prepsync_tests::schedule::{
    assert_runs_well_behaved, count, finished_scheduled_runs, next_run_at, schedule_connection,
    stop_and_settle, wait_for_finished_runs, Run,
};
use prepsync_tests::{admin_token, generated_sandbox, Graphql, Replica, TestDatabase};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Orders the sandbox generates for these tests.
const ORDERS: usize = 40;

/// Demand per (delivery day, item): quantity in the item's unit and contributing orders.
type Demand = BTreeMap<(NaiveDate, String), (Decimal, i64)>;

/// The products a test mapped: Odoo product id to (item id, item units per product unit).
type Mapped = BTreeMap<i64, (String, Decimal)>;

/// The sandbox orders in the default scope now (confirmed ones, locked or not).
fn orders_in_scope(sandbox: &Sandbox) -> Vec<i64> {
    let control = sandbox.control();
    let ids = control.order_ids();
    ids.into_iter()
        .filter(|id| control.order(*id).is_some_and(|o| o["state"] == "sale"))
        .collect()
}

/// Makes items for the three most ordered unmapped products: the first whose internal
/// reference is known gets it as SKU (mapped automatically by `upsertItems`), the others are
/// mapped with `mapProduct`, one of them at 2 item units per product unit.
async fn map_products(client: &impl Graphql, token: &str, connection: &Value) -> Mapped {
    let list = "query($id: ID!) { unmappedProducts(connectionId: $id, first: 3) { totalCount \
                edges { node { odooProductId internalReference } } } }";
    let before = client
        .graphql(token, list, json!({ "id": connection }))
        .await;
    let before = &before["data"]["unmappedProducts"];
    let products: Vec<Value> = before["edges"].as_array().unwrap().clone();
    assert_eq!(products.len(), 3, "{before}");
    let by_sku = products
        .iter()
        .position(|p| p["node"]["internalReference"].is_string())
        .expect("a product with an internal reference");

    let mut mapped = Mapped::new();
    let mut items = Vec::new();
    for (index, product) in products.iter().enumerate() {
        let product_id = product["node"]["odooProductId"].as_i64().unwrap();
        let item = format!("item-{product_id}");
        let sku = if index == by_sku {
            product["node"]["internalReference"].clone()
        } else {
            Value::Null
        };
        items.push(
            json!({ "id": item, "name": format!("Item {product_id}"), "sku": sku,
            "unit": "piece" }),
        );
        let factor = if index == (by_sku + 1) % 3 { 2 } else { 1 };
        mapped.insert(product_id, (item, Decimal::from(factor)));
    }
    let upsert = "mutation($items: [ItemInput!]!) { upsertItems(items: $items) { id } }";
    let upserted = client
        .graphql(token, upsert, json!({ "items": items }))
        .await;
    assert!(upserted["errors"].is_null(), "{upserted}");

    let map = "mutation($c: ID!, $p: Int!, $i: ID!, $f: Decimal) { mapProduct(connectionId: $c, \
               odooProductId: $p, itemId: $i, factor: $f) { itemId origin } }";
    for (index, product) in products.iter().enumerate().filter(|(i, _)| *i != by_sku) {
        let product_id = product["node"]["odooProductId"].as_i64().unwrap();
        let (item, factor) = &mapped[&product_id];
        let variables = json!({ "c": connection, "p": product_id, "i": item,
            "f": factor.to_string() });
        let answer = client.graphql(token, map, variables).await;
        assert_eq!(
            answer["data"]["mapProduct"]["itemId"],
            item.as_str(),
            "{answer} ({index})"
        );
    }

    let after = client
        .graphql(token, list, json!({ "id": connection }))
        .await;
    let remaining = after["data"]["unmappedProducts"]["totalCount"].as_i64();
    assert_eq!(
        remaining,
        before["totalCount"].as_i64().map(|n| n - 3),
        "{after}"
    );
    mapped
}

/// The day part of an Odoo datetime (UTC, the time zone of an account nobody set up).
fn day_of(value: &Value) -> Option<NaiveDate> {
    let text = value.as_str()?;
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|at| at.date())
}

/// Planning demand from the sandbox's own records: the product lines of orders in scope with
/// a delivery day (commitment date, else expected date) in `from..=to`; mapped lines summed
/// per day and item in item units (a Dozens line holds 12 units), unmapped lines counted.
fn sandbox_demand(
    sandbox: &Sandbox,
    mapped: &Mapped,
    from: NaiveDate,
    to: NaiveDate,
) -> (Demand, i64) {
    let control = sandbox.control();
    let mut demand: BTreeMap<(NaiveDate, String), (Decimal, BTreeSet<i64>)> = BTreeMap::new();
    let mut unmapped = 0;
    for id in orders_in_scope(sandbox) {
        let order = control.order(id).unwrap();
        let day = day_of(&order["commitment_date"]).or_else(|| day_of(&order["expected_date"]));
        let Some(day) = day.filter(|day| (from..=to).contains(day)) else {
            continue;
        };
        for line in order["order_line"].as_array().unwrap() {
            let line = control.line(line.as_i64().unwrap()).unwrap();
            let Some(product) = line["product_id"][0].as_i64() else {
                continue;
            };
            let Some((item, factor)) = mapped.get(&product) else {
                unmapped += 1;
                continue;
            };
            let unit = if line["product_uom"][1] == "Dozens" {
                12
            } else {
                1
            };
            let quantity = Decimal::try_from(line["product_uom_qty"].as_f64().unwrap()).unwrap();
            let entry = demand.entry((day, item.clone())).or_default();
            entry.0 += quantity * Decimal::from(unit) * factor;
            entry.1.insert(id);
        }
    }
    let demand = demand
        .into_iter()
        .map(|(key, (quantity, orders))| (key, (quantity, orders.len() as i64)))
        .collect();
    (demand, unmapped)
}

/// The year of delivery days up to the latest in the sandbox's orders in scope.
fn demand_range(sandbox: &Sandbox) -> (NaiveDate, NaiveDate) {
    let control = sandbox.control();
    let last = orders_in_scope(sandbox)
        .into_iter()
        .filter_map(|id| {
            let order = control.order(id)?;
            day_of(&order["commitment_date"]).or_else(|| day_of(&order["expected_date"]))
        })
        .max()
        .expect("orders in scope");
    (last.checked_sub_days(Days::new(365)).unwrap(), last)
}

/// `planningDemand` over `from..=to`, optionally for some items: the buckets and the
/// unmapped and unconverted line counts.
async fn api_demand(
    client: &impl Graphql,
    token: &str,
    (from, to): (NaiveDate, NaiveDate),
    items: Option<Vec<&str>>,
) -> (Demand, i64, i64) {
    let query = "query($from: NaiveDate!, $to: NaiveDate!, $items: [ID!]) { \
        planningDemand(from: $from, to: $to, itemIds: $items) { unmappedLines unconvertedLines \
        buckets { itemId day quantity unit orderCount } } }";
    let variables = json!({ "from": from, "to": to, "items": items });
    let answer = client.graphql(token, query, variables).await;
    let demand = &answer["data"]["planningDemand"];
    assert!(demand.is_object(), "{answer}");
    let buckets = demand["buckets"].as_array().unwrap().iter().map(|bucket| {
        assert_eq!(bucket["unit"], "piece", "{bucket}");
        let day: NaiveDate = bucket["day"].as_str().unwrap().parse().unwrap();
        let key = (day, bucket["itemId"].as_str().unwrap().to_owned());
        (
            key,
            (
                decimal(&bucket["quantity"]),
                bucket["orderCount"].as_i64().unwrap(),
            ),
        )
    });
    (
        buckets.collect(),
        demand["unmappedLines"].as_i64().unwrap(),
        demand["unconvertedLines"].as_i64().unwrap(),
    )
}

/// Sales Records and planning demand, as `client` serves them, equal the sandbox's own
/// records; `scope` is the orders the connection imported (the scope at its first run).
async fn assert_read_models_match_the_sandbox(
    client: &impl Graphql,
    token: &str,
    connection: &Value,
    sandbox: &Sandbox,
    scope: &[i64],
    mapped: &Mapped,
) {
    let totals = api_totals(client, token, connection).await;
    assert_eq!(totals, sandbox_totals(sandbox, scope));

    let range = demand_range(sandbox);
    let (expected, unmapped) = sandbox_demand(sandbox, mapped, range.0, range.1);
    let (demand, unmapped_lines, unconverted) = api_demand(client, token, range, None).await;
    let items: BTreeSet<&String> = demand.keys().map(|(_, item)| item).collect();
    assert_eq!(
        items.len(),
        mapped.len(),
        "demand for every mapped item: {demand:?}"
    );
    assert_eq!(demand, expected);
    assert!(unmapped_lines > 0, "unmapped lines are reported");
    assert_eq!((unmapped_lines, unconverted), (unmapped, 0));

    let one = &mapped.values().next().unwrap().0;
    let (narrowed, ..) = api_demand(client, token, range, Some(vec![one])).await;
    let only_one: Demand = expected
        .into_iter()
        .filter(|((_, i), _)| i == one)
        .collect();
    assert!(!narrowed.is_empty());
    assert_eq!(narrowed, only_one);
}

/// The greatest global position of the events recorded so far.
async fn last_position(db: &TestDatabase) -> i64 {
    count(db, "SELECT coalesce(max(global_position), 0) FROM events").await
}

/// Waits for `runs` more scheduled runs to finish, then for the Sales Records to have
/// applied everything they recorded.
async fn wait_for_more_runs(db: &TestDatabase, connection: &Value, runs: usize) {
    let finished = finished_scheduled_runs(db, connection).await;
    wait_for_finished_runs(db, connection, finished + runs).await;
    sales_records_caught_up_to(db, last_position(db).await).await;
}

/// Cancels the first order in scope; in another, changes the quantity of a line of a mapped
/// product sold by the unit, and adds a line of the same product in Dozens.
fn change_the_source(sandbox: &Sandbox, mapped: &Mapped) {
    let control = sandbox.control();
    let scope = orders_in_scope(sandbox);
    control.cancel_order(scope[0]).unwrap();
    let line = scope[1..]
        .iter()
        .flat_map(|id| {
            control.order(*id).unwrap()["order_line"]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|line| control.line(line.as_i64().unwrap()).unwrap())
        .find(|line| {
            let product = line["product_id"][0].as_i64();
            line["product_uom"][1] == "Units" && product.is_some_and(|p| mapped.contains_key(&p))
        })
        .expect("a line of a mapped product sold by the unit, in scope");

    let changes = LineChanges {
        quantity: Some(line["product_uom_qty"].as_f64().unwrap() + 5.0),
        ..LineChanges::default()
    };
    control
        .update_line(line["id"].as_i64().unwrap(), changes)
        .unwrap();
    let dozens = NewLine {
        uom_id: Some(2),
        ..NewLine::product(line["product_id"][0].as_i64().unwrap(), 2.0, 120.0)
    };
    control
        .add_line(line["order_id"][0].as_i64().unwrap(), dozens)
        .unwrap();
}

/// Stops the schedule, checks the runs (each started once, none beside another, scheduled
/// ones at least an interval apart, none failed but up to `interrupted` closed by a stopping
/// replica) and that no order was held or recorded twice.
async fn assert_schedule_kept(
    db: &TestDatabase,
    client: &impl Graphql,
    token: &str,
    connection: &Value,
    (imported, interrupted): (i64, usize),
) {
    stop_and_settle(db, client, token, connection).await;
    let runs = assert_runs_well_behaved(db, connection).await;
    let failed: Vec<_> = runs.iter().filter(|run| run.status == "FAILED").collect();
    let closed = |run: &&Run| run.error_code.as_deref() == Some("INTERRUPTED");
    assert!(failed.iter().all(closed), "{runs:?}");
    assert!(failed.len() <= interrupted, "{runs:?}");
    let scheduled = runs.iter().all(|run| run.trigger == "SCHEDULED");
    assert!(scheduled, "{runs:?}");

    let held = count(db, "SELECT count(*) FROM held_orders").await;
    let records = count(db, "SELECT count(*) FROM sales_records").await;
    assert_eq!((held, records), (imported, imported));
}

/// Both replicas show the same `nextRunAt`: read from the first, the second and the first
/// again until the schedule did not move between the first two reads of the first.
async fn assert_both_show_the_same_next_run(
    first: &Replica,
    second: &Replica,
    token: &str,
    connection: &Value,
) {
    for _ in 0..20 {
        let before = next_run_at(first, token, connection).await;
        let other = next_run_at(second, token, connection).await;
        if next_run_at(first, token, connection).await == before {
            assert!(before.is_some());
            assert_eq!(other, before);
            return;
        }
    }
    panic!("the schedule moved between every pair of reads");
}

#[tokio::test]
async fn a_scheduled_connection_keeps_sales_records_and_planning_demand_equal_to_the_source() {
    let db = TestDatabase::create().await;
    let sandbox = generated_sandbox(ORDERS).await;
    let scope = orders_in_scope(&sandbox);
    let mut replica = Replica::new(crate::PREPSYNC, &db);
    replica.start();
    let token = admin_token(&db, "acme");

    let (connection, matching) = schedule_connection(&replica, &token, &sandbox, 10).await;
    assert_eq!(matching, scope.len() as i64);
    wait_for_more_runs(&db, &connection, 2).await;
    let mapped = map_products(&replica, &token, &connection).await;
    assert_read_models_match_the_sandbox(&replica, &token, &connection, &sandbox, &scope, &mapped)
        .await;

    change_the_source(&sandbox, &mapped);
    wait_for_more_runs(&db, &connection, 2).await;
    let totals = api_totals(&replica, &token, &connection).await;
    assert!(totals.iter().any(|t| t.0 == "CANCELLED"), "{totals:?}");
    assert_read_models_match_the_sandbox(&replica, &token, &connection, &sandbox, &scope, &mapped)
        .await;
    assert!(next_run_at(&replica, &token, &connection).await.is_some());
    let health = "query($id: ID!) { connection(id: $id) { health { state consecutiveFailures } } }";
    let health = replica
        .graphql(&token, health, json!({ "id": connection }))
        .await;
    let health = &health["data"]["connection"]["health"];
    assert_eq!(*health, json!({ "state": "OK", "consecutiveFailures": 0 }));
    assert_schedule_kept(&db, &replica, &token, &connection, (matching, 0)).await;
}

#[tokio::test]
async fn two_replicas_on_one_database_run_the_schedule_once_and_serve_the_same_read_models() {
    let db = TestDatabase::create().await;
    let sandbox = generated_sandbox(ORDERS).await;
    let scope = orders_in_scope(&sandbox);
    let mut first = Replica::new(crate::PREPSYNC, &db);
    let mut second = Replica::new(crate::PREPSYNC, &db);
    first.start();
    second.start();
    let token = admin_token(&db, "acme");

    let (connection, matching) = schedule_connection(&first, &token, &sandbox, 10).await;
    wait_for_more_runs(&db, &connection, 2).await;
    let mapped = map_products(&second, &token, &connection).await;
    change_the_source(&sandbox, &mapped);
    wait_for_more_runs(&db, &connection, 3).await;

    for replica in [&first, &second] {
        assert_read_models_match_the_sandbox(
            replica,
            &token,
            &connection,
            &sandbox,
            &scope,
            &mapped,
        )
        .await;
    }
    assert_both_show_the_same_next_run(&first, &second, &token, &connection).await;
    assert_schedule_kept(&db, &second, &token, &connection, (matching, 0)).await;
}

#[tokio::test]
async fn after_a_sigterm_and_a_restart_of_a_replica_the_schedule_goes_on_without_duplicates() {
    let db = TestDatabase::create().await;
    let sandbox = generated_sandbox(ORDERS).await;
    let scope = orders_in_scope(&sandbox);
    let mut first = Replica::new(crate::PREPSYNC, &db);
    let mut second = Replica::new(crate::PREPSYNC, &db);
    first.start();
    second.start();
    let token = admin_token(&db, "acme");
    let (connection, matching) = schedule_connection(&first, &token, &sandbox, 10).await;
    wait_for_more_runs(&db, &connection, 2).await;
    let mapped = map_products(&first, &token, &connection).await;

    assert_eq!(first.terminate(), Some(0), "a graceful stop");
    change_the_source(&sandbox, &mapped);
    wait_for_more_runs(&db, &connection, 2).await;
    first.start();
    assert_eq!(second.terminate(), Some(0), "a graceful stop");
    wait_for_more_runs(&db, &connection, 2).await;
    second.start();
    wait_for_more_runs(&db, &connection, 2).await;

    assert_read_models_match_the_sandbox(&first, &token, &connection, &sandbox, &scope, &mapped)
        .await;
    assert_schedule_kept(&db, &second, &token, &connection, (matching, 2)).await;
}
