//! The client over real HTTP against a local server that answers with the recorded Odoo
//! responses. Answers that were never recorded are synthesized and marked so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::num::NonZeroU32;
use std::time::Duration;

use odoo_client::codec::xmlrpc;
use odoo_client::{
    ClientOptions, Domain, ErrorKind, NetworkPolicy, OdooServer, OdooSession, Protocol,
    RetryPolicy, SearchRead, Timeouts, WireProtocol,
};
use secrecy::SecretString;
use support::replay::{
    jsonrpc_result, not_found_page, recorded, synthesized, Replay, Reply, Request,
};

const ORDER_FIELDS: [&str; 13] = [
    "name",
    "date_order",
    "partner_id",
    "state",
    "locked",
    "commitment_date",
    "expected_date",
    "currency_id",
    "amount_total",
    "order_line",
    "write_date",
    "company_id",
    "client_order_ref",
];

fn options() -> ClientOptions {
    ClientOptions {
        network: NetworkPolicy::allow_all(),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(2),
        },
        retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            max_total_delay: Duration::from_millis(200),
        },
        ..ClientOptions::default()
    }
}

fn key() -> SecretString {
    SecretString::from("<API_KEY>")
}

fn page_of_five() -> SearchRead {
    let domain = Domain::parse(r#"[["state","in",["sale"]]]"#).unwrap();
    SearchRead::new(
        "sale.order",
        domain,
        &ORDER_FIELDS,
        NonZeroU32::new(5).unwrap(),
    )
    .order_by("write_date asc, id asc")
}

fn recorded_request(version: &str, prefix: &str) -> serde_json::Value {
    let case = support::case(version, prefix);
    serde_json::from_slice(&case.request_body.unwrap()).unwrap()
}

/// An Odoo 18.0 answering JSON-RPC from the recordings.
fn odoo18_jsonrpc(request: &Request) -> Reply {
    let v = "odoo-18.0";
    match (request.path.as_str(), request.rpc_target().as_str()) {
        ("/web/version", _) => not_found_page(),
        ("/jsonrpc", "common.version") => recorded(v, "02-"),
        ("/jsonrpc", "common.authenticate")
            if request.json()["params"]["args"][0] == "no_such_db" =>
        {
            recorded(v, "12-")
        }
        ("/jsonrpc", "common.authenticate")
            if request.json()["params"]["args"][2] == "<API_KEY>" =>
        {
            recorded(v, "04-")
        }
        ("/jsonrpc", "common.authenticate") => recorded(v, "08-"),
        ("/jsonrpc", "db.list") => recorded(v, "90-"),
        ("/jsonrpc", "sale.order.search_read") => recorded(v, "24-"),
        ("/jsonrpc", "sale.order.search_count") => recorded(v, "40-"),
        ("/jsonrpc", "sale.order.fields_get") => recorded(v, "54-"),
        ("/jsonrpc", "sale.order.has_access") => recorded(v, "68-"),
        ("/jsonrpc", "sale.order.line.read") => recorded(v, "46-"),
        ("/jsonrpc", "product.product.read") => recorded(v, "50-"),
        _ => synthesized(
            404,
            "text/html; charset=utf-8",
            "",
            "<!doctype html><title>404</title>",
        ),
    }
}

/// An Odoo 18.0 answering XML-RPC from the recordings.
fn odoo18_xmlrpc(request: &Request) -> Reply {
    let v = "odoo-18.0";
    match request.xml_target().as_str() {
        "common.version" => recorded(v, "01-"),
        "common.authenticate" => recorded(v, "03-"),
        "db.list" => recorded(v, "89-"),
        "sale.order.search_read" => recorded(v, "23-"),
        "sale.order.search_count" => recorded(v, "39-"),
        "sale.order.check_access_rights" => recorded(v, "61-"),
        _ => synthesized(404, "text/html", "", "<!doctype html><title>404</title>"),
    }
}

/// An Odoo 19.0 answering JSON-2 from the recordings; `context_get` and the user's own
/// `res.users` record were not recorded and are synthesized.
fn odoo19_json2(request: &Request) -> Reply {
    let v = "odoo-19.0";
    if request.header("X-Odoo-Database") == Some("no_such_db") {
        return recorded(v, "48-");
    }
    if request.path.starts_with("/json/2/")
        && request.header("Authorization") != Some("bearer <API_KEY>")
    {
        return recorded(v, "26-");
    }
    match request.path.as_str() {
        "/web/version" => recorded(v, "01-"),
        "/json/2/res.users/context_get" => synthesized(
            200,
            "application/json; charset=utf-8",
            "",
            r#"{"lang": "en_US", "tz": false, "uid": 7}"#,
        ),
        "/json/2/res.users/read" => synthesized(
            200,
            "application/json; charset=utf-8",
            "",
            r#"[{"id": 7, "login": "api@example.com"}]"#,
        ),
        "/json/2/sale.order/search_read" => recorded(v, "03-"),
        "/json/2/sale.order/search_count" => recorded(v, "07-"),
        "/json/2/sale.order/has_access" => recorded(v, "21-"),
        "/json/2/sale.order/fields_get" => recorded(v, "19-"),
        "/json/2/uom.uom/read" => recorded(v, "14-"),
        "/jsonrpc" => recorded(v, "56-"),
        _ => synthesized(404, "text/html", "", "<!doctype html><title>404</title>"),
    }
}

async fn session(replay: &Replay, protocol: Protocol, login: &str) -> OdooSession {
    let server = OdooServer::connect(&replay.url(), protocol, &options())
        .await
        .unwrap();
    server
        .authenticate(database(&server), login, key())
        .await
        .unwrap()
}

fn database(server: &OdooServer) -> &'static str {
    match server.version().major {
        19 => "prepstation19",
        _ => "prepstation_demo",
    }
}

#[tokio::test]
async fn an_odoo_18_server_is_detected_and_read_over_json_rpc() {
    let replay = Replay::start(odoo18_jsonrpc).await;

    let session = session(&replay, Protocol::Auto, "api@example.com").await;
    let orders = session.search_read(&page_of_five()).await.unwrap();

    assert_eq!(
        (session.protocol(), session.version().major, session.uid()),
        (WireProtocol::JsonRpc, 18, 8)
    );
    assert_eq!(orders.len(), 5);
    assert_eq!(replay.paths()[..2], ["/web/version", "/jsonrpc"]);
}

#[tokio::test]
async fn the_json_rpc_search_read_sends_what_the_recording_sent() {
    let replay = Replay::start(odoo18_jsonrpc).await;
    let session = session(&replay, Protocol::Auto, "api@example.com").await;

    session.search_read(&page_of_five()).await.unwrap();

    let sent = replay.requests().last().unwrap().json();
    let expected = recorded_request("odoo-18.0", "24-");
    assert_eq!(sent["params"], expected["params"]);
}

#[tokio::test]
async fn counts_access_fields_lines_and_products_are_read_over_json_rpc() {
    let replay = Replay::start(odoo18_jsonrpc).await;
    let session = session(&replay, Protocol::Auto, "api@example.com").await;
    let sale = Domain::parse("[('state', 'in', ['sale'])]").unwrap();

    assert_eq!(
        session.search_count("sale.order", &sale).await.unwrap(),
        2290
    );
    assert!(!session.can_read("sale.order").await.unwrap());
    assert!(session
        .fields_get("sale.order", &["type", "string", "relation", "store"])
        .await
        .unwrap()
        .contains("state"));
    assert!(!session.order_lines(&[2506]).await.unwrap().is_empty());
    assert!(!session.products(&[3]).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_18_access_check_is_has_access_with_empty_ids() {
    let replay = Replay::start(odoo18_jsonrpc).await;
    let session = session(&replay, Protocol::Auto, "api@example.com").await;

    session.can_read("sale.order").await.unwrap();

    let args = &replay.requests().last().unwrap().json()["params"]["args"];
    assert_eq!(args[4], "has_access");
    assert_eq!(args[5], serde_json::json!([[], "read"]));
}

#[tokio::test]
async fn the_database_list_is_read_where_the_server_allows_it() {
    let replay = Replay::start(odoo18_jsonrpc).await;
    let server = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap();

    let databases = server.list_databases().await.unwrap();

    assert_eq!(
        databases,
        Some(vec!["prepstation_demo".to_owned(), "second_db".to_owned()])
    );
}

#[tokio::test]
async fn authenticate_answering_false_is_an_authentication_failure() {
    let replay = Replay::start(odoo18_jsonrpc).await;
    let server = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap();

    let error = server
        .authenticate(
            "prepstation_demo",
            "api@example.com",
            SecretString::from("wrong"),
        )
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(
        replay.paths().iter().filter(|p| *p == "/jsonrpc").count(),
        2,
        "never retried"
    );
}

#[tokio::test]
async fn a_missing_database_on_18_is_database_not_found() {
    let replay = Replay::start(odoo18_jsonrpc).await;
    let server = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap();

    let error = server
        .authenticate("no_such_db", "api@example.com", key())
        .await
        .unwrap_err();

    assert_eq!(error.code(), "ODOO_DATABASE_NOT_FOUND");
}

#[tokio::test]
async fn xml_rpc_is_used_when_chosen_and_reads_the_same_orders() {
    let replay = Replay::start(odoo18_xmlrpc).await;

    let session = session(&replay, Protocol::XmlRpc, "api@example.com").await;
    let orders = session.search_read(&page_of_five()).await.unwrap();
    let sale = Domain::parse("[('state', 'in', ['sale'])]").unwrap();

    assert_eq!(session.protocol(), WireProtocol::XmlRpc);
    assert_eq!(orders[0].id().unwrap(), 4);
    assert_eq!(
        session.search_count("sale.order", &sale).await.unwrap(),
        2290
    );
    assert!(replay.paths().iter().all(|p| p.starts_with("/xmlrpc/2/")));
}

#[tokio::test]
async fn the_xml_rpc_calls_send_what_the_recordings_sent() {
    let replay = Replay::start(odoo18_xmlrpc).await;
    let session = session(&replay, Protocol::XmlRpc, "api@example.com").await;

    session.search_read(&page_of_five()).await.unwrap();

    for (request, case) in replay.requests().iter().zip(["01-", "03-", "23-"]) {
        let recorded = support::case("odoo-18.0", case).request_body.unwrap();
        let expected = xmlrpc::decode_call(std::str::from_utf8(&recorded).unwrap()).unwrap();
        let sent = xmlrpc::decode_call(std::str::from_utf8(&request.body).unwrap()).unwrap();
        assert_eq!(sent, expected, "{case}");
        assert_eq!(request.path, support::case("odoo-18.0", case).path);
    }
}

#[tokio::test]
async fn an_odoo_19_server_is_detected_and_read_over_json2() {
    let replay = Replay::start(odoo19_json2).await;

    let session = session(&replay, Protocol::Auto, "api@example.com").await;
    let orders = session.search_read(&page_of_five()).await.unwrap();

    assert_eq!(
        (session.protocol(), session.uid()),
        (WireProtocol::Json2, 7)
    );
    assert_eq!(orders.len(), 5);
    assert!(session.can_read("sale.order").await.unwrap());
    assert!(!session.units(&[1, 4, 5]).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_json2_search_read_sends_what_the_recording_sent() {
    let replay = Replay::start(odoo19_json2).await;
    let session = session(&replay, Protocol::Auto, "api@example.com").await;

    session.search_read(&page_of_five()).await.unwrap();

    let sent = replay.requests().last().unwrap().clone();
    assert_eq!(sent.json(), recorded_request("odoo-19.0", "03-"));
    assert_eq!(sent.header("X-Odoo-Database"), Some("prepstation19"));
    assert_eq!(sent.header("Authorization"), Some("bearer <API_KEY>"));
}

#[tokio::test]
async fn the_json2_access_check_and_count_send_what_the_recordings_sent() {
    let replay = Replay::start(odoo19_json2).await;
    let session = session(&replay, Protocol::Auto, "api@example.com").await;
    let sale = Domain::parse(r#"[["state","in",["sale"]]]"#).unwrap();

    session.can_read("sale.order").await.unwrap();
    let access = replay.requests().last().unwrap().json();
    let count = session.search_count("sale.order", &sale).await.unwrap();

    assert_eq!(access, recorded_request("odoo-19.0", "21-"));
    assert_eq!(
        replay.requests().last().unwrap().json(),
        recorded_request("odoo-19.0", "07-")
    );
    assert_eq!(count, 779);
}

#[tokio::test]
async fn a_json2_key_of_another_user_fails_authentication() {
    let replay = Replay::start(odoo19_json2).await;
    let server = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap();

    let error = server
        .authenticate("prepstation19", "someone@example.com", key())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
}

#[tokio::test]
async fn a_wrong_json2_key_fails_authentication_without_retry() {
    let replay = Replay::start(odoo19_json2).await;
    let server = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap();

    let error = server
        .authenticate(
            "prepstation19",
            "api@example.com",
            SecretString::from("deadbeef"),
        )
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(
        replay
            .paths()
            .iter()
            .filter(|p| p.starts_with("/json/2/"))
            .count(),
        1
    );
}

#[tokio::test]
async fn an_unknown_json2_database_is_database_not_found() {
    let replay = Replay::start(odoo19_json2).await;
    let server = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap();

    let error = server
        .authenticate("no_such_db", "api@example.com", key())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::DatabaseNotFound);
}

#[tokio::test]
async fn json_rpc_can_be_chosen_on_19() {
    let replay = Replay::start(odoo19_json2).await;

    let server = OdooServer::connect(&replay.url(), Protocol::JsonRpc, &options())
        .await
        .unwrap();

    assert_eq!(
        (server.protocol(), server.version().major),
        (WireProtocol::JsonRpc, 19)
    );
    assert_eq!(replay.paths(), ["/jsonrpc"]);
}

#[tokio::test]
async fn json2_chosen_on_18_is_an_unsupported_version() {
    let replay = Replay::start(odoo18_jsonrpc).await;

    let error = OdooServer::connect(&replay.url(), Protocol::Json2, &options())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::UnsupportedVersion);
}

#[tokio::test]
async fn a_server_older_than_14_is_an_unsupported_version() {
    let replay = Replay::start(|request: &Request| match request.path.as_str() {
        "/jsonrpc" => jsonrpc_result(serde_json::json!({
            "server_version": "13.0", "server_version_info": [13, 0, 0, "final", 0, ""],
            "server_serie": "13.0", "protocol_version": 1
        })),
        _ => not_found_page(),
    })
    .await;

    let error = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap_err();

    assert_eq!(error.code(), "ODOO_UNSUPPORTED_VERSION");
}

#[tokio::test]
async fn a_login_redirect_is_never_followed_nor_taken_for_an_answer() {
    let replay = Replay::start(|request: &Request| match request.path.as_str() {
        "/web/login" => synthesized(200, "text/html", "", "<html>login</html>"),
        _ => recorded("odoo-18.0", "96-"),
    })
    .await;

    let error = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::UnexpectedResponse);
    assert!(!replay.paths().iter().any(|p| p.starts_with("/web/login")));
}

#[tokio::test]
async fn an_html_page_is_an_unexpected_response() {
    let replay = Replay::start(|_: &Request| {
        synthesized(200, "text/html", "", "<!doctype html><p>Welcome</p>")
    })
    .await;

    let error = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::UnexpectedResponse);
}

#[tokio::test]
async fn gateway_errors_are_retried_until_the_server_answers() {
    let replay = Replay::start(|request: &Request| {
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        match request.path.as_str() {
            "/web/version" => not_found_page(),
            _ if CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 => {
                synthesized(503, "text/html", "", "<html>busy</html>")
            }
            _ => recorded("odoo-18.0", "02-"),
        }
    })
    .await;

    let server = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap();

    assert_eq!(server.version().major, 18);
    assert_eq!(
        replay.paths().iter().filter(|p| *p == "/jsonrpc").count(),
        3
    );
}

#[tokio::test]
async fn rate_limiting_is_retried_after_the_delay_asked_then_reported() {
    let replay = Replay::start(|_: &Request| {
        synthesized(429, "text/html", "Retry-After: 0\r\n", "slow down")
    })
    .await;

    let error = OdooServer::connect(&replay.url(), Protocol::Auto, &options())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::RateLimited);
    assert_eq!(error.hint(), "increase sync interval");
    assert_eq!(replay.requests().len(), 3);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let replay = Replay::start(|_: &Request| Reply::Hang).await;
    let mut options = options();
    options.timeouts.request = Duration::from_millis(100);
    options.retry.max_attempts = 2;

    let error = OdooServer::connect(&replay.url(), Protocol::Auto, &options)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(replay.requests().len(), 2);
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };

    let url = format!("http://127.0.0.1:{port}");
    let error = OdooServer::connect(&url, Protocol::Auto, &options())
        .await
        .unwrap_err();

    assert_eq!(error.code(), "ODOO_NETWORK");
}

#[tokio::test]
async fn a_private_address_is_refused_before_any_request_when_not_allowed() {
    let replay = Replay::start(odoo18_jsonrpc).await;
    let mut options = options();
    options.network = NetworkPolicy {
        allow_http: true,
        allow_private: false,
    };

    let error = OdooServer::connect(&replay.url(), Protocol::Auto, &options)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::UrlNotAllowed);
    assert!(replay.requests().is_empty());
}
