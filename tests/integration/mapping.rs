//! Items and product mapping against the Odoo sandbox over HTTP: mapping the last unmapped
//! product completes a run, automatic mapping by SKU on upsert and on sync, manual override,
//! unmapping, re-created connections, bad input and concurrent mappings.

use odoo_sandbox::{Dataset, NewLine, NewOrder, Sandbox, SandboxConfig};
use prepsync_tests::TestApp;
use serde_json::{json, Value};

use crate::connections::error_code;
use crate::sync_support::{connect, count, sync, RUN_FIELDS};

/// Products of the sandbox catalog: 5 has internal reference `FURN_7777`, 6 has `FURN_8888`
/// and barcode `601647855631`, 10 has neither.
const CHAIR: i64 = 5;
const LAMP: i64 = 6;
const DESK: i64 = 10;

/// A sandbox with three confirmed orders: chair ×2 lines and lamp; lamp; desk.
async fn kitchen_sandbox() -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig::new(18).with_dataset(Dataset::Empty))
        .await
        .unwrap();
    let control = sandbox.control();
    let confirmed = || NewOrder::quotation().in_state("sale");
    let orders = [
        confirmed()
            .with_line(NewLine::product(CHAIR, 2.0, 70.0))
            .with_line(NewLine::display("line_note", "ring twice"))
            .with_line(NewLine::product(CHAIR, 1.0, 70.0))
            .with_line(NewLine::product(LAMP, 1.0, 40.0)),
        confirmed().with_line(NewLine::product(LAMP, 3.0, 40.0)),
        confirmed().with_line(NewLine::product(DESK, 1.0, 750.0)),
    ];
    for order in orders {
        control.create_order(order).unwrap();
    }
    sandbox
}

async fn upsert(app: &TestApp, token: &str, items: Value) -> Value {
    app.graphql(
        token,
        "mutation($items: [ItemInput!]!) { upsertItems(items: $items) { id name sku unit } }",
        json!({ "items": items }),
    )
    .await
}

fn item(id: &str, sku: Option<&str>) -> Value {
    json!({ "id": id, "name": format!("Item {id}"), "sku": sku, "unit": "piece" })
}

async fn map(
    app: &TestApp,
    token: &str,
    connection: &Value,
    product: i64,
    item: &str,
    factor: Option<&str>,
) -> Value {
    app.graphql(
        token,
        "mutation($c: ID!, $p: Int!, $i: ID!, $f: Decimal) {
            mapProduct(connectionId: $c, odooProductId: $p, itemId: $i, factor: $f) {
                odooProductId itemId factor origin } }",
        json!({ "c": connection, "p": product, "i": item, "f": factor }),
    )
    .await
}

async fn unmap(app: &TestApp, token: &str, connection: &Value, product: i64) -> Value {
    app.graphql(
        token,
        "mutation($c: ID!, $p: Int!) { unmapProduct(connectionId: $c, odooProductId: $p) }",
        json!({ "c": connection, "p": product }),
    )
    .await
}

async fn run(app: &TestApp, token: &str, id: &Value) -> Value {
    let query = format!("query($id: ID!) {{ syncRun(id: $id) {{ {RUN_FIELDS} }} }}");
    app.graphql(token, &query, json!({ "id": id })).await["data"]["syncRun"].clone()
}

/// The product's mapping as the table holds it: item, factor and origin.
async fn mapping_of(app: &TestApp, product: i64) -> Option<(String, String, String)> {
    sqlx::query_as(
        "SELECT item_id, factor::text, origin FROM product_mappings WHERE odoo_product_id = $1",
    )
    .bind(product)
    .fetch_optional(app.db.pool())
    .await
    .unwrap()
}

fn ok(response: &Value) -> &Value {
    assert!(response["errors"].is_null(), "{response}");
    &response["data"]
}

#[tokio::test]
async fn mapping_the_last_unmapped_product_completes_the_run_and_unmapping_needs_resolution_next_time(
) {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "member");
    let admin = app.token("acme", "admin");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;

    let first = sync(&app, &admin, &connection).await;
    assert_eq!(first["status"], "RESOLUTION_REQUIRED", "{first}");
    assert_eq!(first["counts"]["unmappedLines"], 5, "{first}");
    ok(&upsert(
        &app,
        &token,
        json!([item("chair", None), item("lamp", None), item("desk", None)]),
    )
    .await);

    ok(&map(&app, &token, &connection, CHAIR, "chair", None).await);
    ok(&map(&app, &token, &connection, LAMP, "lamp", Some("0.5")).await);
    assert_eq!(
        run(&app, &token, &first["id"]).await["status"],
        "RESOLUTION_REQUIRED"
    );
    let mapped = ok(&map(&app, &token, &connection, DESK, "desk", Some("12")).await).clone();
    assert_eq!(
        mapped["mapProduct"],
        json!({ "odooProductId": DESK, "itemId": "desk", "factor": "12", "origin": "MANUAL" })
    );
    let resolved = run(&app, &token, &first["id"]).await;
    assert_eq!(resolved["status"], "COMPLETED", "{resolved}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM events WHERE event_type = 'SyncResolved'"
        )
        .await,
        1
    );
    assert_eq!(mapping_of(&app, LAMP).await.unwrap().1, "0.5");

    ok(&unmap(&app, &token, &connection, LAMP).await);
    assert_eq!(run(&app, &token, &first["id"]).await["status"], "COMPLETED");
    let next = sync(&app, &admin, &connection).await;
    assert_eq!(next["status"], "RESOLUTION_REQUIRED", "{next}");
    assert_eq!(next["counts"]["unmappedLines"], 2, "{next}");
    assert_eq!(mapping_of(&app, LAMP).await, None);
}

#[tokio::test]
async fn a_run_with_every_product_mapped_completes_even_without_reading_them_again() {
    let app = TestApp::spawn_with(|config| config.odoo.sync_lookback_seconds = 0).await;
    let admin = app.token("acme", "admin");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;
    sync(&app, &admin, &connection).await;
    ok(&upsert(
        &app,
        &admin,
        json!([item("chair", None), item("lamp", None)]),
    )
    .await);
    ok(&map(&app, &admin, &connection, CHAIR, "chair", None).await);
    ok(&map(&app, &admin, &connection, LAMP, "lamp", None).await);

    let second = sync(&app, &admin, &connection).await;
    assert_eq!(second["status"], "RESOLUTION_REQUIRED", "{second}");
    assert_eq!(
        second["counts"]["unmappedLines"], 1,
        "only the desk: {second}"
    );
    ok(&upsert(&app, &admin, json!([item("desk", None)])).await);
    ok(&map(&app, &admin, &connection, DESK, "desk", None).await);
    let third = sync(&app, &admin, &connection).await;
    assert_eq!(third["status"], "COMPLETED", "{third}");
}

#[tokio::test]
async fn items_with_a_matching_sku_map_products_automatically_on_upsert_and_on_sync() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    ok(&upsert(&app, &admin, json!([item("chair", Some("FURN_7777"))])).await);
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;

    let first = sync(&app, &admin, &connection).await;
    assert_eq!(
        mapping_of(&app, CHAIR).await,
        Some(("chair".into(), "1".into(), "SKU".into()))
    );
    assert_eq!(
        first["counts"]["unmappedLines"], 3,
        "lamp ×2 and desk: {first}"
    );

    ok(&upsert(&app, &admin, json!([item("lamp", Some("601647855631"))])).await);
    assert_eq!(
        mapping_of(&app, LAMP).await,
        Some(("lamp".into(), "1".into(), "SKU".into()))
    );
    let recorded = count(
        &app,
        "SELECT count(*) FROM events WHERE event_type = 'ProductMapped' AND payload ->> 'origin' = 'SKU'",
    )
    .await;
    assert_eq!(recorded, 2);
    assert_eq!(
        run(&app, &admin, &first["id"]).await["status"],
        "RESOLUTION_REQUIRED"
    );
}

#[tokio::test]
async fn a_manual_mapping_overrides_sku_and_an_unmap_by_hand_is_not_undone_by_auto_mapping() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;
    sync(&app, &admin, &connection).await;
    ok(&upsert(
        &app,
        &admin,
        json!([item("chair", Some("FURN_7777")), item("seat", None)]),
    )
    .await);
    assert_eq!(mapping_of(&app, CHAIR).await.unwrap().2, "SKU");

    ok(&map(&app, &admin, &connection, CHAIR, "seat", Some("2")).await);
    assert_eq!(
        mapping_of(&app, CHAIR).await,
        Some(("seat".into(), "2".into(), "MANUAL".into()))
    );
    sync(&app, &admin, &connection).await;
    assert_eq!(mapping_of(&app, CHAIR).await.unwrap().0, "seat");

    ok(&unmap(&app, &admin, &connection, CHAIR).await);
    let mut renamed = item("chair", Some("FURN_7777"));
    renamed["name"] = json!("Chair, renamed");
    ok(&upsert(&app, &admin, json!([renamed])).await);
    let after = sync(&app, &admin, &connection).await;
    assert_eq!(mapping_of(&app, CHAIR).await, None);
    assert_eq!(after["status"], "RESOLUTION_REQUIRED");
    assert_eq!(
        error_code(&unmap(&app, &admin, &connection, CHAIR).await),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn a_re_created_connection_to_the_same_odoo_keeps_its_mappings() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;
    sync(&app, &admin, &connection).await;
    let items = json!([item("chair", None), item("lamp", None), item("desk", None)]);
    ok(&upsert(&app, &admin, items).await);
    for (product, id) in [(CHAIR, "chair"), (LAMP, "lamp"), (DESK, "desk")] {
        ok(&map(&app, &admin, &connection, product, id, None).await);
    }

    let deleted = app
        .graphql(
            &admin,
            "mutation($id: ID!) { deleteConnection(id: $id) }",
            json!({ "id": connection }),
        )
        .await;
    ok(&deleted);
    assert_eq!(
        error_code(&map(&app, &admin, &connection, CHAIR, "chair", None).await),
        Some("NOT_FOUND")
    );
    let again = connect(&app, &admin, &sandbox).await;
    let run = sync(&app, &admin, &again).await;
    assert_eq!(run["status"], "COMPLETED", "{run}");
    assert_eq!(mapping_of(&app, DESK).await.unwrap().0, "desk");
}

#[tokio::test]
async fn bad_input_is_refused_with_its_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let other = app.token("globex", "admin");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;
    ok(&upsert(&app, &other, json!([item("theirs", None)])).await);
    ok(&upsert(&app, &admin, json!([item("chair", Some("C-1"))])).await);

    let field = |r: &Value| {
        r["errors"][0]["extensions"]["field"]
            .as_str()
            .map(str::to_owned)
    };
    for (product, item_id, factor, code, expected) in [
        (CHAIR, "nothing", None, "NOT_FOUND", None),
        (CHAIR, "theirs", None, "NOT_FOUND", None),
        (CHAIR, "chair", Some("0"), "VALIDATION", Some("factor")),
        (CHAIR, "chair", Some("-2"), "VALIDATION", Some("factor")),
        (0, "chair", None, "VALIDATION", Some("odooProductId")),
    ] {
        let response = map(&app, &admin, &connection, product, item_id, factor).await;
        assert_eq!(error_code(&response), Some(code), "{response}");
        assert_eq!(field(&response), expected.map(str::to_owned), "{response}");
    }
    let theirs = app.graphql(&other, "mutation { createConnection(input: { name: \"n\", url: \"http://127.0.0.1:9\", database: \"d\", username: \"u\", apiKey: \"k\" }) { id } }", json!({})).await;
    let their_connection = ok(&theirs)["createConnection"]["id"].clone();
    let response = map(&app, &admin, &their_connection, CHAIR, "chair", None).await;
    assert_eq!(error_code(&response), Some("NOT_FOUND"), "{response}");

    let huge = "x".repeat(100_000);
    for bad in [
        json!([{ "id": "a", "name": huge, "unit": "kg" }]),
        json!([{ "id": "a", "name": "  ", "unit": "kg" }]),
        json!([{ "id": "a b", "name": "A", "unit": "kg" }]),
        json!([item("a", Some("S")), item("b", Some("S"))]),
        json!([]),
    ] {
        let response = upsert(&app, &admin, bad.clone()).await;
        assert_eq!(
            error_code(&response),
            Some("VALIDATION"),
            "{bad}: {response}"
        );
        assert!(field(&response).unwrap().starts_with("items"), "{response}");
    }
    let taken = upsert(&app, &admin, json!([item("stool", Some("C-1"))])).await;
    assert_eq!(error_code(&taken), Some("CONFLICT"), "{taken}");
    let many: Vec<Value> = (0..501).map(|i| item(&format!("i{i}"), None)).collect();
    assert_eq!(
        error_code(&upsert(&app, &admin, json!(many)).await),
        Some("VALIDATION")
    );

    assert_eq!(count(&app, "SELECT count(*) FROM items").await, 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM events WHERE aggregate_type IN ('item', 'product_mapping')"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn items_are_searched_and_paged_within_the_account() {
    let app = TestApp::spawn().await;
    let member = app.token("acme", "member");
    let items: Vec<Value> = (0..5)
        .map(|i| item(&format!("bun-{i}"), Some(&format!("B{i}"))))
        .collect();
    ok(&upsert(&app, &member, json!(items)).await);
    ok(&upsert(
        &app,
        &app.token("globex", "admin"),
        json!([item("bun-9", None)]),
    )
    .await);
    let unchanged = upsert(&app, &member, json!([item("bun-0", Some("B0"))])).await;
    ok(&unchanged);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM events WHERE aggregate_type = 'item'"
        )
        .await,
        6
    );

    let query = "query($s: String, $a: String) { items(search: $s, first: 2, after: $a) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id sku } } } }";
    let planner = app.token("acme", "planner");
    let first = ok(&app.graphql(&planner, query, json!({ "s": "BUN" })).await)["items"].clone();
    assert_eq!(first["totalCount"], 5);
    assert_eq!(
        first["edges"][1]["node"],
        json!({ "id": "bun-1", "sku": "B1" })
    );
    let cursor = first["pageInfo"]["endCursor"].clone();
    let second = ok(&app
        .graphql(&planner, query, json!({ "s": "bun", "a": cursor }))
        .await)["items"]
        .clone();
    assert_eq!(second["edges"][0]["node"]["id"], "bun-2");
    let sku = ok(&app.graphql(&planner, query, json!({ "s": "b3" })).await)["items"].clone();
    assert_eq!(sku["totalCount"], 1);
}

#[tokio::test]
async fn concurrent_mappings_of_one_product_leave_one_consistent_mapping() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;
    let items: Vec<Value> = (0..8).map(|i| item(&format!("item-{i}"), None)).collect();
    ok(&upsert(&app, &admin, json!(items)).await);

    let calls = (0..8).map(|i| {
        let (app, admin, connection) = (&app, &admin, &connection);
        async move {
            let factor = format!("{}", i + 1);
            map(
                app,
                admin,
                connection,
                LAMP,
                &format!("item-{i}"),
                Some(&factor),
            )
            .await
        }
    });
    for response in futures::future::join_all(calls).await {
        ok(&response);
    }

    let events: Vec<(i64, Value)> = sqlx::query_as(
        "SELECT sequence, payload FROM events WHERE aggregate_type = 'product_mapping' ORDER BY sequence",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.0).collect();
    assert_eq!(sequences, (1..=8).collect::<Vec<_>>());
    let last = &events.last().unwrap().1;
    let (item_id, factor, _) = mapping_of(&app, LAMP).await.unwrap();
    assert_eq!(
        (json!(item_id), json!(factor)),
        (last["item_id"].clone(), last["factor"].clone())
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM product_mappings").await,
        1
    );
}

#[tokio::test]
async fn unmapped_products_list_the_products_of_orders_in_scope_until_they_are_mapped() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let member = app.token("acme", "member");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;
    sync(&app, &admin, &connection).await;
    let query =
        "query($c: ID!, $a: String) { unmappedProducts(connectionId: $c, first: 2, after: $a) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { odooProductId name internalReference barcode lineCount orderCount } } } }";
    let list = |after: Value| app.graphql(&member, query, json!({ "c": connection, "a": after }));

    let first = ok(&list(Value::Null).await)["unmappedProducts"].clone();
    assert_eq!(first["totalCount"], 3);
    assert_eq!(
        first["edges"][1]["node"],
        json!({ "odooProductId": LAMP, "name": "Office Lamp", "internalReference": "FURN_8888",
                "barcode": "601647855631", "lineCount": 2, "orderCount": 2 })
    );
    assert_eq!(first["edges"][0]["node"]["odooProductId"], CHAIR);
    let rest = ok(&list(first["pageInfo"]["endCursor"].clone()).await)["unmappedProducts"].clone();
    assert_eq!(rest["edges"][0]["node"]["odooProductId"], DESK);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    ok(&upsert(&app, &member, json!([item("chair", None)])).await);
    ok(&map(&app, &member, &connection, CHAIR, "chair", None).await);
    let desk_order = *sandbox.control().order_ids().last().unwrap();
    sandbox.control().cancel_order(desk_order).unwrap();
    let second = sync(&app, &admin, &connection).await;
    assert_eq!(second["status"], "RESOLUTION_REQUIRED", "{second}");
    assert_eq!(
        second["counts"]["unmappedLines"], 2,
        "the lamp's lines: {second}"
    );
    let left = ok(&list(Value::Null).await)["unmappedProducts"].clone();
    let ids: Vec<&Value> = left["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["odooProductId"])
        .collect();
    assert_eq!(ids, [&json!(LAMP)], "{left}");

    let stranger = app.token("globex", "member");
    let theirs = app
        .graphql(&stranger, query, json!({ "c": connection }))
        .await;
    assert_eq!(error_code(&theirs), Some("NOT_FOUND"), "{theirs}");
}

#[tokio::test]
async fn the_migration_backfills_what_the_sync_keeps_for_orders_held_before_it() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let sandbox = kitchen_sandbox().await;
    let connection = connect(&app, &admin, &sandbox).await;
    sync(&app, &admin, &connection).await;
    let desk_order = *sandbox.control().order_ids().last().unwrap();
    sandbox.control().cancel_order(desk_order).unwrap();
    sync(&app, &admin, &connection).await;
    let snapshot = "SELECT string_agg(row::text, ';' ORDER BY row::text) FROM (
        SELECT source_order_id, odoo_product_id, line_count, NULL, NULL, NULL FROM held_order_products
        UNION ALL SELECT odoo_product_id, line_count, order_count, name, internal_reference, barcode
          FROM source_products WHERE line_count > 0) row";
    let kept: String = sqlx::query_scalar(snapshot)
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let migration = include_str!("../../migrations/20261204000008_mapping.sql");
    let backfill = format!("--{}", migration.split("-- Backfill:").nth(1).unwrap());
    sqlx::query("TRUNCATE held_order_products, source_products")
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::raw_sql(&backfill)
        .execute(app.db.pool())
        .await
        .unwrap();
    let filled: String = sqlx::query_scalar(snapshot)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(filled, kept);
    assert!(
        kept.contains("Office Lamp") && !kept.contains("Customizable Desk"),
        "{kept}"
    );
}
