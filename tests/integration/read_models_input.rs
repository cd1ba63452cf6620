//! Hostile input to `salesRecords` and `salesRecord`: every refusal names its field and says
//! what to do, nothing fails as an internal error, and no other account's record shows.

use prepsync_tests::TestApp;
use serde_json::{json, Value};

/// Puts one Sales Record straight into the read model, as the projection would keep it.
async fn record(app: &TestApp, account: &str, order: i64, number: &str, customer: &str) -> String {
    let id = format!("{account}:{}:{order}", "0".repeat(32));
    sqlx::query(
        "INSERT INTO sales_records (record_id, account_id, source_digest, source_order_id,
             connection_id, last_sync_run_id, order_number, order_date, customer_id,
             customer_name, status, in_scope, source_state, locked, amount_total,
             event_position, updated_at)
         VALUES ($1, $2, $3, $4, 'c', 'r', $5, now(), 1, $6, 'CONFIRMED', true, 'sale', false,
                 10, $4, now())",
    )
    .bind(&id)
    .bind(account)
    .bind("0".repeat(32))
    .bind(order)
    .bind(number)
    .bind(customer)
    .execute(app.db.pool())
    .await
    .unwrap();
    id
}

/// `salesRecords` with these arguments; `$v` (a string) and `$id` may appear in them.
async fn list(app: &TestApp, token: &str, args: &str, variables: Value) -> Value {
    let mut declared = Vec::new();
    if args.contains("$v") {
        declared.push("$v: String");
    }
    if args.contains("$id") {
        declared.push("$id: ID");
    }
    let declared = if declared.is_empty() {
        String::new()
    } else {
        format!("({})", declared.join(", "))
    };
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({args})")
    };
    let query = format!(
        "query{declared} {{ salesRecords{args} {{ totalCount edges {{ node {{ orderNumber }} }} }} }}"
    );
    app.graphql(token, &query, variables).await
}

fn numbers(answer: &Value) -> Vec<String> {
    let edges = answer["data"]["salesRecords"]["edges"].as_array();
    let edges = edges.unwrap_or_else(|| panic!("{answer}"));
    edges
        .iter()
        .map(|e| e["node"]["orderNumber"].as_str().unwrap().to_owned())
        .collect()
}

/// The refusal's code and field, after checking the message says something.
fn refusal(answer: &Value) -> (String, String) {
    let error = &answer["errors"][0];
    assert!(
        error["message"].as_str().is_some_and(|m| m.len() > 3),
        "{answer}"
    );
    let code = error["extensions"]["code"].as_str().unwrap_or_default();
    let field = error["extensions"]["field"].as_str().unwrap_or_default();
    (code.to_owned(), field.to_owned())
}

fn not_found(field: &str) -> (String, String) {
    ("NOT_FOUND".to_owned(), field.to_owned())
}

fn validation(field: &str) -> (String, String) {
    ("VALIDATION".to_owned(), field.to_owned())
}

#[tokio::test]
async fn percent_and_underscore_in_search_match_only_themselves() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    record(&app, "acme", 1, "S100%", "Plain").await;
    record(&app, "acme", 2, "S1000", "Under_score").await;
    record(&app, "acme", 3, "S1001", "Underxscore").await;

    let percent = list(&app, &token, "filter: { search: $v }", json!({"v": "0%"})).await;
    assert_eq!(numbers(&percent), ["S100%"]);
    let underscore = list(&app, &token, "filter: { search: $v }", json!({"v": "r_s"})).await;
    assert_eq!(numbers(&underscore), ["S1000"]);
    let backslash = list(&app, &token, "filter: { search: $v }", json!({"v": "\\"})).await;
    assert_eq!(numbers(&backslash), Vec::<String>::new());
}

#[tokio::test]
async fn text_postgresql_cannot_store_is_refused_by_field_not_failed_as_internal() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    record(&app, "acme", 1, "S1", "Plain").await;

    let search = list(
        &app,
        &token,
        "filter: { search: $v }",
        json!({"v": "a\u{0}b"}),
    )
    .await;
    assert_eq!(refusal(&search), validation("filter.search"), "{search}");
    let connection = list(
        &app,
        &token,
        "filter: { connectionId: $id }",
        json!({"id": "x\u{0}"}),
    )
    .await;
    assert_eq!(
        refusal(&connection),
        not_found("filter.connectionId"),
        "{connection}"
    );
    let one = app
        .graphql(
            &token,
            "query($id: ID!) { salesRecord(id: $id) { id } }",
            json!({"id": "acme:\u{0}"}),
        )
        .await;
    assert_eq!(refusal(&one).0, "NOT_FOUND", "{one}");
}

#[tokio::test]
async fn a_search_longer_than_the_limit_is_refused_by_field() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");

    let long = "S".repeat(100_000);
    let answer = list(&app, &token, "filter: { search: $v }", json!({"v": long})).await;
    assert_eq!(refusal(&answer), validation("filter.search"), "{answer}");
}

#[tokio::test]
async fn page_sizes_and_cursors_outside_the_rules_are_refused_by_field() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    record(&app, "acme", 1, "S1", "Plain").await;

    for first in ["0", "-1", "501", "2147483647"] {
        let answer = list(&app, &token, &format!("first: {first}"), json!({})).await;
        assert_eq!(refusal(&answer), validation("first"), "{answer}");
    }
    let huge_offset = base64_url("o:9223372036854775807");
    for after in ["", "!!!", "bzo=", &base64_url("o:-1"), &base64_url("x:1")] {
        let answer = list(&app, &token, "after: $v", json!({"v": after})).await;
        assert_eq!(refusal(&answer), validation("after"), "{after}: {answer}");
    }
    let past_the_end = list(&app, &token, "after: $v", json!({"v": huge_offset})).await;
    assert_eq!(
        numbers(&past_the_end),
        Vec::<String>::new(),
        "{past_the_end}"
    );
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn inverted_date_ranges_are_refused_by_the_field_that_ends_them() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");

    let orders = list(
        &app,
        &token,
        "filter: { orderDateFrom: \"2026-02-01T00:00:00Z\", orderDateTo: \"2026-01-01T00:00:00Z\" }",
        json!({}),
    )
    .await;
    assert_eq!(
        refusal(&orders),
        validation("filter.orderDateTo"),
        "{orders}"
    );
    let delivery = list(
        &app,
        &token,
        "filter: { deliveryDateFrom: \"2026-02-01\", deliveryDateTo: \"2026-01-31\" }",
        json!({}),
    )
    .await;
    assert_eq!(
        refusal(&delivery),
        validation("filter.deliveryDateTo"),
        "{delivery}"
    );
    let same_day = list(
        &app,
        &token,
        "filter: { deliveryDateFrom: \"2026-02-01\", deliveryDateTo: \"2026-02-01\" }",
        json!({}),
    )
    .await;
    assert!(same_day["errors"].is_null(), "{same_day}");
}

#[tokio::test]
async fn another_accounts_records_and_connections_are_not_found() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let theirs = record(&app, "other", 1, "S1", "Theirs").await;
    let connection = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO connection_registry (connection_id, account_id, source_key)
         VALUES ($1, 'other', 'https://odoo.example|db')",
    )
    .bind(&connection)
    .execute(app.db.pool())
    .await
    .unwrap();

    let one = app
        .graphql(
            &token,
            "query($id: ID!) { salesRecord(id: $id) { id } }",
            json!({"id": theirs}),
        )
        .await;
    assert_eq!(refusal(&one).0, "NOT_FOUND", "{one}");
    let by_connection = list(
        &app,
        &token,
        "filter: { connectionId: $id }",
        json!({"id": connection}),
    )
    .await;
    assert_eq!(
        refusal(&by_connection),
        not_found("filter.connectionId"),
        "{by_connection}"
    );
    let unknown = list(
        &app,
        &token,
        "filter: { connectionId: $id }",
        json!({"id": uuid::Uuid::new_v4().to_string()}),
    )
    .await;
    assert_eq!(
        refusal(&unknown),
        not_found("filter.connectionId"),
        "{unknown}"
    );
    let all = list(&app, &token, "", json!({})).await;
    assert_eq!(all["data"]["salesRecords"]["totalCount"], 0, "{all}");
}
