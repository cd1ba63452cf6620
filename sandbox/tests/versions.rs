//! The per-version behaviour of the sandbox over real HTTP: versions, protocols, fields,
//! states, access checks, users, databases and refused writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use odoo_sandbox::xmlrpc::MethodResponse;
use odoo_sandbox::{Sandbox, SandboxConfig, UserKind};
use serde_json::{json, Value};
use support::{json2, jsonrpc, send, xmlrpc};

async fn start(version: u8) -> Sandbox {
    Sandbox::start(SandboxConfig::new(version)).await.unwrap()
}

/// `execute_kw` over JSON-RPC as a kind of user; returns the envelope.
async fn execute(
    sandbox: &Sandbox,
    kind: UserKind,
    model: &str,
    method: &str,
    args: Value,
    kwargs: Value,
) -> Value {
    let user = sandbox.user(kind);
    let call = json!([
        sandbox.database(),
        user.uid,
        user.api_key,
        model,
        method,
        args,
        kwargs
    ]);
    jsonrpc(sandbox.addr(), "object", "execute_kw", call).await
}

fn error_name(envelope: &Value) -> &str {
    envelope["error"]["data"]["name"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn common_version_answers_the_configured_major_version() {
    for version in 13..=19u8 {
        let sandbox = start(version).await;

        let answer = jsonrpc(sandbox.addr(), "common", "version", json!([])).await;

        assert_eq!(answer["result"]["server_version"], format!("{version}.0"));
        assert_eq!(answer["result"]["server_version_info"][0], version);
    }
}

#[tokio::test]
async fn web_version_exists_only_on_19() {
    let old = start(18).await;
    let new = start(19).await;

    let on_18 = send(old.addr(), "GET", "/web/version", &[], b"")
        .await
        .unwrap();
    let on_19 = send(new.addr(), "GET", "/web/version", &[], b"")
        .await
        .unwrap();

    assert_eq!(on_18.status, 404);
    assert_eq!(on_19.status, 200);
    assert_eq!(on_19.json()["version_info"][0], 19);
}

#[tokio::test]
async fn a_json2_probe_before_19_is_a_404_page_with_several_databases_and_a_login_redirect_with_one(
) {
    let several = Sandbox::start(SandboxConfig::new(17).with_databases(["a", "b"]))
        .await
        .unwrap();
    let single = start(17).await;
    let headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];

    let not_found = send(
        several.addr(),
        "POST",
        "/json/2/sale.order/search_read",
        &headers,
        b"{}",
    )
    .await
    .unwrap();
    let redirect = send(
        single.addr(),
        "POST",
        "/json/2/sale.order/search_read",
        &headers,
        b"{}",
    )
    .await
    .unwrap();

    assert_eq!(
        (not_found.status, not_found.header("content-type")),
        (404, Some("text/html; charset=utf-8"))
    );
    assert_eq!(redirect.status, 303);
    assert!(redirect
        .header("location")
        .unwrap()
        .starts_with("/web/login?redirect="));
}

#[tokio::test]
async fn version_17_has_check_access_rights_but_no_has_access() {
    let sandbox = start(17).await;

    let rights = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "check_access_rights",
        json!(["read"]),
        json!({}),
    )
    .await;
    let has_access = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "has_access",
        json!([[], "read"]),
        json!({}),
    )
    .await;

    assert_eq!(rights["result"], true);
    assert_eq!(error_name(&has_access), "builtins.AttributeError");
}

#[tokio::test]
async fn version_18_answers_has_access_and_faults_on_a_none_result_over_xmlrpc() {
    let sandbox = start(18).await;
    let user = sandbox.user(UserKind::SalesAll);

    let has_access = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "has_access",
        json!([[], "read"]),
        json!({}),
    )
    .await;
    let params = [
        json!(sandbox.database()),
        json!(user.uid),
        json!(user.api_key),
        json!("sale.order"),
        json!("check_access_rights"),
        json!(["read"]),
    ];
    let none = xmlrpc(sandbox.addr(), "object", "execute_kw", &params).await;

    assert_eq!(has_access["result"], true);
    assert!(
        matches!(none, MethodResponse::Fault { code: 1, ref string } if string.contains("TypeError: cannot marshal None"))
    );
}

#[tokio::test]
async fn version_16_locks_orders_with_state_done_and_has_no_locked_field() {
    let sandbox = start(16).await;

    let done = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "search_count",
        json!([[["state", "=", "done"]]]),
        json!({}),
    )
    .await;
    let locked = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "search_read",
        json!([[]]),
        json!({"fields": ["locked"], "limit": 1}),
    )
    .await;

    assert!(done["result"].as_i64().unwrap() > 0);
    assert_eq!(error_name(&locked), "builtins.ValueError");
}

#[tokio::test]
async fn version_19_reads_lines_with_product_uom_id_and_refuses_product_uom() {
    let sandbox = start(19).await;
    let key = sandbox.user(UserKind::SalesAll).api_key;
    let read = |fields: Value| json!({"ids": [1, 2], "fields": fields});

    let good = json2(
        sandbox.addr(),
        sandbox.database(),
        &key,
        "sale.order.line",
        "read",
        read(json!(["product_uom_id"])),
    )
    .await;
    let bad = json2(
        sandbox.addr(),
        sandbox.database(),
        &key,
        "sale.order.line",
        "read",
        read(json!(["product_uom"])),
    )
    .await;

    assert_eq!(good.status, 200);
    assert_eq!(
        (bad.status, bad.json()["name"].clone()),
        (500, json!("builtins.ValueError"))
    );
}

#[tokio::test]
async fn writes_are_refused_on_every_protocol() {
    let sandbox = start(19).await;
    let user = sandbox.user(UserKind::Admin);

    for (method, args) in [
        ("create", json!([{"partner_id": 11}])),
        ("write", json!([[1], {"state": "cancel"}])),
        ("unlink", json!([[1]])),
        ("action_confirm", json!([[1]])),
    ] {
        let legacy = execute(
            &sandbox,
            UserKind::Admin,
            "sale.order",
            method,
            args.clone(),
            json!({}),
        )
        .await;
        let params = [
            json!(sandbox.database()),
            json!(user.uid),
            json!(user.api_key),
            json!("sale.order"),
            json!(method),
            args,
        ];
        let xml = xmlrpc(sandbox.addr(), "object", "execute_kw", &params).await;
        let modern = json2(
            sandbox.addr(),
            sandbox.database(),
            &user.api_key,
            "sale.order",
            method,
            json!({"ids": [1]}),
        )
        .await;

        assert_eq!(
            error_name(&legacy),
            "odoo.exceptions.AccessError",
            "{method}"
        );
        assert!(
            matches!(xml, MethodResponse::Fault { code: 4, .. }),
            "{method}"
        );
        assert_eq!(modern.status, 403, "{method}");
    }
    assert_eq!(sandbox.control().order(1).unwrap()["id"], 1);
}

#[tokio::test]
async fn an_expired_key_is_refused_on_19() {
    let sandbox = start(19).await;
    let user = sandbox.user(UserKind::SalesAll);
    let expired = user.expired_api_key.clone().unwrap();

    let modern = json2(
        sandbox.addr(),
        sandbox.database(),
        &expired,
        "sale.order",
        "search_count",
        json!({"domain": []}),
    )
    .await;
    let legacy = jsonrpc(
        sandbox.addr(),
        "common",
        "authenticate",
        json!([sandbox.database(), user.login, expired, {}]),
    )
    .await;

    assert_eq!(
        (modern.status, modern.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    assert_eq!(legacy["result"], false);
}

#[tokio::test]
async fn the_own_documents_user_sees_only_its_own_and_unassigned_orders() {
    let sandbox = start(18).await;
    let own = sandbox.user(UserKind::OwnDocumentsOnly);
    let fields = json!({"fields": ["user_id"]});

    let mine = execute(
        &sandbox,
        UserKind::OwnDocumentsOnly,
        "sale.order",
        "search_read",
        json!([[]]),
        fields.clone(),
    )
    .await;
    let all = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "search_count",
        json!([[]]),
        json!({}),
    )
    .await;

    let mine = mine["result"].as_array().unwrap();
    assert!(!mine.is_empty() && (mine.len() as i64) < all["result"].as_i64().unwrap());
    assert!(mine
        .iter()
        .all(|o| o["user_id"] == false || o["user_id"][0] == own.uid));
}

#[tokio::test]
async fn the_user_without_sales_rights_is_refused_orders_but_reads_products() {
    let sandbox = start(18).await;

    let orders = execute(
        &sandbox,
        UserKind::NoSalesAccess,
        "sale.order",
        "search_read",
        json!([[]]),
        json!({"limit": 1}),
    )
    .await;
    let products = execute(
        &sandbox,
        UserKind::NoSalesAccess,
        "product.product",
        "search_read",
        json!([[]]),
        json!({"fields": ["default_code", "barcode", "uom_id"]}),
    )
    .await;
    let allowed = execute(
        &sandbox,
        UserKind::NoSalesAccess,
        "sale.order",
        "has_access",
        json!([[], "read"]),
        json!({}),
    )
    .await;

    assert_eq!(error_name(&orders), "odoo.exceptions.AccessError");
    assert!(!products["result"].as_array().unwrap().is_empty());
    assert_eq!(allowed["result"], false);
}

#[tokio::test]
async fn a_user_reads_its_own_record_with_its_groups() {
    let sandbox = start(19).await;
    let user = sandbox.user(UserKind::OwnDocumentsOnly);

    let record = execute(
        &sandbox,
        UserKind::OwnDocumentsOnly,
        "res.users",
        "read",
        json!([[user.uid]]),
        json!({"fields": ["login", "group_ids"]}),
    )
    .await;
    let all_docs = execute(
        &sandbox,
        UserKind::OwnDocumentsOnly,
        "res.users",
        "has_group",
        json!([[user.uid], "sales_team.group_sale_salesman_all_leads"]),
        json!({}),
    )
    .await;
    let context = json2(
        sandbox.addr(),
        sandbox.database(),
        &user.api_key,
        "res.users",
        "context_get",
        json!({}),
    )
    .await;

    assert_eq!(record["result"][0]["login"], user.login);
    assert!(!record["result"][0]["group_ids"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(all_docs["result"], false);
    assert_eq!(context.json()["uid"], user.uid);
}

#[tokio::test]
async fn an_unknown_database_is_an_operational_error_on_legacy_rpc_and_an_html_404_on_json2() {
    let sandbox = start(19).await;
    let user = sandbox.user(UserKind::SalesAll);

    let legacy = jsonrpc(
        sandbox.addr(),
        "common",
        "authenticate",
        json!(["no_such_db", user.login, user.api_key, {}]),
    )
    .await;
    let modern = json2(
        sandbox.addr(),
        "no_such_db",
        &user.api_key,
        "sale.order",
        "search_count",
        json!({"domain": []}),
    )
    .await;

    assert_eq!(error_name(&legacy), "psycopg2.OperationalError");
    assert!(legacy["error"]["data"]["message"]
        .as_str()
        .unwrap()
        .contains("database \"no_such_db\" does not exist"));
    assert_eq!(
        (modern.status, modern.header("content-type")),
        (404, Some("text/html; charset=utf-8"))
    );
}

#[tokio::test]
async fn a_valid_uid_on_another_database_is_a_missing_record() {
    let sandbox = Sandbox::start(SandboxConfig::new(18).with_databases(["main", "other"]))
        .await
        .unwrap();
    let user = sandbox.user(UserKind::SalesAll);

    let answer = jsonrpc(
        sandbox.addr(),
        "object",
        "execute_kw",
        json!([
            "other",
            user.uid,
            user.api_key,
            "sale.order",
            "search_count",
            [[]]
        ]),
    )
    .await;
    let listed = jsonrpc(sandbox.addr(), "db", "list", json!([])).await;

    assert_eq!(error_name(&answer), "odoo.exceptions.MissingError");
    assert_eq!(listed["result"], json!(["main", "other"]));
}

#[tokio::test]
async fn units_are_described_by_category_on_18_and_relative_to_another_unit_on_19() {
    let old = start(18).await;
    let new = start(19).await;

    let dozens = execute(
        &old,
        UserKind::SalesAll,
        "uom.uom",
        "read",
        json!([[2]]),
        json!({"fields": ["name", "factor", "category_id", "uom_type"]}),
    )
    .await;
    let pack = execute(
        &new,
        UserKind::SalesAll,
        "uom.uom",
        "read",
        json!([[3]]),
        json!({"fields": ["name", "relative_factor", "relative_uom_id"]}),
    )
    .await;

    assert_eq!(dozens["result"][0]["uom_type"], "bigger");
    assert_eq!(pack["result"][0]["relative_uom_id"], json!([1, "Units"]));
    assert_eq!(pack["result"][0]["relative_factor"], 6.0);
}

#[tokio::test]
async fn the_same_seed_serves_the_same_orders() {
    let first = start(19).await;
    let second = start(19).await;
    let kwargs = json!({"fields": ["name", "write_date", "amount_total", "order_line"], "order": "id asc", "limit": 50});

    let a = execute(
        &first,
        UserKind::SalesAll,
        "sale.order",
        "search_read",
        json!([[]]),
        kwargs.clone(),
    )
    .await;
    let b = execute(
        &second,
        UserKind::SalesAll,
        "sale.order",
        "search_read",
        json!([[]]),
        kwargs,
    )
    .await;

    assert_eq!(a["result"], b["result"]);
    assert_eq!(a["result"].as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn generated_write_dates_lie_in_the_past_before_any_look_back_window() {
    let sandbox = start(18).await;
    let kwargs = json!({"fields": ["write_date"], "order": "write_date desc", "limit": 1});

    let latest = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "search_read",
        json!([[]]),
        kwargs,
    )
    .await;

    let latest = latest["result"][0]["write_date"].as_str().unwrap();
    let cutoff = (chrono::Utc::now() - chrono::Duration::days(30))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert!(latest < cutoff.as_str(), "{latest}");
}

#[tokio::test]
async fn the_database_list_can_be_refused_like_no_database_list() {
    let config = SandboxConfig::new(18).with_database_list(false);
    let sandbox = Sandbox::start(config).await.unwrap();

    let listed = jsonrpc(sandbox.addr(), "db", "list", json!([])).await;

    assert_eq!(error_name(&listed), "odoo.exceptions.AccessDenied");
}

#[tokio::test]
async fn a_request_that_is_not_xml_is_a_fault_1_parser_error() {
    let sandbox = start(18).await;
    let headers = vec![("Content-Type".to_owned(), "text/xml".to_owned())];

    let answer = send(
        sandbox.addr(),
        "POST",
        "/xmlrpc/2/common",
        &headers,
        b"<methodCall>",
    )
    .await
    .unwrap();

    let parsed = odoo_sandbox::xmlrpc::parse_response(&answer.text()).unwrap();
    assert_eq!(answer.status, 200);
    assert!(
        matches!(parsed, MethodResponse::Fault { code: 1, ref string } if string.contains("ExpatError"))
    );
}

#[tokio::test]
async fn the_recorded_data_set_serves_locked_orders_as_done_before_17() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/odoo/datasets");
    let dir = if dir.is_dir() {
        dir
    } else {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/odoo/datasets")
    };
    let config = SandboxConfig::new(16).with_dataset(odoo_sandbox::Dataset::Recorded { dir });
    let sandbox = Sandbox::start(config).await.unwrap();

    let done = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "search_count",
        json!([[["state", "=", "done"]]]),
        json!({}),
    )
    .await;

    assert_eq!(done["result"], 308);
}

#[tokio::test]
async fn a_stopped_sandbox_refuses_connections() {
    let sandbox = start(18).await;
    let addr = sandbox.addr();

    sandbox.shutdown().await;

    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn archived_products_are_left_out_of_searches_unless_asked_for() {
    let sandbox = start(18).await;
    let archived = json!([[["default_code", "=", "DRAWER-01"]]]);

    let plain = execute(
        &sandbox,
        UserKind::SalesAll,
        "product.product",
        "search",
        archived.clone(),
        json!({}),
    )
    .await;
    let with_context = execute(
        &sandbox,
        UserKind::SalesAll,
        "product.product",
        "search",
        archived,
        json!({"context": {"active_test": false}}),
    )
    .await;
    let by_domain = execute(
        &sandbox,
        UserKind::SalesAll,
        "product.product",
        "search_count",
        json!([[["active", "=", false]]]),
        json!({}),
    )
    .await;

    assert_eq!(plain["result"], json!([]));
    assert_eq!(with_context["result"], json!([16]));
    assert_eq!(by_domain["result"], 1);
}

#[tokio::test]
async fn the_own_documents_user_cannot_read_someone_elses_order() {
    let sandbox = start(19).await;
    let own = sandbox.user(UserKind::OwnDocumentsOnly);
    let domain = json!([[["user_id", "!=", own.uid], ["user_id", "!=", false]]]);
    let others = execute(
        &sandbox,
        UserKind::SalesAll,
        "sale.order",
        "search",
        domain,
        json!({"limit": 1}),
    )
    .await;
    let other = others["result"][0].clone();

    let read = execute(
        &sandbox,
        UserKind::OwnDocumentsOnly,
        "sale.order",
        "read",
        json!([[other]]),
        json!({"fields": ["name"]}),
    )
    .await;
    let allowed = execute(
        &sandbox,
        UserKind::OwnDocumentsOnly,
        "sale.order",
        "has_access",
        json!([[other], "read"]),
        json!({}),
    )
    .await;

    assert_eq!(error_name(&read), "odoo.exceptions.AccessError");
    assert_eq!(allowed["result"], false);
}

#[tokio::test]
async fn execute_takes_positional_arguments_without_keywords() {
    let sandbox = start(14).await;
    let user = sandbox.user(UserKind::SalesAll);

    let answer = jsonrpc(
        sandbox.addr(),
        "object",
        "execute",
        json!([
            sandbox.database(),
            user.uid,
            user.password,
            "sale.order",
            "search_count",
            [["state", "=", "done"]]
        ]),
    )
    .await;

    assert!(answer["result"].as_i64().unwrap() > 0);
}
