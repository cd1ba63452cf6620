//! Sync Now against the Odoo sandbox over real HTTP: the first sync imports exactly the
//! orders of the scope, once each, even when hundreds share one printed `write_date`; a second
//! sync of unchanged data records no order event.

use std::path::PathBuf;
use std::time::Duration;

use odoo_sandbox::{
    CallMatcher, Dataset, Fault, FaultRule, LineChanges, OrderChanges, Sandbox, SandboxConfig,
    UserKind,
};
use prepsync_tests::TestApp;
use serde_json::{json, Value};

use crate::connections::create;
use crate::sync_support::{connect, count, sync, wait};

fn shared_datasets() -> PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../../shared/odoo/datasets"),
        manifest.join("../shared/odoo/datasets"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
    .expect("shared/odoo/datasets beside the repository")
}

async fn matching_orders(app: &TestApp, token: &str, connection: &Value) -> u64 {
    let tested = app
        .graphql(
            token,
            "mutation($id: ID!) { testConnection(id: $id) { ok matchingOrders } }",
            json!({ "id": connection }),
        )
        .await;
    tested["data"]["testConnection"]["matchingOrders"]
        .as_u64()
        .expect("a count")
}

#[tokio::test]
async fn a_first_sync_imports_each_order_of_the_scope_once_even_when_hundreds_share_a_second() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let config = SandboxConfig::new(18).with_dataset(Dataset::Recorded {
        dir: shared_datasets(),
    });
    let sandbox = Sandbox::start(config).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    let expected = matching_orders(&app, &token, &connection).await;
    assert!(
        expected > 2000,
        "the recorded data set has 2290 confirmed orders, got {expected}"
    );

    let run = sync(&app, &token, &connection).await;
    assert_eq!(run["status"], "RESOLUTION_REQUIRED", "{run}");
    assert_eq!(run["counts"]["imported"].as_u64(), Some(expected), "{run}");
    let imported = count(
        &app,
        "SELECT count(DISTINCT aggregate_id) FROM events WHERE event_type = 'OrderImported'",
    )
    .await;
    let events = count(
        &app,
        "SELECT count(*) FROM events WHERE event_type = 'OrderImported'",
    )
    .await;
    assert_eq!((imported, events), (expected as i64, expected as i64));
    assert!(run["counts"]["unmappedLines"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_second_sync_of_unchanged_orders_records_no_order_event() {
    let app = TestApp::spawn().await;
    for version in [19, 16] {
        // An account per sandbox: a later sandbox may get an earlier one's port.
        let token = app.token(&format!("acme-{version}"), "admin");
        let sandbox = Sandbox::start(SandboxConfig::new(version)).await.unwrap();
        let connection = connect(&app, &token, &sandbox).await;
        let expected = matching_orders(&app, &token, &connection).await;

        let first = sync(&app, &token, &connection).await;
        assert_eq!(
            first["counts"]["imported"].as_u64(),
            Some(expected),
            "{version}: {first}"
        );
        let before = count(
            &app,
            "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order'",
        )
        .await;

        let second = sync(&app, &token, &connection).await;
        assert_eq!(second["status"], first["status"], "{version}: {second}");
        let counts = &second["counts"];
        assert_eq!(
            (counts["imported"].as_u64(), counts["updated"].as_u64()),
            (Some(0), Some(0)),
            "{second}"
        );
        let after = count(
            &app,
            "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order'",
        )
        .await;
        assert_eq!(before, after, "{version}");
    }
}

#[tokio::test]
async fn re_reading_orders_inside_the_look_back_window_costs_calls_not_events() {
    let lookback = 3 * 366 * 24 * 3600;
    let app = TestApp::spawn_with(|config| config.odoo.sync_lookback_seconds = lookback).await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    sync(&app, &token, &connection).await;
    let before = count(
        &app,
        "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order'",
    )
    .await;

    let again = sync(&app, &token, &connection).await;
    let counts = &again["counts"];
    assert!(
        counts["fetched"].as_u64().unwrap() > 0,
        "the window was re-read: {again}"
    );
    assert_eq!(counts["imported"].as_u64(), Some(0));
    assert_eq!(counts["updated"].as_u64(), Some(0));
    let after = count(
        &app,
        "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order'",
    )
    .await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_users_filter_and_date_range_bound_what_is_imported() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    let all = matching_orders(&app, &token, &connection).await;
    let update = "mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { id } }";
    let narrowed = json!({ "domainFilter": "[('state', '=', 'sale'), ('locked', '=', False)]", "orderDateFrom": "2024-07-01" });
    let changed = app
        .graphql(
            &token,
            update,
            json!({ "id": connection, "input": narrowed }),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    let expected = matching_orders(&app, &token, &connection).await;
    assert!(expected > 0 && expected < all, "{expected} of {all}");

    let run = sync(&app, &token, &connection).await;
    assert_eq!(run["counts"]["imported"].as_u64(), Some(expected), "{run}");
    let held = count(&app, "SELECT count(*) FROM held_orders WHERE in_scope").await;
    assert_eq!(held, expected as i64);
}

/// In-scope orders held after a sync, by their id in the source.
async fn held_in_scope(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT source_order_id FROM held_orders WHERE in_scope ORDER BY source_order_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn events_of(app: &TestApp, source_order_id: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT e.event_type FROM events e JOIN held_orders h ON h.aggregate_id = e.aggregate_id
          WHERE h.source_order_id = $1 ORDER BY e.sequence",
    )
    .bind(source_order_id)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn changes_cancellations_and_line_only_edits_each_record_exactly_their_event() {
    let app = TestApp::spawn().await;
    for version in [16, 17, 18, 19] {
        // An account per sandbox: a later sandbox may get an earlier one's port.
        let token = app.token(&format!("acme-{version}"), "admin");
        let sandbox = Sandbox::start(SandboxConfig::new(version)).await.unwrap();
        let connection = connect(&app, &token, &sandbox).await;
        sync(&app, &token, &connection).await;
        let held = held_in_scope(&app).await;
        let (changed, cancelled, edited) = (held[0], held[1], held[2]);
        let control = sandbox.control();
        let line_of = |order: i64| {
            control.order(order).unwrap()["order_line"][0]
                .as_i64()
                .unwrap()
        };

        control
            .update_line(
                line_of(changed),
                LineChanges {
                    quantity: Some(97.0),
                    ..Default::default()
                },
            )
            .unwrap();
        control.cancel_order(cancelled).unwrap();
        control
            .update_line(
                line_of(edited),
                LineChanges {
                    name: Some("Only the text changed".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        let run = sync(&app, &token, &connection).await;

        let counts = &run["counts"];
        assert_eq!(
            (counts["updated"].as_u64(), counts["cancelled"].as_u64()),
            (Some(2), Some(1)),
            "{version}: {run}"
        );
        assert_eq!(counts["imported"].as_u64(), Some(0), "{version}: {run}");
        assert_eq!(
            events_of(&app, changed).await,
            ["OrderImported", "OrderUpdated"],
            "{version}"
        );
        assert_eq!(
            events_of(&app, cancelled).await,
            ["OrderImported", "OrderCancelled"],
            "{version}"
        );
        assert_eq!(
            events_of(&app, edited).await,
            ["OrderImported", "OrderUpdated"],
            "{version}"
        );
        sqlx::query("TRUNCATE held_orders")
            .execute(app.db.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn float_noise_in_a_quantity_read_again_records_no_change() {
    let app = TestApp::spawn().await;
    for version in [18, 19] {
        let token = app.token(&format!("acme-{version}"), "admin");
        let sandbox = Sandbox::start(SandboxConfig::new(version)).await.unwrap();
        let connection = connect(&app, &token, &sandbox).await;
        sync(&app, &token, &connection).await;
        let noisy = held_in_scope(&app).await[0];
        let control = sandbox.control();
        let line = control.order(noisy).unwrap()["order_line"][0]
            .as_i64()
            .unwrap();
        let quantity = control.line(line).unwrap()["product_uom_qty"]
            .as_f64()
            .unwrap();
        // The next float above it, as Odoo's arithmetic leaves it: 3.0000000000000004 for 3.
        let noise = f64::from_bits(quantity.to_bits() + 1);
        assert_ne!(noise, quantity);

        control
            .update_line(
                line,
                LineChanges {
                    quantity: Some(noise),
                    ..Default::default()
                },
            )
            .unwrap();
        let run = sync(&app, &token, &connection).await;

        assert!(run["counts"]["fetched"].as_u64().unwrap() >= 1, "{run}");
        assert_eq!(
            run["counts"]["updated"].as_u64(),
            Some(0),
            "{version}: {run}"
        );
        assert_eq!(events_of(&app, noisy).await, ["OrderImported"], "{version}");
        sqlx::query("TRUNCATE held_orders")
            .execute(app.db.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn deletions_are_found_by_the_deletion_check_and_redated_orders_leave_the_scope() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    let update = "mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { id } }";
    let dated = app
        .graphql(
            &token,
            update,
            json!({ "id": connection, "input": { "orderDateFrom": "2020-01-01" } }),
        )
        .await;
    assert!(dated["errors"].is_null(), "{dated}");
    sync(&app, &token, &connection).await;
    let held = held_in_scope(&app).await;
    let (deleted, redated) = (held[0], held[1]);

    let control = sandbox.control();
    control.delete_order(deleted).unwrap();
    let long_ago = chrono::NaiveDate::from_ymd_opt(2019, 6, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    control
        .update_order(
            redated,
            OrderChanges {
                date_order: Some(long_ago),
                ..Default::default()
            },
        )
        .unwrap();

    let run = sync(&app, &token, &connection).await;
    assert_eq!(
        run["counts"]["removed"].as_u64(),
        Some(0),
        "not due yet, and a missing row is no deletion: {run}"
    );
    assert_eq!(run["counts"]["outOfScope"].as_u64(), Some(1), "{run}");
    assert_eq!(
        events_of(&app, redated).await,
        ["OrderImported", "OrderLeftScope"]
    );

    let full = "mutation($id: ID!) { fullResync(connectionId: $id) { id trigger } }";
    let started = app.graphql(&token, full, json!({ "id": connection })).await;
    assert_eq!(
        started["data"]["fullResync"]["trigger"], "FULL_RESYNC",
        "{started}"
    );
    let run = wait(&app, &token, &started["data"]["fullResync"]["id"]).await;
    assert_eq!(run["counts"]["removed"].as_u64(), Some(1), "{run}");
    assert_eq!(run["counts"]["imported"].as_u64(), Some(0), "{run}");
    assert_eq!(
        events_of(&app, deleted).await,
        ["OrderImported", "OrderRemovedFromSource"]
    );
}

#[tokio::test]
async fn a_running_sync_can_be_cancelled_and_keeps_what_it_committed() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    let slow = FaultRule::new(Fault::latency(Duration::from_millis(300)))
        .matching(CallMatcher::method("search_read"))
        .times(10_000);
    sandbox.control().inject(slow);
    let update = "mutation($id: ID!) { updateConnection(id: $id, input: { batchSize: 5 }) { id } }";
    app.graphql(&token, update, json!({ "id": connection }))
        .await;

    let started = app
        .graphql(
            &token,
            "mutation($id: ID!) { syncNow(connectionId: $id) { id } }",
            json!({ "id": connection }),
        )
        .await;
    let run_id = started["data"]["syncNow"]["id"].clone();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cancel = "mutation($id: ID!) { cancelSyncRun(id: $id) { id status } }";
    let cancelled = app.graphql(&token, cancel, json!({ "id": run_id })).await;
    assert!(cancelled["errors"].is_null(), "{cancelled}");

    let run = wait(&app, &token, &run_id).await;
    assert_eq!(run["status"], "FAILED", "{run}");
    assert_eq!(run["error"]["code"], "CANCELLED_BY_USER", "{run}");
    let imported = run["counts"]["imported"].as_u64().unwrap();
    let held = count(&app, "SELECT count(*) FROM held_orders").await;
    assert_eq!(held as u64, imported, "what was committed stays");

    let again = app.graphql(&token, cancel, json!({ "id": run_id })).await;
    assert_eq!(
        crate::connections::error_code(&again),
        Some("CONFLICT"),
        "{again}"
    );
}

#[tokio::test]
async fn a_sync_that_cannot_authenticate_fails_with_the_guides_code() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let user = sandbox.user(UserKind::SalesAll);
    let input = json!({
        "name": "Wrong key", "url": sandbox.url(), "database": sandbox.database(),
        "username": user.login, "apiKey": "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
    });
    let connection = create(&app, &token, input).await["data"]["createConnection"]["id"].clone();
    let run = sync(&app, &token, &connection).await;
    assert_eq!(run["status"], "FAILED");
    assert_eq!(run["error"]["code"], "ODOO_AUTHENTICATION_FAILED", "{run}");
    assert!(run["error"]["hint"].is_string());
}

#[tokio::test]
async fn another_account_cannot_see_or_start_a_run() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    let run = sync(&app, &token, &connection).await;

    let other = app.token("globex", "admin");
    let read = app
        .graphql(
            &other,
            "query($id: ID!) { syncRun(id: $id) { id } }",
            json!({ "id": run["id"] }),
        )
        .await;
    assert_eq!(crate::connections::error_code(&read), Some("NOT_FOUND"));
    let start = app
        .graphql(
            &other,
            "mutation($id: ID!) { syncNow(connectionId: $id) { id } }",
            json!({ "id": connection }),
        )
        .await;
    assert_eq!(crate::connections::error_code(&start), Some("NOT_FOUND"));
}

#[tokio::test]
async fn runs_are_listed_newest_first_in_pages_with_their_total() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let connection = connect(&app, &token, &sandbox).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(sync(&app, &token, &connection).await["id"].clone());
    }
    let list = "query($id: ID!, $first: Int, $after: String, $status: SyncRunStatus) {
        syncRuns(connectionId: $id, first: $first, after: $after, status: $status) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { id status } } } }";

    let member = app.token("acme", "member");
    let first = app
        .graphql(&member, list, json!({ "id": connection, "first": 2 }))
        .await;
    let page = &first["data"]["syncRuns"];
    assert_eq!(page["totalCount"], 3, "{first}");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let newest: Vec<&Value> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["id"])
        .collect();
    assert_eq!(newest, [&ids[2], &ids[1]]);

    let after = page["pageInfo"]["endCursor"].clone();
    let second = app
        .graphql(
            &member,
            list,
            json!({ "id": connection, "first": 2, "after": after }),
        )
        .await;
    let rest = &second["data"]["syncRuns"];
    assert_eq!(rest["edges"][0]["node"]["id"], ids[0], "{second}");
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    let failed = app
        .graphql(
            &member,
            list,
            json!({ "id": connection, "status": "FAILED" }),
        )
        .await;
    assert_eq!(failed["data"]["syncRuns"]["totalCount"], 0, "{failed}");
    let too_many = app
        .graphql(&member, list, json!({ "id": connection, "first": 501 }))
        .await;
    assert_eq!(
        too_many["errors"][0]["extensions"]["field"], "first",
        "{too_many}"
    );
    let other = app
        .graphql(
            &app.token("globex", "admin"),
            list,
            json!({ "id": connection }),
        )
        .await;
    assert_eq!(
        crate::connections::error_code(&other),
        Some("NOT_FOUND"),
        "{other}"
    );
}
