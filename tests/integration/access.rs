//! Who may call what: tokens and the table of roles and operations. Later features add
//! their operations to `operations()`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, EncodingKey, Header};
use prepsync_tests::{TestApp, JWT_SECRET};
use serde_json::{json, Value};

use crate::connections::{create, error_code, valid_input};

/// One GraphQL operation and the roles that may call it.
struct Case {
    name: &'static str,
    document: &'static str,
    allowed: &'static [&'static str],
}

const ALL: &[&str] = &["admin", "member", "planner", "auditor"];
const ADMIN: &[&str] = &["admin"];

fn operations() -> Vec<Case> {
    vec![
        Case { name: "me", document: "{ me { subject account role } }", allowed: ALL },
        Case { name: "account", document: "{ account { id timeZone } }", allowed: ALL },
        Case {
            name: "updateAccountSettings",
            document: "mutation { updateAccountSettings(input: { timeZone: \"UTC\" }) { timeZone } }",
            allowed: ADMIN,
        },
        Case { name: "connections", document: "{ connections { id } }", allowed: ADMIN },
        Case {
            name: "connection",
            document: "query($id: ID!) { connection(id: $id) { id } }",
            allowed: ADMIN,
        },
        Case {
            name: "createConnection",
            document: "mutation { createConnection(input: { name: \"n\", url: \"https://other.example.com\", database: \"d\", username: \"u\", apiKey: \"k\" }) { id } }",
            allowed: ADMIN,
        },
        Case {
            name: "updateConnection",
            document: "mutation($id: ID!) { updateConnection(id: $id, input: { name: \"renamed\" }) { id } }",
            allowed: ADMIN,
        },
        Case {
            name: "testConnection",
            document: "mutation($id: ID!) { testConnection(id: $id) { ok } }",
            allowed: ADMIN,
        },
        Case {
            name: "testConnectionSettings",
            document: "mutation { testConnectionSettings(input: { name: \"n\", url: \"http://127.0.0.1:9\", database: \"d\", username: \"u\", apiKey: \"k\" }) { ok } }",
            allowed: ADMIN,
        },
        Case {
            name: "syncNow",
            document: "mutation($id: ID!) { syncNow(connectionId: $id) { id status } }",
            allowed: ADMIN,
        },
        Case {
            name: "fullResync",
            document: "mutation($id: ID!) { fullResync(connectionId: $id) { id } }",
            allowed: ADMIN,
        },
        Case {
            name: "cancelSyncRun",
            document: "mutation { cancelSyncRun(id: \"00000000-0000-4000-8000-000000000000\") { id } }",
            allowed: ADMIN,
        },
        Case {
            name: "syncRuns",
            document: "query($id: ID!) { syncRuns(connectionId: $id) { totalCount } }",
            allowed: &["admin", "member", "auditor"],
        },
        Case {
            name: "syncRun",
            document: "query { syncRun(id: \"00000000-0000-4000-8000-000000000000\") { id } }",
            allowed: &["admin", "member", "auditor"],
        },
        Case {
            name: "salesRecords",
            document: "query($id: ID!) { salesRecords(filter: { connectionId: $id }) { totalCount } }",
            allowed: &["admin", "member", "planner", "auditor"],
        },
        Case {
            name: "salesRecord",
            document: "query { salesRecord(id: \"acme:0:1\") { id } }",
            allowed: &["admin", "member", "planner", "auditor"],
        },
        Case {
            name: "planningDemand",
            document: "{ planningDemand(from: \"2026-12-01\", to: \"2026-12-31\") { buckets { itemId } unmappedLines unconvertedLines } }",
            allowed: &["admin", "planner"],
        },
        Case {
            name: "projections",
            document: "{ projections { name position lagEvents lagSeconds } }",
            allowed: ADMIN,
        },
        Case {
            name: "upsertItems",
            document: "mutation { upsertItems(items: [{ id: \"bun\", name: \"Bun\", unit: \"piece\" }]) { id } }",
            allowed: &["admin", "member"],
        },
        Case { name: "items", document: "{ items { totalCount } }", allowed: ALL },
        Case {
            name: "mapProduct",
            document: "mutation($id: ID!) { mapProduct(connectionId: $id, odooProductId: 5, itemId: \"bun\") { itemId } }",
            allowed: &["admin", "member"],
        },
        Case {
            name: "unmapProduct",
            document: "mutation($id: ID!) { unmapProduct(connectionId: $id, odooProductId: 6) }",
            allowed: &["admin", "member"],
        },
        Case {
            name: "unmappedProducts",
            document: "query($id: ID!) { unmappedProducts(connectionId: $id) { totalCount } }",
            allowed: &["admin", "member"],
        },
        Case {
            name: "resumeSchedule",
            document: "mutation($id: ID!) { resumeSchedule(connectionId: $id) { id nextRunAt health { state } } }",
            allowed: ADMIN,
        },
        Case {
            name: "deleteConnection",
            document: "mutation($id: ID!) { deleteConnection(id: $id) }",
            allowed: ADMIN,
        },
    ]
}

#[tokio::test]
async fn each_role_reaches_exactly_the_operations_its_row_grants() {
    let app = TestApp::spawn().await;
    let admin = app.token("acme", "admin");
    let mut input = valid_input();
    input["url"] = json!("http://127.0.0.1:9");
    let id = create(&app, &admin, input).await["data"]["createConnection"]["id"].clone();

    for role in ["member", "planner", "auditor", "admin"] {
        let token = app.token("acme", role);
        for case in operations() {
            let response = app
                .graphql(&token, case.document, json!({ "id": id }))
                .await;
            let forbidden = error_code(&response) == Some("FORBIDDEN");
            let allowed = case.allowed.contains(&role);
            assert_eq!(forbidden, !allowed, "{role} × {}: {response}", case.name);
            if allowed {
                let code = error_code(&response);
                let answered = code.is_none() || code == Some("NOT_FOUND");
                assert!(answered, "{role} × {}: {response}", case.name);
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn signed(claims: Value, secret: &str) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn missing_expired_forged_and_malformed_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let claims =
        |exp: u64, role: &str| json!({ "sub": "eve", "account": "acme", "role": role, "exp": exp });
    let tokens = [
        ("expired", signed(claims(now() - 3600, "admin"), JWT_SECRET)),
        (
            "forged",
            signed(
                claims(now() + 3600, "admin"),
                "another-secret-that-is-long-enough-too",
            ),
        ),
        (
            "unknown role",
            signed(claims(now() + 3600, "root"), JWT_SECRET),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    let body = json!({ "query": "{ me { subject } }" });

    let (status, response) = app.post(None, body.clone()).await;
    assert_eq!(
        (status, error_code(&response)),
        (401, Some("UNAUTHENTICATED"))
    );
    for (what, token) in tokens {
        let (status, response) = app.post(Some(&token), body.clone()).await;
        assert_eq!(
            (status, error_code(&response)),
            (401, Some("UNAUTHENTICATED")),
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_valid_token_names_its_caller() {
    let app = TestApp::spawn().await;
    let token = api::auth::issue_token(
        &app.config.jwt,
        "acme",
        "auditor",
        "carol",
        Duration::from_secs(60),
    )
    .unwrap();
    let response = app
        .graphql(&token, "{ me { subject account role } }", json!({}))
        .await;
    assert_eq!(
        response["data"]["me"],
        json!({ "subject": "carol", "account": "acme", "role": "AUDITOR" })
    );
}

#[tokio::test]
async fn queries_beyond_the_depth_limit_are_refused() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let nested = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(12),
        "}".repeat(12)
    );
    let response = app.graphql(&token, &nested, json!({})).await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
}

#[tokio::test]
async fn an_oversized_request_body_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let mut input = valid_input();
    input["name"] = json!("x".repeat(300_000));
    let (status, _) = app
        .post(Some(&token), json!({ "query": crate::connections::create_mutation(), "variables": { "input": input } }))
        .await;
    assert_eq!(status, 413);
    let (_, body) = app
        .post(
            Some(&token),
            json!({ "query": "{ me { subject } }", "padding": "x".repeat(300_000) }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}

#[tokio::test]
async fn aliases_cannot_multiply_database_reads_past_the_complexity_limit() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "planner");
    let few: String = (0..5)
        .map(|i| format!("a{i}: account {{ timeZone }} "))
        .collect();
    assert!(app
        .graphql(&token, &format!("{{ {few} }}"), json!({}))
        .await["errors"]
        .is_null());
    let many: String = (0..100)
        .map(|i| format!("a{i}: account {{ timeZone }} "))
        .collect();
    let response = app
        .graphql(&token, &format!("{{ {many} }}"), json!({}))
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"), "{response}");
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("complex"));
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_gets_a_coded_error() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(Some(&app.token("acme", "admin")), json!([1, 2, 3]))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (400, Some("VALIDATION")),
        "{body}"
    );
}

#[tokio::test]
async fn two_authorization_headers_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let response = prepsync_tests::http_client()
        .post(format!("http://{}/graphql", app.address))
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {token}"))
        .json(&json!({ "query": "{ me { subject } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn concurrent_changes_to_account_settings_succeed_or_conflict_never_fail() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let mutation =
        "mutation($tz: String!) { updateAccountSettings(input: { timeZone: $tz }) { timeZone } }";
    let zones = [
        "Europe/Berlin",
        "Asia/Tokyo",
        "America/Chicago",
        "Africa/Lagos",
        "Europe/Paris",
        "Asia/Kolkata",
    ];
    let requests = zones
        .iter()
        .map(|tz| app.graphql(&token, mutation, json!({ "tz": tz })));
    for response in futures::future::join_all(requests).await {
        let code = error_code(&response);
        assert!(code.is_none() || code == Some("CONFLICT"), "{response}");
    }
}
