//! Test Connection against the Odoo sandbox over real HTTP: each failing stage is named with
//! its code, a passing test counts the orders in scope, and results of saved connections are
//! recorded.

use odoo_sandbox::{CallMatcher, Fault, FaultRule, Sandbox, SandboxConfig, UserKind};
use prepsync_tests::TestApp;
use serde_json::{json, Value};

use crate::connections::{create, error_code};

const TEST_SETTINGS: &str = "mutation($input: CreateConnectionInput!) {
    testConnectionSettings(input: $input) {
        ok stage protocol serverVersion matchingOrders warnings { code message } error { code message hint }
    } }";

fn settings(sandbox: &Sandbox, kind: UserKind) -> Value {
    let user = sandbox.user(kind);
    json!({
        "name": "Sandbox",
        "url": sandbox.url(),
        "database": sandbox.database(),
        "username": user.login,
        "apiKey": user.api_key,
    })
}

async fn test_settings(app: &TestApp, input: Value) -> Value {
    let response = app
        .graphql(
            &app.token("acme", "admin"),
            TEST_SETTINGS,
            json!({ "input": input }),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["testConnectionSettings"].clone()
}

fn stage_and_code(result: &Value) -> (&str, &str) {
    (
        result["stage"].as_str().unwrap_or_default(),
        result["error"]["code"].as_str().unwrap_or_default(),
    )
}

async fn sandbox(version: u8) -> Sandbox {
    Sandbox::start(SandboxConfig::new(version))
        .await
        .expect("sandbox starts")
}

#[tokio::test]
async fn a_good_connection_passes_every_stage_on_each_version() {
    let app = TestApp::spawn().await;
    for (version, protocol) in [
        (19, "JSON2"),
        (18, "JSONRPC"),
        (17, "JSONRPC"),
        (16, "JSONRPC"),
        (14, "JSONRPC"),
    ] {
        let sandbox = sandbox(version).await;
        let result = test_settings(&app, settings(&sandbox, UserKind::SalesAll)).await;
        assert_eq!(result["ok"], true, "{version}: {result}");
        assert_eq!(result["stage"], "DONE");
        assert_eq!(result["protocol"], protocol, "{version}");
        assert!(result["serverVersion"]
            .as_str()
            .unwrap()
            .starts_with(&version.to_string()));
        assert!(result["matchingOrders"].as_u64().unwrap() > 0, "{result}");
    }
}

#[tokio::test]
async fn xml_rpc_is_used_when_chosen() {
    let app = TestApp::spawn().await;
    let sandbox = sandbox(18).await;
    let mut input = settings(&sandbox, UserKind::SalesAll);
    input["protocol"] = json!("XMLRPC");
    let result = test_settings(&app, input).await;
    assert_eq!(
        (result["ok"].clone(), result["protocol"].clone()),
        (json!(true), json!("XMLRPC")),
        "{result}"
    );
}

#[tokio::test]
async fn the_count_of_matching_orders_follows_the_filter() {
    let app = TestApp::spawn().await;
    let sandbox = sandbox(18).await;
    let everything = test_settings(&app, settings(&sandbox, UserKind::SalesAll)).await;
    let mut input = settings(&sandbox, UserKind::SalesAll);
    input["domainFilter"] = json!("[('state', '=', 'sale'), ('locked', '=', True)]");
    let locked = test_settings(&app, input).await;
    let (all, some) = (
        everything["matchingOrders"].as_u64().unwrap(),
        locked["matchingOrders"].as_u64().unwrap(),
    );
    assert!(some > 0 && some < all, "{some} of {all}");
}

#[tokio::test]
async fn a_wrong_key_fails_at_authentication_on_legacy_and_json2() {
    let app = TestApp::spawn().await;
    for version in [18, 19] {
        let sandbox = sandbox(version).await;
        let mut input = settings(&sandbox, UserKind::SalesAll);
        input["apiKey"] = json!("deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");
        let result = test_settings(&app, input).await;
        assert_eq!(
            stage_and_code(&result),
            ("AUTHENTICATE", "ODOO_AUTHENTICATION_FAILED"),
            "{version}: {result}"
        );
        assert!(
            !result.to_string().contains("deadbeefdeadbeef"),
            "the key was echoed"
        );
    }
}

#[tokio::test]
async fn a_wrong_username_fails_at_authentication_including_the_login_check_on_19() {
    let app = TestApp::spawn().await;
    for (version, protocol) in [
        (18, "JSONRPC"),
        (18, "XMLRPC"),
        (14, "XMLRPC"),
        (19, "AUTO"),
    ] {
        let sandbox = sandbox(version).await;
        let mut input = settings(&sandbox, UserKind::SalesAll);
        input["username"] = json!("somebody-else@example.com");
        input["protocol"] = json!(protocol);
        let result = test_settings(&app, input).await;
        assert_eq!(
            stage_and_code(&result),
            ("AUTHENTICATE", "ODOO_AUTHENTICATION_FAILED"),
            "{version} {protocol}: {result}"
        );
    }
}

#[tokio::test]
async fn an_unknown_database_fails_at_the_database_stage() {
    let app = TestApp::spawn().await;
    for version in [18, 19] {
        let sandbox = sandbox(version).await;
        let mut input = settings(&sandbox, UserKind::SalesAll);
        input["database"] = json!("no_such_db");
        let result = test_settings(&app, input).await;
        assert_eq!(
            stage_and_code(&result),
            ("DATABASE", "ODOO_DATABASE_NOT_FOUND"),
            "{version}: {result}"
        );
    }
}

#[tokio::test]
async fn a_user_without_sales_rights_fails_at_the_access_stage() {
    let app = TestApp::spawn().await;
    for version in [16, 18, 19] {
        let sandbox = sandbox(version).await;
        let result = test_settings(&app, settings(&sandbox, UserKind::NoSalesAccess)).await;
        assert_eq!(
            stage_and_code(&result),
            ("ACCESS", "ODOO_PERMISSION_DENIED"),
            "{version}: {result}"
        );
        assert!(result["error"]["hint"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("permission"));
    }
}

#[tokio::test]
async fn a_user_limited_to_its_own_orders_passes_with_a_warning() {
    let app = TestApp::spawn().await;
    for version in [16, 18, 19] {
        let sandbox = sandbox(version).await;
        let result = test_settings(&app, settings(&sandbox, UserKind::OwnDocumentsOnly)).await;
        assert_eq!(result["ok"], true, "{version}: {result}");
        assert_eq!(
            result["warnings"][0]["code"], "OWN_DOCUMENTS_ONLY",
            "{version}: {result}"
        );
        let good = test_settings(&app, settings(&sandbox, UserKind::SalesAll)).await;
        assert_eq!(good["warnings"], json!([]), "{version}: {good}");
    }
}

#[tokio::test]
async fn plain_http_and_private_addresses_are_refused_where_the_deployment_forbids_them() {
    let app = TestApp::spawn_with(|config| {
        config.policy.allow_insecure_http = false;
        config.policy.allow_private_networks = false;
    })
    .await;
    let sandbox = sandbox(18).await;
    let result = test_settings(&app, settings(&sandbox, UserKind::SalesAll)).await;
    assert_eq!(
        stage_and_code(&result),
        ("REACH", "ODOO_URL_NOT_ALLOWED"),
        "{result}"
    );

    let mut private = settings(&sandbox, UserKind::SalesAll);
    private["url"] = json!("https://127.0.0.1:9");
    let result = test_settings(&app, private).await;
    assert_eq!(
        stage_and_code(&result),
        ("REACH", "ODOO_URL_NOT_ALLOWED"),
        "{result}"
    );
}

#[tokio::test]
async fn a_refused_port_fails_at_the_reach_stage() {
    let app = TestApp::spawn().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox = sandbox(18).await;
    let mut input = settings(&sandbox, UserKind::SalesAll);
    input["url"] = json!(format!("http://127.0.0.1:{port}"));
    let result = test_settings(&app, input).await;
    assert_eq!(
        stage_and_code(&result),
        ("REACH", "ODOO_NETWORK"),
        "{result}"
    );
}

#[tokio::test]
async fn a_server_answering_html_is_an_unexpected_response() {
    let app = TestApp::spawn().await;
    let sandbox = sandbox(18).await;
    sandbox.control().inject(
        FaultRule::new(Fault::HtmlPage)
            .matching(CallMatcher::any())
            .times(1000),
    );
    let result = test_settings(&app, settings(&sandbox, UserKind::SalesAll)).await;
    assert_eq!(
        result["error"]["code"], "ODOO_UNEXPECTED_RESPONSE",
        "{result}"
    );
    assert_eq!(result["ok"], false);
}

#[tokio::test]
async fn a_malformed_filter_is_refused_with_its_position_before_anything_is_sent() {
    let app = TestApp::spawn().await;
    let sandbox = sandbox(18).await;
    let mut input = settings(&sandbox, UserKind::SalesAll);
    input["domainFilter"] = json!("[('state', '=' 'sale')]");
    let response = app
        .graphql(
            &app.token("acme", "admin"),
            TEST_SETTINGS,
            json!({ "input": input }),
        )
        .await;
    assert_eq!(error_code(&response), Some("VALIDATION"));
    assert_eq!(response["errors"][0]["extensions"]["field"], "domainFilter");
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("position"));
}

#[tokio::test]
async fn a_filter_on_an_unknown_field_fails_at_the_filter_stage_naming_it() {
    let app = TestApp::spawn().await;
    let sandbox = sandbox(18).await;
    let mut input = settings(&sandbox, UserKind::SalesAll);
    input["domainFilter"] = json!("[('no_such_field', '=', 1)]");
    let result = test_settings(&app, input).await;
    assert_eq!(
        stage_and_code(&result),
        ("FILTER", "ODOO_INVALID_FILTER"),
        "{result}"
    );
    assert!(result["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no_such_field"));
}

#[tokio::test]
async fn testing_a_saved_connection_records_its_result() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = sandbox(19).await;
    let created = create(&app, &token, settings(&sandbox, UserKind::SalesAll)).await;
    let id = created["data"]["createConnection"]["id"].clone();

    let tested = app
        .graphql(
            &token,
            "mutation($id: ID!) { testConnection(id: $id) { ok stage protocol } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(tested["data"]["testConnection"]["ok"], true, "{tested}");
    let read = app
        .graphql(
            &token,
            "query($id: ID!) { connection(id: $id) { lastTest { ok stage protocol testedAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        read["data"]["connection"]["lastTest"]["stage"], "DONE",
        "{read}"
    );
    assert_eq!(read["data"]["connection"]["lastTest"]["protocol"], "JSON2");
}

#[tokio::test]
async fn connection_tests_are_rate_limited_per_account() {
    let app = TestApp::spawn_with(|config| config.odoo.test_connection_per_minute = 2).await;
    let sandbox = sandbox(18).await;
    let variables = json!({ "input": settings(&sandbox, UserKind::SalesAll) });
    let acme = app.token("acme", "admin");
    for _ in 0..2 {
        assert!(app.graphql(&acme, TEST_SETTINGS, variables.clone()).await["errors"].is_null());
    }
    let limited = app.graphql(&acme, TEST_SETTINGS, variables.clone()).await;
    assert_eq!(error_code(&limited), Some("RATE_LIMITED"), "{limited}");
    let other = app
        .graphql(&app.token("globex", "admin"), TEST_SETTINGS, variables)
        .await;
    assert!(other["errors"].is_null(), "{other}");
}
