//! Connections through GraphQL: create, read, update, delete, validation and account scoping.

use prepsync_tests::TestApp;
use serde_json::{json, Value};

pub const CONNECTION_FIELDS: &str = "id name systemType url database username protocol apiKeySet \
    apiKeyUpdatedAt syncMode intervalSeconds batchSize active domainFilter orderDateFrom \
    orderDateTo lastTest { ok } createdAt updatedAt";

pub fn create_mutation() -> String {
    format!("mutation($input: CreateConnectionInput!) {{ createConnection(input: $input) {{ {CONNECTION_FIELDS} }} }}")
}

pub fn valid_input() -> Value {
    json!({
        "name": "Main kitchen",
        "url": "https://acme.example.com/",
        "database": "acme",
        "username": "api@acme.example.com",
        "apiKey": "9f2c6d1e4b7a8c3d0e5f6a7b8c9d0e1f2a3b4c5d"
    })
}

pub async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.graphql(token, &create_mutation(), json!({ "input": input }))
        .await
}

pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

pub fn error_field(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["field"].as_str()
}

async fn stored_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_creates_a_connection_and_reads_it_back_without_its_key() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");

    let created = create(&app, &token, valid_input()).await;
    let connection = &created["data"]["createConnection"];
    assert_eq!(connection["url"], "https://acme.example.com");
    assert_eq!(connection["apiKeySet"], true);
    assert_eq!(connection["batchSize"], 100);
    assert_eq!(connection["intervalSeconds"], 3600);
    assert_eq!(connection["syncMode"], "MANUAL");
    assert_eq!(connection["systemType"], "ODOO");

    let query = format!(
        "query($id: ID!) {{ connection(id: $id) {{ {CONNECTION_FIELDS} }} connections {{ id }} }}"
    );
    let read = app
        .graphql(&token, &query, json!({ "id": connection["id"] }))
        .await;
    assert_eq!(&read["data"]["connection"], connection);
    assert_eq!(read["data"]["connections"][0]["id"], connection["id"]);
    assert!(!read.to_string().contains("9f2c6d1e4b7a8c3d"));
    assert!(!created.to_string().contains("9f2c6d1e4b7a8c3d"));
}

#[tokio::test]
async fn invalid_input_names_each_field_and_stores_nothing() {
    let app = TestApp::spawn_with(|config| config.policy.allow_insecure_http = false).await;
    let token = app.token("acme", "admin");
    let cases = [
        ("url", json!({ "url": "not a url" })),
        ("url", json!({ "url": "http://acme.example.com" })),
        ("url", json!({ "url": "https://bob:pw@acme.example.com" })),
        (
            "url",
            json!({ "url": format!("https://{}.com", "a".repeat(3000)) }),
        ),
        ("apiKey", json!({ "apiKey": "" })),
        ("apiKey", json!({ "apiKey": "   " })),
        ("database", json!({ "database": "" })),
        ("username", json!({ "username": "x\u{0}y" })),
        ("name", json!({ "name": "n".repeat(201) })),
        ("batchSize", json!({ "batchSize": 0 })),
        ("batchSize", json!({ "batchSize": 1001 })),
        ("intervalSeconds", json!({ "intervalSeconds": 59 })),
        ("intervalSeconds", json!({ "intervalSeconds": 604_801 })),
        (
            "orderDateTo",
            json!({ "orderDateFrom": "2026-05-02", "orderDateTo": "2026-05-01" }),
        ),
        (
            "domainFilter",
            json!({ "domainFilter": "x".repeat(10_001) }),
        ),
    ];
    for (field, change) in cases {
        let mut input = valid_input();
        input
            .as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        let response = create(&app, &token, input).await;
        assert_eq!(
            error_code(&response),
            Some("VALIDATION"),
            "{field}: {response}"
        );
        assert_eq!(error_field(&response), Some(field), "{response}");
    }
    assert_eq!(stored_events(&app).await, 0);
}

#[tokio::test]
async fn a_wrongly_typed_argument_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let mut input = valid_input();
    input["batchSize"] = json!("lots");
    let response = create(&app, &token, input).await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("batchSize"));
}

#[tokio::test]
async fn a_second_connection_to_the_same_url_and_database_is_a_conflict() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    create(&app, &token, valid_input()).await;

    let mut same = valid_input();
    same["url"] = json!("HTTPS://ACME.example.com");
    same["name"] = json!("Another name");
    let response = create(&app, &token, same).await;
    assert_eq!(error_code(&response), Some("CONFLICT"));
    assert_eq!(error_field(&response), Some("url"));
    assert_eq!(stored_events(&app).await, 1);

    let mut other_db = valid_input();
    other_db["database"] = json!("acme-staging");
    assert!(create(&app, &token, other_db).await["errors"].is_null());
}

#[tokio::test]
async fn concurrent_creates_of_one_source_store_exactly_one_connection() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let attempts = (0..6).map(|_| create(&app, &token, valid_input()));
    let responses = futures::future::join_all(attempts).await;

    let created = responses.iter().filter(|r| r["errors"].is_null()).count();
    let conflicts = responses
        .iter()
        .filter(|r| error_code(r) == Some("CONFLICT"))
        .count();
    assert_eq!((created, conflicts), (1, 5), "{responses:?}");
}

#[tokio::test]
async fn another_account_sees_none_of_the_connections_and_gets_not_found_for_their_ids() {
    let app = TestApp::spawn().await;
    let created = create(&app, &app.token("acme", "admin"), valid_input()).await;
    let id = created["data"]["createConnection"]["id"].clone();
    let other = app.token("globex", "admin");

    let list = app
        .graphql(&other, "{ connections { id } }", json!({}))
        .await;
    assert_eq!(list["data"]["connections"], json!([]));
    for query in [
        "query($id: ID!) { connection(id: $id) { id } }",
        "mutation($id: ID!) { updateConnection(id: $id, input: { name: \"x\" }) { id } }",
        "mutation($id: ID!) { deleteConnection(id: $id) }",
    ] {
        let response = app.graphql(&other, query, json!({ "id": id })).await;
        assert_eq!(
            error_code(&response),
            Some("NOT_FOUND"),
            "{query}: {response}"
        );
    }
    let unknown = app
        .graphql(&other, "{ connection(id: \"nonsense\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"));
}

#[tokio::test]
async fn an_update_keeps_omitted_fields_and_clears_explicit_nulls() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let mut input = valid_input();
    input["domainFilter"] = json!("[('state', 'in', ['sale'])]");
    input["orderDateFrom"] = json!("2026-01-01");
    let id = create(&app, &token, input).await["data"]["createConnection"]["id"].clone();

    let mutation = "mutation($id: ID!, $input: UpdateConnectionInput!) {
        updateConnection(id: $id, input: $input) { name domainFilter orderDateFrom batchSize syncMode url apiKeyUpdatedAt createdAt } }";
    let updated = app
        .graphql(&token, mutation, json!({ "id": id, "input": { "domainFilter": null, "batchSize": 250, "syncMode": "AUTOMATIC" } }))
        .await;
    let connection = &updated["data"]["updateConnection"];
    assert_eq!(connection["domainFilter"], Value::Null, "{updated}");
    assert_eq!(connection["orderDateFrom"], "2026-01-01");
    assert_eq!(connection["name"], "Main kitchen");
    assert_eq!(connection["batchSize"], 250);
    assert_eq!(connection["syncMode"], "AUTOMATIC");
    assert_eq!(connection["apiKeyUpdatedAt"], connection["createdAt"]);

    let cleared = app
        .graphql(
            &token,
            mutation,
            json!({ "id": id, "input": { "name": null } }),
        )
        .await;
    assert_eq!(error_code(&cleared), Some("VALIDATION"));
    assert_eq!(error_field(&cleared), Some("name"));

    let rekeyed = app
        .graphql(
            &token,
            mutation,
            json!({ "id": id, "input": { "apiKey": "new-key" } }),
        )
        .await;
    let connection = &rekeyed["data"]["updateConnection"];
    assert_ne!(connection["apiKeyUpdatedAt"], connection["createdAt"]);
}

#[tokio::test]
async fn a_deleted_connection_is_gone_and_its_source_can_be_connected_again() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let id = create(&app, &token, valid_input()).await["data"]["createConnection"]["id"].clone();

    let deleted = app
        .graphql(
            &token,
            "mutation($id: ID!) { deleteConnection(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteConnection"], true);
    let read = app
        .graphql(
            &token,
            "query($id: ID!) { connection(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&read), Some("NOT_FOUND"));
    let again = app
        .graphql(
            &token,
            "mutation($id: ID!) { deleteConnection(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&again), Some("NOT_FOUND"));

    assert!(create(&app, &token, valid_input()).await["errors"].is_null());
}

#[tokio::test]
async fn account_settings_default_to_utc_and_take_only_iana_zones() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let read = app
        .graphql(&token, "{ account { id timeZone } }", json!({}))
        .await;
    assert_eq!(
        read["data"]["account"],
        json!({ "id": "acme", "timeZone": "UTC" })
    );

    let mutation =
        "mutation($tz: String!) { updateAccountSettings(input: { timeZone: $tz }) { timeZone } }";
    let changed = app
        .graphql(&token, mutation, json!({ "tz": "Europe/Berlin" }))
        .await;
    assert_eq!(
        changed["data"]["updateAccountSettings"]["timeZone"],
        "Europe/Berlin"
    );
    let refused = app
        .graphql(&token, mutation, json!({ "tz": "Berlin" }))
        .await;
    assert_eq!(error_field(&refused), Some("timeZone"));

    let other = app
        .graphql(
            &app.token("globex", "admin"),
            "{ account { timeZone } }",
            json!({}),
        )
        .await;
    assert_eq!(other["data"]["account"]["timeZone"], "UTC");
}
