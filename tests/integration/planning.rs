//! Production-planning demand from real sandbox syncs: lines converted by Odoo's unit data on
//! 18 (units within a category) and 19 (units relative to others), the mapping and its factor
//! applied without a new sync, orders that drop out, delivery days in the account's time zone,
//! unconvertible lines reported, input checks, accounts kept apart, and `planning_demand`
//! listed with the position of the `sales_records` projection it reads.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use odoo_sandbox::{Dataset, NewLine, NewOrder, OrderChanges, Sandbox, SandboxConfig};
use prepsync_tests::read_models::caught_up;
use prepsync_tests::TestApp;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::connections::{error_code, error_field};
use crate::sync_support::{connect, connect_with, count, sync, wait};

/// Products of the sandbox catalog: the chair and the lamp are sold by the unit, the design
/// service by the hour.
const CHAIR: i64 = 5;
const LAMP: i64 = 6;
const DESIGN: i64 = 12;

/// Units of the sandbox: the same ids on 18 and 19 except where noted.
const UNITS: i64 = 1;
const DOZENS: i64 = 2;
const HOURS: i64 = 4;
/// Days: 3 on 18 (category "Working Time", 1 Day = 8 Hours), 5 on 19 (8 × Hours).
const DAYS_18: i64 = 3;
const DAYS_19: i64 = 5;
/// Pack of 6 (19 only): 6 × Units.
const PACK_OF_6: i64 = 3;

const DEMAND: &str = "query($from: NaiveDate!, $to: NaiveDate!, $items: [ID!]) {
    planningDemand(from: $from, to: $to, itemIds: $items) {
        buckets { itemId day quantity unit orderCount } unmappedLines unconvertedLines } }";

fn at(day: &str, hour: u32) -> NaiveDateTime {
    day.parse::<NaiveDate>()
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
}

/// A confirmed order to be delivered at `delivery` (UTC).
fn confirmed(delivery: NaiveDateTime) -> NewOrder {
    let mut order = NewOrder::quotation().in_state("sale");
    order.commitment_date = Some(delivery);
    order
}

/// A product line in a unit other than, or equal to, the product's own.
fn line_in(product: i64, quantity: f64, unit: i64) -> NewLine {
    NewLine {
        uom_id: Some(unit),
        ..NewLine::product(product, quantity, 10.0)
    }
}

async fn sandbox(version: u8, orders: Vec<NewOrder>) -> (Sandbox, Vec<i64>) {
    let config = SandboxConfig::new(version).with_dataset(Dataset::Empty);
    let sandbox = Sandbox::start(config).await.unwrap();
    let control = sandbox.control();
    let ids = orders
        .into_iter()
        .map(|order| control.create_order(order).unwrap())
        .collect();
    (sandbox, ids)
}

/// Connects the account to the sandbox, syncs and waits for the projections.
async fn synced(app: &TestApp, admin: &str, sandbox: &Sandbox) -> Value {
    let connection = connect(app, admin, sandbox).await;
    sync(app, admin, &connection).await;
    caught_up(app, admin).await;
    connection
}

fn ok(response: &Value) -> &Value {
    assert!(response["errors"].is_null(), "{response}");
    &response["data"]
}

async fn upsert_item(app: &TestApp, token: &str, id: &str, unit: &str) {
    let item = json!({ "id": id, "name": format!("Item {id}"), "unit": unit });
    ok(&app
        .graphql(
            token,
            "mutation($items: [ItemInput!]!) { upsertItems(items: $items) { id } }",
            json!({ "items": [item] }),
        )
        .await);
}

async fn map(app: &TestApp, token: &str, connection: &Value, product: i64, item: &str, f: &str) {
    ok(&app
        .graphql(
            token,
            "mutation($c: ID!, $p: Int!, $i: ID!, $f: Decimal) {
                mapProduct(connectionId: $c, odooProductId: $p, itemId: $i, factor: $f) { itemId } }",
            json!({ "c": connection, "p": product, "i": item, "f": f }),
        )
        .await);
}

async fn demand_answer(app: &TestApp, token: &str, from: &str, to: &str, items: Value) -> Value {
    app.graphql(
        token,
        DEMAND,
        json!({ "from": from, "to": to, "items": items }),
    )
    .await
}

async fn demand(app: &TestApp, token: &str, from: &str, to: &str) -> Value {
    let answer = demand_answer(app, token, from, to, Value::Null).await;
    ok(&answer)["planningDemand"].clone()
}

fn decimal(value: &Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

/// A bucket as `(item, day, quantity, unit, orders)`.
type Bucket = (String, String, Decimal, String, i64);

/// The buckets of a `planningDemand` answer.
fn buckets(demand: &Value) -> Vec<Bucket> {
    demand["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["itemId"].as_str().unwrap().to_owned(),
                b["day"].as_str().unwrap().to_owned(),
                decimal(&b["quantity"]).normalize(),
                b["unit"].as_str().unwrap().to_owned(),
                b["orderCount"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn bucket(item: &str, day: &str, quantity: i64, unit: &str, orders: i64) -> Bucket {
    (
        item.into(),
        day.into(),
        Decimal::from(quantity),
        unit.into(),
        orders,
    )
}

#[tokio::test]
async fn a_line_of_one_dozen_counts_twelve_units_on_18_and_a_line_in_hours_of_a_chair_is_unconverted(
) {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let planner = app.token("acme", "planner");
    let order = confirmed(at("2026-12-10", 10))
        .with_line(line_in(CHAIR, 1.0, DOZENS))
        .with_line(line_in(CHAIR, 3.0, UNITS))
        .with_line(line_in(DESIGN, 2.0, DAYS_18))
        .with_line(line_in(CHAIR, 5.0, HOURS));
    let (sandbox, _) = sandbox(18, vec![order]).await;
    let connection = synced(&app, &admin, &sandbox).await;
    upsert_item(&app, &admin, "chair", "piece").await;
    upsert_item(&app, &admin, "design", "hour").await;
    map(&app, &admin, &connection, CHAIR, "chair", "1").await;
    map(&app, &admin, &connection, DESIGN, "design", "1").await;

    let demand = demand(&app, &planner, "2026-12-01", "2026-12-31").await;
    assert_eq!(
        buckets(&demand),
        [
            bucket("chair", "2026-12-10", 12 + 3, "piece", 1),
            bucket("design", "2026-12-10", 2 * 8, "hour", 1),
        ],
        "{demand}"
    );
    assert_eq!(demand["unconvertedLines"], 1, "hours of a chair: {demand}");
    assert_eq!(demand["unmappedLines"], 0, "{demand}");
    let reason: (String, String) = sqlx::query_as(
        "SELECT line_unit, product_unit FROM planning_demand_lines WHERE item_quantity IS NULL",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(reason, ("Hours".into(), "Units".into()));
}

#[tokio::test]
async fn a_line_of_one_pack_of_six_counts_six_units_on_19_and_a_line_of_another_tree_is_unconverted(
) {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let planner = app.token("acme", "planner");
    let order = confirmed(at("2026-12-10", 10))
        .with_line(line_in(CHAIR, 1.0, PACK_OF_6))
        .with_line(line_in(CHAIR, 2.0, DOZENS))
        .with_line(line_in(DESIGN, 1.0, DAYS_19))
        .with_line(line_in(CHAIR, 5.0, HOURS));
    let (sandbox, _) = sandbox(19, vec![order]).await;
    let connection = synced(&app, &admin, &sandbox).await;
    upsert_item(&app, &admin, "chair", "piece").await;
    upsert_item(&app, &admin, "design", "hour").await;
    map(&app, &admin, &connection, CHAIR, "chair", "1").await;
    map(&app, &admin, &connection, DESIGN, "design", "1").await;

    let demand = demand(&app, &planner, "2026-12-10", "2026-12-10").await;
    assert_eq!(
        buckets(&demand),
        [
            bucket("chair", "2026-12-10", 6 + 24, "piece", 1),
            bucket("design", "2026-12-10", 8, "hour", 1),
        ],
        "{demand}"
    );
    assert_eq!(demand["unconvertedLines"], 1, "hours of a chair: {demand}");
    let factors: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT unit_factor::text FROM planning_demand_lines ORDER BY source_line_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let recorded = [Some("6"), Some("12"), Some("8"), None].map(|f| f.map(String::from));
    assert_eq!(factors, recorded, "the factors the sync recorded");
}

#[tokio::test]
async fn mapping_moves_lines_from_unmapped_into_demand_without_a_new_sync_and_its_factor_multiplies(
) {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let planner = app.token("acme", "planner");
    let orders = vec![
        confirmed(at("2026-12-10", 9))
            .with_line(NewLine::product(CHAIR, 4.0, 70.0))
            .with_line(NewLine::product(LAMP, 2.0, 40.0)),
        confirmed(at("2026-12-11", 9)).with_line(NewLine::product(CHAIR, 1.0, 70.0)),
    ];
    let (sandbox, _) = sandbox(18, orders).await;
    let connection = synced(&app, &admin, &sandbox).await;
    let runs = count(&app, "SELECT count(*) FROM sync_runs").await;
    let range = ("2026-12-01", "2026-12-31");

    let before = demand(&app, &planner, range.0, range.1).await;
    assert_eq!(buckets(&before), [], "{before}");
    assert_eq!(before["unmappedLines"], 3, "{before}");

    upsert_item(&app, &admin, "chair", "piece").await;
    upsert_item(&app, &admin, "lamp", "box").await;
    map(&app, &admin, &connection, CHAIR, "chair", "1").await;
    let chairs = demand(&app, &planner, range.0, range.1).await;
    assert_eq!(
        buckets(&chairs),
        [
            bucket("chair", "2026-12-10", 4, "piece", 1),
            bucket("chair", "2026-12-11", 1, "piece", 1),
        ]
    );
    assert_eq!(chairs["unmappedLines"], 1, "the lamp: {chairs}");

    map(&app, &admin, &connection, LAMP, "lamp", "0.5").await;
    map(&app, &admin, &connection, CHAIR, "chair", "3").await;
    let all = demand(&app, &planner, range.0, range.1).await;
    assert_eq!(
        buckets(&all),
        [
            bucket("chair", "2026-12-10", 12, "piece", 1),
            bucket("lamp", "2026-12-10", 1, "box", 1),
            bucket("chair", "2026-12-11", 3, "piece", 1),
        ]
    );
    assert_eq!(all["unmappedLines"], 0, "{all}");
    let lamps = demand_answer(&app, &planner, range.0, range.1, json!(["lamp"])).await;
    assert_eq!(
        buckets(&ok(&lamps)["planningDemand"]),
        [bucket("lamp", "2026-12-10", 1, "box", 1)]
    );

    ok(&app
        .graphql(
            &admin,
            "mutation($c: ID!, $p: Int!) { unmapProduct(connectionId: $c, odooProductId: $p) }",
            json!({ "c": connection, "p": LAMP }),
        )
        .await);
    let unmapped = demand(&app, &planner, range.0, range.1).await;
    assert_eq!(buckets(&unmapped).len(), 2, "{unmapped}");
    assert_eq!(unmapped["unmappedLines"], 1, "{unmapped}");
    assert_eq!(count(&app, "SELECT count(*) FROM sync_runs").await, runs);
}

#[tokio::test]
async fn cancelled_removed_and_out_of_scope_orders_drop_out_of_demand() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let planner = app.token("acme", "planner");
    let delivery = at("2026-12-10", 9);
    let chairs = |n: f64| confirmed(delivery).with_line(NewLine::product(CHAIR, n, 70.0));
    let mut locked = chairs(2.0);
    locked.locked = true;
    let quotation = chairs(32.0).in_state("draft");
    let orders = vec![
        chairs(1.0),
        locked,
        chairs(4.0),
        chairs(8.0),
        chairs(16.0),
        quotation,
    ];
    let (sandbox, ids) = sandbox(18, orders).await;
    let dated = json!({ "orderDateFrom": "2020-01-01", "domainFilter": "[('state', 'in', ['sale', 'draft'])]" });
    let connection = connect_with(&app, &admin, &sandbox, dated).await;
    sync(&app, &admin, &connection).await;
    caught_up(&app, &admin).await;
    upsert_item(&app, &admin, "chair", "piece").await;
    map(&app, &admin, &connection, CHAIR, "chair", "1").await;
    let day = "2026-12-10";
    let first = demand(&app, &planner, day, day).await;
    assert_eq!(
        buckets(&first),
        [bucket("chair", day, 1 + 2 + 4 + 8 + 16, "piece", 5)],
        "confirmed and done count, the quotation in scope does not: {first}"
    );

    let control = sandbox.control();
    control.cancel_order(ids[2]).unwrap();
    control.delete_order(ids[3]).unwrap();
    let long_ago = at("2019-06-01", 12);
    let redated = OrderChanges {
        date_order: Some(long_ago),
        ..Default::default()
    };
    control.update_order(ids[4], redated).unwrap();
    let full = "mutation($id: ID!) { fullResync(connectionId: $id) { id } }";
    let started = app.graphql(&admin, full, json!({ "id": connection })).await;
    let run = wait(&app, &admin, &ok(&started)["fullResync"]["id"]).await;
    let counts = &run["counts"];
    assert_eq!(
        (
            &counts["cancelled"],
            &counts["removed"],
            &counts["outOfScope"]
        ),
        (&json!(1), &json!(1), &json!(1)),
        "{run}"
    );
    caught_up(&app, &admin).await;

    let after = demand(&app, &planner, day, day).await;
    assert_eq!(
        buckets(&after),
        [bucket("chair", day, 1 + 2, "piece", 2)],
        "{after}"
    );
    assert_eq!(after["unmappedLines"], 0, "{after}");
}

#[tokio::test]
async fn delivery_days_are_days_in_the_accounts_time_zone_and_follow_its_changes() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let planner = app.token("acme", "planner");
    let zone =
        "mutation($tz: String!) { updateAccountSettings(input: { timeZone: $tz }) { timeZone } }";
    ok(&app
        .graphql(&admin, zone, json!({ "tz": "Pacific/Auckland" }))
        .await);
    let committed = confirmed(at("2026-12-10", 20)).with_line(NewLine::product(CHAIR, 1.0, 70.0));
    let mut expected_only = NewOrder::quotation().in_state("sale");
    expected_only.date_order = Some(at("2026-12-10", 5));
    let expected_only = expected_only.with_line(NewLine::product(CHAIR, 2.0, 70.0));
    let (sandbox, _) = sandbox(18, vec![committed, expected_only]).await;
    let connection = synced(&app, &admin, &sandbox).await;
    upsert_item(&app, &admin, "chair", "piece").await;
    map(&app, &admin, &connection, CHAIR, "chair", "1").await;

    let auckland = demand(&app, &planner, "2026-12-01", "2026-12-31").await;
    assert_eq!(
        buckets(&auckland),
        [
            bucket("chair", "2026-12-10", 2, "piece", 1),
            bucket("chair", "2026-12-11", 1, "piece", 1),
        ],
        "20:00 UTC is the next morning in Auckland: {auckland}"
    );

    ok(&app
        .graphql(&admin, zone, json!({ "tz": "America/Los_Angeles" }))
        .await);
    caught_up(&app, &admin).await;
    let los_angeles = demand(&app, &planner, "2026-12-01", "2026-12-31").await;
    assert_eq!(
        buckets(&los_angeles),
        [
            bucket("chair", "2026-12-09", 2, "piece", 1),
            bucket("chair", "2026-12-10", 1, "piece", 1),
        ],
        "05:00 UTC is the evening before in Los Angeles: {los_angeles}"
    );
}

#[tokio::test]
async fn a_range_backwards_or_longer_than_366_days_or_too_many_items_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let planner = app.token("acme", "planner");
    let cases = [
        ("2026-12-10", "2026-12-09", Value::Null, "to"),
        ("2026-01-01", "2027-01-02", Value::Null, "to"),
        ("2026-01-01", "2026-01-31", json!(vec!["x"; 501]), "itemIds"),
    ];
    for (from, to, items, field) in cases {
        let answer = demand_answer(&app, &planner, from, to, items).await;
        assert_eq!(error_code(&answer), Some("VALIDATION"), "{answer}");
        assert_eq!(error_field(&answer), Some(field), "{answer}");
    }
    let leap_year = demand_answer(&app, &planner, "2024-01-01", "2024-12-31", Value::Null).await;
    assert_eq!(ok(&leap_year)["planningDemand"]["buckets"], json!([]));
    let bad_day = demand_answer(&app, &planner, "2026-02-30", "2026-03-01", Value::Null).await;
    assert_eq!(error_code(&bad_day), Some("VALIDATION"), "{bad_day}");
}

#[tokio::test]
async fn no_account_sees_another_accounts_demand_even_from_the_same_source() {
    let app = TestApp::spawn().await;
    let order = confirmed(at("2026-12-10", 9)).with_line(NewLine::product(CHAIR, 2.0, 70.0));
    let (sandbox, _) = sandbox(18, vec![order]).await;
    let acme = app.token("acme", "admin");
    let other = app.token("other", "admin");
    let acme_connection = synced(&app, &acme, &sandbox).await;
    let other_connection = synced(&app, &other, &sandbox).await;
    upsert_item(&app, &acme, "chair", "piece").await;
    map(&app, &acme, &acme_connection, CHAIR, "chair", "1").await;
    let day = "2026-12-10";

    let theirs = demand(&app, &app.token("other", "planner"), day, day).await;
    assert_eq!(buckets(&theirs), [], "{theirs}");
    assert_eq!(theirs["unmappedLines"], 1, "their own line only: {theirs}");

    upsert_item(&app, &other, "chair", "dozen").await;
    map(&app, &other, &other_connection, CHAIR, "chair", "0.5").await;
    let theirs = demand(&app, &app.token("other", "planner"), day, day).await;
    let ours = demand(&app, &app.token("acme", "planner"), day, day).await;
    assert_eq!(buckets(&theirs), [bucket("chair", day, 1, "dozen", 1)]);
    assert_eq!(buckets(&ours), [bucket("chair", day, 2, "piece", 1)]);
}

#[tokio::test]
async fn planning_demand_is_listed_with_the_position_and_lag_of_the_sales_records_it_reads() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let order = confirmed(at("2026-12-10", 9)).with_line(NewLine::product(CHAIR, 2.0, 70.0));
    let (sandbox, _) = sandbox(19, vec![order]).await;
    synced(&app, &admin, &sandbox).await;

    let answer = app
        .graphql(
            &admin,
            "{ projections { name position lagEvents lagSeconds viewOf } }",
            json!({}),
        )
        .await;
    let list = ok(&answer)["projections"].as_array().unwrap().clone();
    let named = |name: &str| list.iter().find(|p| p["name"] == name).cloned().unwrap();
    let (records, demand) = (named("sales_records"), named("planning_demand"));
    assert!(records["position"].as_i64().unwrap() > 0, "{answer}");
    assert_eq!(records["viewOf"], Value::Null);
    assert_eq!(demand["viewOf"], "sales_records");
    for field in ["position", "lagEvents", "lagSeconds"] {
        assert_eq!(demand[field], records[field], "{field}: {answer}");
    }
}

/// Runs `prepsync replay` without blocking the test's runtime, whose projection runners must
/// go on (and release the checkpoint lock the replay waits for).
async fn replay(app: &TestApp, name: &str) -> std::process::Output {
    tokio::process::Command::new(crate::PREPSYNC)
        .args(["replay", name, "--database-url", app.db.url()])
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn replaying_planning_demand_rebuilds_the_sales_records_it_reads_and_the_same_demand_returns()
{
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let order = confirmed(at("2026-12-10", 9))
        .with_line(line_in(CHAIR, 1.0, DOZENS))
        .with_line(NewLine::product(LAMP, 1.0, 40.0));
    let (sandbox, _) = sandbox(18, vec![order]).await;
    let connection = synced(&app, &admin, &sandbox).await;
    upsert_item(&app, &admin, "chair", "piece").await;
    map(&app, &admin, &connection, CHAIR, "chair", "1").await;
    let before = demand(&app, &admin, "2026-12-10", "2026-12-10").await;
    assert_eq!(buckets(&before).len(), 1, "{before}");

    let output = replay(&app, "planning_demand").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("planning_demand is a view over sales_records")
            && stdout.contains("sales_records reset"),
        "{stdout}"
    );
    caught_up(&app, &admin).await;
    assert_eq!(
        demand(&app, &admin, "2026-12-10", "2026-12-10").await,
        before
    );

    let unknown = replay(&app, "planning").await;
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success(), "{unknown:?}");
    let listed = ["known: ", "sales_records", "planning_demand"];
    assert!(listed.iter().all(|n| stderr.contains(n)), "{stderr}");
}

/// A view's columns with their types, in order.
async fn columns(app: &TestApp, view: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(view)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

fn typed(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned()))
        .collect()
}

/// The contract of docs/read-models.md: columns are only ever added at the end.
#[tokio::test]
async fn the_planning_views_keep_their_documented_columns_in_order() {
    let app = TestApp::spawn().await;
    let lines = [
        ("account_id", "text"),
        ("record_id", "text"),
        ("source_line_id", "bigint"),
        ("day", "date"),
        ("source_digest", "text"),
        ("product_id", "bigint"),
        ("item_id", "text"),
        ("unit", "text"),
        ("quantity", "numeric"),
        ("unit_factor", "numeric"),
        ("factor", "numeric"),
        ("item_quantity", "numeric"),
        ("order_number", "text"),
        ("line_unit", "text"),
        ("product_unit", "text"),
    ];
    let demand = [
        ("account_id", "text"),
        ("item_id", "text"),
        ("day", "date"),
        ("quantity", "numeric"),
        ("unit", "text"),
        ("order_count", "bigint"),
        ("line_count", "bigint"),
    ];
    assert_eq!(columns(&app, "planning_demand_lines").await, typed(&lines));
    assert_eq!(columns(&app, "planning_demand").await, typed(&demand));
}

/// Fills the read side of a fresh database with `orders` synthetic orders of 4 product lines
/// for account `acme` over 365 delivery days (12 products, 10 of them mapped; one line in 20
/// without a unit factor; one order in 10 cancelled, one in 13 out of scope).
async fn synthetic_orders(pool: &sqlx::PgPool, orders: i64) {
    let statements = [
        "INSERT INTO items (account_id, item_id, name, unit)
         SELECT 'acme', 'item' || p, 'Item ' || p, 'piece' FROM generate_series(1, 10) p",
        "INSERT INTO product_mappings (account_id, source_digest, odoo_product_id, item_id,
                                       factor, origin, mapped_at)
         SELECT 'acme', 'd', p, 'item' || p, 1, 'MANUAL', now() FROM generate_series(1, 10) p",
        "INSERT INTO sales_records (record_id, account_id, source_digest, source_order_id,
             connection_id, last_sync_run_id, order_number, status, in_scope, source_state,
             locked, commitment_date, delivery_day, amount_total, event_position, updated_at)
         SELECT 'acme:d:' || o, 'acme', 'd', o, 'c', 'r', 'S' || o,
                CASE WHEN o % 10 = 0 THEN 'CANCELLED' WHEN o % 7 = 0 THEN 'DONE'
                     ELSE 'CONFIRMED' END,
                o % 13 <> 0, 'sale', false, timestamptz '2026-01-01' + (o % 365) * interval '1 day',
                date '2026-01-01' + (o % 365)::int, 100, o, now()
           FROM generate_series(1, $1) o",
        "INSERT INTO sales_record_lines (record_id, source_line_id, account_id, source_digest,
             position, kind, product_id, description, quantity, unit_factor, unit_price,
             discount, subtotal)
         SELECT 'acme:d:' || o, o * 10 + k, 'acme', 'd', k, 'PRODUCT', 1 + (o * 7 + k) % 12,
                'line', 1 + k, CASE WHEN (o / 365 + k) % 20 = 0 THEN NULL ELSE 1 END, 1, 0, 1 + k
           FROM generate_series(1, $1) o, generate_series(0, 3) k",
        "ANALYZE",
    ];
    for sql in statements {
        let query = sqlx::query(sql);
        let query = if sql.contains("$1") {
            query.bind(orders)
        } else {
            query
        };
        query.execute(pool).await.unwrap();
    }
}

/// The median of five reads of the demand over `from` to `to`.
async fn median_read(
    pool: &sqlx::PgPool,
    from: &str,
    to: &str,
    items: Option<Vec<String>>,
) -> Duration {
    let query = projections::planning_demand::DemandQuery {
        account_id: "acme".into(),
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
        item_ids: items,
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let demand = projections::planning_demand::read(pool, &query)
            .await
            .unwrap();
        times.push(started.elapsed());
        let counted = !demand.buckets.is_empty() && demand.unconverted_lines > 0;
        assert!(counted, "{demand:?}");
    }
    times.sort();
    times[2]
}

/// Read times of `planningDemand`'s queries over 100,000 orders (400,000 lines); see
/// docs/read-models.md. Run with
/// `cargo test -p prepsync-tests --release --test integration planning_demand_read_times -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement: run it by name"]
async fn planning_demand_read_times_over_100000_orders() {
    let db = prepsync_tests::TestDatabase::create().await;
    let started = std::time::Instant::now();
    synthetic_orders(db.pool(), 100_000).await;
    println!("filling 100,000 orders: {:?}", started.elapsed());

    let cases = [
        ("one day", "2026-06-01", "2026-06-01", None),
        ("one week", "2026-06-01", "2026-06-07", None),
        ("31 days", "2026-06-01", "2026-07-01", None),
        ("366 days", "2026-01-01", "2027-01-01", None),
        (
            "31 days, 2 items",
            "2026-06-01",
            "2026-07-01",
            Some(vec!["item1".into(), "item2".into()]),
        ),
    ];
    for (name, from, to, items) in cases {
        println!(
            "{name}: {:?}",
            median_read(db.pool(), from, to, items).await
        );
    }
}
