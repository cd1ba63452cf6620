//! API keys exist in plaintext nowhere the service writes: not in a table, not in an event.

use prepsync_tests::TestApp;
use serde_json::json;
use sqlx::PgPool;

use crate::connections::{create, valid_input};

/// Every row of every table in the database that contains `needle`, as `table: row`.
pub async fn rows_containing(pool: &PgPool, needle: &str) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        tables.iter().any(|t| t == "events"),
        "the scan must cover the event table"
    );

    let mut found = Vec::new();
    for table in tables {
        let sql = format!("SELECT t::text FROM \"{table}\" AS t WHERE strpos(t::text, $1) > 0");
        let rows: Vec<String> = sqlx::query_scalar(&sql)
            .bind(needle)
            .fetch_all(pool)
            .await
            .unwrap();
        found.extend(rows.into_iter().map(|row| format!("{table}: {row}")));
    }
    found
}

#[tokio::test]
async fn no_table_and_no_event_holds_a_plaintext_api_key() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let mut input = valid_input();
    input["apiKey"] = json!("first-plaintext-key-4f1d");
    let created = create(&app, &token, input).await;
    let id = created["data"]["createConnection"]["id"].clone();
    let update = "mutation($id: ID!) { updateConnection(id: $id, input: { apiKey: \"second-plaintext-key-7c2e\" }) { id } }";
    app.graphql(&token, update, json!({ "id": id })).await;

    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(events, 2, "both the creation and the new key were recorded");
    assert!(
        !rows_containing(app.db.pool(), "acme.example.com")
            .await
            .is_empty(),
        "the scan finds what is there"
    );
    assert_eq!(
        rows_containing(app.db.pool(), "first-plaintext-key").await,
        Vec::<String>::new()
    );
    assert_eq!(
        rows_containing(app.db.pool(), "second-plaintext-key").await,
        Vec::<String>::new()
    );
}
