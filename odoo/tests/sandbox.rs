//! The client over real HTTP against the Odoo sandbox, for every supported version (14–19)
//! and each protocol that version has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU32;
use std::time::Duration;

use odoo_client::domain::check_fields;
use odoo_client::fields::FIELD_ATTRIBUTES;
use odoo_client::models::{line_fields, order_fields, OrderStatus, SalesScope};
use odoo_client::{
    ClientOptions, Domain, ErrorKind, NetworkPolicy, OdooError, OdooServer, OdooSession, Protocol,
    RetryPolicy, Timeouts, WireProtocol,
};
use odoo_sandbox::{CallMatcher, Fault, FaultRule, Sandbox, SandboxConfig, UserKind};
use secrecy::SecretString;

const VERSIONS: std::ops::RangeInclusive<u8> = 14..=19;

fn options() -> ClientOptions {
    ClientOptions {
        network: NetworkPolicy::allow_all(),
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(5),
        },
        retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(50),
            max_total_delay: Duration::from_millis(500),
        },
        ..ClientOptions::default()
    }
}

/// The protocols a version offers, as asked for and as expected on the wire.
fn protocols(version: u8) -> Vec<(Protocol, WireProtocol)> {
    let mut protocols = vec![
        (Protocol::XmlRpc, WireProtocol::XmlRpc),
        (Protocol::JsonRpc, WireProtocol::JsonRpc),
    ];
    let auto = match version >= 19 {
        true => WireProtocol::Json2,
        false => WireProtocol::JsonRpc,
    };
    protocols.push((Protocol::Auto, auto));
    protocols
}

async fn start(version: u8) -> Sandbox {
    Sandbox::start(SandboxConfig::new(version)).await.unwrap()
}

async fn connect(sandbox: &Sandbox, protocol: Protocol) -> Result<OdooServer, OdooError> {
    OdooServer::connect(&sandbox.url(), protocol, &options()).await
}

async fn login(
    sandbox: &Sandbox,
    protocol: Protocol,
    kind: UserKind,
) -> Result<OdooSession, OdooError> {
    let user = sandbox.user(kind);
    let server = connect(sandbox, protocol).await?;
    server
        .authenticate(
            sandbox.database(),
            &user.login,
            SecretString::from(user.api_key),
        )
        .await
}

fn limit(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

async fn read_everything(
    sandbox: &Sandbox,
    protocol: Protocol,
    wire: WireProtocol,
) -> Result<(), OdooError> {
    let session = login(sandbox, protocol, UserKind::SalesAll).await?;
    let version = session.version().clone();
    assert_eq!(session.protocol(), wire);

    assert!(session.can_read("sale.order").await?);
    let order_catalog = session.fields_get("sale.order", &FIELD_ATTRIBUTES).await?;
    let line_catalog = session
        .fields_get("sale.order.line", &FIELD_ATTRIBUTES)
        .await?;
    assert_eq!(
        order_catalog.missing(&order_fields(&version)),
        Vec::<&str>::new()
    );
    assert_eq!(
        line_catalog.missing(&line_fields(&version)),
        Vec::<&str>::new()
    );

    let orders = session
        .sales_orders(Domain::default(), "id asc", limit(20), 0)
        .await?;
    let line_ids: Vec<i64> = orders.iter().flat_map(|o| o.line_ids.clone()).collect();
    let lines = session.order_lines(&line_ids).await?;
    let product_ids: Vec<i64> = lines
        .iter()
        .filter_map(|l| l.product.as_ref().map(|p| p.id))
        .collect();
    let unit_ids: Vec<i64> = lines
        .iter()
        .filter_map(|l| l.unit.as_ref().map(|u| u.id))
        .collect();
    assert!(!orders.is_empty() && !lines.is_empty());
    assert!(!session.products(&product_ids).await?.is_empty());
    assert!(!session.units(&unit_ids).await?.is_empty());

    let count = session
        .search_count("sale.order", &Domain::default())
        .await?;
    assert!(count >= orders.len() as u64);
    assert_eq!(
        session.current_user().await?.login,
        sandbox.user(UserKind::SalesAll).login
    );
    Ok(())
}

#[tokio::test]
async fn json2_sessions_read_orders_and_refuse_what_odoo_refuses() {
    let sandbox = start(19).await;

    let result = read_everything(&sandbox, Protocol::Auto, WireProtocol::Json2).await;
    let no_access = login(&sandbox, Protocol::Auto, UserKind::NoSalesAccess)
        .await
        .unwrap();
    let server = connect(&sandbox, Protocol::Auto).await.unwrap();
    let key = SecretString::from(sandbox.user(UserKind::SalesAll).api_key);
    let wrong_login = server
        .authenticate(sandbox.database(), "nobody@example.com", key)
        .await;

    assert!(result.is_ok(), "{result:?}");
    assert!(!no_access.can_read("sale.order").await.unwrap());
    assert_eq!(
        wrong_login.unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(
        fault_on_orders(19, Protocol::Auto, Fault::Status { status: 503 }, 2)
            .await
            .ok(),
        Some(3)
    );
}

#[tokio::test]
async fn every_version_and_protocol_reads_orders_lines_products_and_units() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        for (protocol, wire) in protocols(version) {
            let result = read_everything(&sandbox, protocol, wire).await;
            assert!(result.is_ok(), "{version} {protocol:?}: {result:?}");
        }
    }
}

#[tokio::test]
async fn every_call_the_client_sent_is_in_the_closed_list() {
    for version in [14, 17, 19] {
        let sandbox = start(version).await;
        for (protocol, wire) in protocols(version) {
            read_everything(&sandbox, protocol, wire).await.unwrap();
        }

        let calls = sandbox.control().calls();
        let allowed: Vec<&str> = odoo_client::Method::ALL.iter().map(|m| m.name()).collect();
        for call in calls.iter().filter(|c| c.protocol != "http") {
            let method = call.method.as_deref().unwrap_or("");
            assert!(allowed.contains(&method), "{version}: {method} sent");
        }
        assert!(calls.len() > 20);
    }
}

#[tokio::test]
async fn the_sales_scope_tells_own_documents_only_users_apart() {
    let kinds = [
        (UserKind::SalesAll, SalesScope::AllDocuments),
        (UserKind::OwnDocumentsOnly, SalesScope::OwnDocumentsOnly),
        (UserKind::NoSalesAccess, SalesScope::NoAccess),
    ];
    for version in VERSIONS {
        let sandbox = start(version).await;
        for (protocol, _) in protocols(version) {
            for (kind, scope) in kinds {
                let session = login(&sandbox, protocol, kind).await.unwrap();

                assert_eq!(
                    session.sales_scope().await.unwrap(),
                    scope,
                    "{version} {protocol:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_detected_version_and_protocol_match_the_server() {
    for version in VERSIONS {
        let sandbox = start(version).await;

        let server = connect(&sandbox, Protocol::Auto).await.unwrap();

        assert_eq!(server.version().major, u32::from(version));
        assert_eq!(
            server.protocol() == WireProtocol::Json2,
            version >= 19,
            "{version}"
        );
    }
}

#[tokio::test]
async fn a_wrong_api_key_fails_authentication_everywhere() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        let user = sandbox.user(UserKind::SalesAll);
        for (protocol, _) in protocols(version) {
            let server = connect(&sandbox, protocol).await.unwrap();
            let key = SecretString::from("deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");

            let error = server
                .authenticate(sandbox.database(), &user.login, key)
                .await
                .unwrap_err();

            assert_eq!(
                error.kind(),
                ErrorKind::AuthenticationFailed,
                "{version} {protocol:?}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_username_fails_authentication_everywhere() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        let user = sandbox.user(UserKind::SalesAll);
        for (protocol, _) in protocols(version) {
            let server = connect(&sandbox, protocol).await.unwrap();

            let key = SecretString::from(user.api_key.clone());
            let error = server
                .authenticate(sandbox.database(), "nobody@example.com", key)
                .await
                .unwrap_err();

            assert_eq!(
                error.kind(),
                ErrorKind::AuthenticationFailed,
                "{version} {protocol:?}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_database_is_database_not_found_everywhere() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        let user = sandbox.user(UserKind::SalesAll);
        for (protocol, _) in protocols(version) {
            let server = connect(&sandbox, protocol).await.unwrap();

            let key = SecretString::from(user.api_key.clone());
            let error = server
                .authenticate("no_such_db", &user.login, key)
                .await
                .unwrap_err();

            assert_eq!(
                error.kind(),
                ErrorKind::DatabaseNotFound,
                "{version} {protocol:?}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn the_database_list_names_the_sandbox_database() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        let server = connect(&sandbox, Protocol::Auto).await.unwrap();

        let databases = server.list_databases().await.unwrap().unwrap_or_default();

        assert!(
            databases.contains(&sandbox.database().to_owned()),
            "{version}: {databases:?}"
        );
    }
}

#[tokio::test]
async fn a_user_without_sales_rights_is_told_so_everywhere() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        for (protocol, _) in protocols(version) {
            let session = login(&sandbox, protocol, UserKind::NoSalesAccess)
                .await
                .unwrap();

            let can_read = session.can_read("sale.order").await.unwrap();
            let error = session
                .sales_orders(Domain::default(), "id asc", limit(5), 0)
                .await
                .unwrap_err();

            assert!(!can_read, "{version} {protocol:?}");
            assert_eq!(
                error.kind(),
                ErrorKind::PermissionDenied,
                "{version} {protocol:?}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn odoo_13_is_an_unsupported_version() {
    let sandbox = start(13).await;

    for protocol in [Protocol::Auto, Protocol::JsonRpc, Protocol::XmlRpc] {
        let error = connect(&sandbox, protocol).await.unwrap_err();

        assert_eq!(error.code(), "ODOO_UNSUPPORTED_VERSION", "{protocol:?}");
    }
}

#[tokio::test]
async fn json2_is_refused_below_19() {
    let sandbox = start(18).await;

    let error = connect(&sandbox, Protocol::Json2).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::UnsupportedVersion);
}

#[tokio::test]
async fn an_expired_key_on_19_fails_authentication() {
    let sandbox = start(19).await;
    let user = sandbox.user(UserKind::SalesAll);
    let server = connect(&sandbox, Protocol::Auto).await.unwrap();

    let key = SecretString::from(user.expired_api_key.unwrap_or_default());
    let error = server
        .authenticate(sandbox.database(), &user.login, key)
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
}

#[tokio::test]
async fn locked_orders_are_recognised_in_every_version() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        let session = login(&sandbox, Protocol::JsonRpc, UserKind::SalesAll)
            .await
            .unwrap();

        let orders = session
            .sales_orders(Domain::default(), "id asc", limit(200), 0)
            .await
            .unwrap();

        assert!(
            orders.iter().any(|o| o.status == OrderStatus::Locked),
            "{version}"
        );
        assert!(
            orders.iter().any(|o| o.status == OrderStatus::Confirmed),
            "{version}"
        );
    }
}

#[tokio::test]
async fn a_filter_on_a_non_stored_field_is_refused_before_it_is_sent() {
    for version in [16, 18, 19] {
        let sandbox = start(version).await;
        let session = login(&sandbox, Protocol::JsonRpc, UserKind::SalesAll)
            .await
            .unwrap();
        let catalog = session
            .fields_get("sale.order", &FIELD_ATTRIBUTES)
            .await
            .unwrap();

        let filter = Domain::parse("[('expected_date', '<', '2030-01-01 00:00:00')]").unwrap();
        let error = check_fields(&filter, &catalog).unwrap_err();

        assert_eq!(error.kind(), ErrorKind::InvalidFilter);
        assert!(error.detail().contains("expected_date"), "{version}");
    }
}

#[tokio::test]
async fn a_user_filter_is_applied_by_the_server() {
    for version in VERSIONS {
        let sandbox = start(version).await;
        let session = login(&sandbox, Protocol::XmlRpc, UserKind::SalesAll)
            .await
            .unwrap();

        let filter =
            Domain::parse("['|', ('state', '=', 'draft'), ('state', '=', 'cancel')]").unwrap();
        let orders = session
            .sales_orders(filter.clone(), "id asc", limit(50), 0)
            .await
            .unwrap();
        let all = session
            .search_count("sale.order", &Domain::default())
            .await
            .unwrap();

        assert!(
            orders
                .iter()
                .all(|o| o.state == "draft" || o.state == "cancel"),
            "{version}"
        );
        assert!(
            session.search_count("sale.order", &filter).await.unwrap() < all,
            "{version}"
        );
    }
}

async fn fault_on_orders(
    version: u8,
    protocol: Protocol,
    fault: Fault,
    times: usize,
) -> Result<usize, OdooError> {
    let sandbox = start(version).await;
    let session = login(&sandbox, protocol, UserKind::SalesAll).await?;
    let matcher = CallMatcher::model_method("sale.order", "search_read");
    sandbox
        .control()
        .inject(FaultRule::new(fault).matching(matcher.clone()).times(times));

    let result = session
        .sales_orders(Domain::default(), "id asc", limit(5), 0)
        .await;
    result.map(|_| sandbox.control().count_calls(&matcher))
}

#[tokio::test]
async fn transient_faults_are_retried_until_the_server_answers() {
    for (version, protocol) in [
        (18, Protocol::XmlRpc),
        (18, Protocol::JsonRpc),
        (19, Protocol::JsonRpc),
        (19, Protocol::Auto),
    ] {
        for fault in [
            Fault::Status { status: 503 },
            Fault::TooManyRequests { retry_after: 0 },
            Fault::ConnectionReset,
        ] {
            let calls = fault_on_orders(version, protocol, fault.clone(), 2).await;

            assert_eq!(calls.ok(), Some(3), "{version} {protocol:?} {fault:?}");
        }
    }
}

#[tokio::test]
async fn persistent_faults_are_classified() {
    let cases = [
        (
            Fault::TooManyRequests { retry_after: 0 },
            ErrorKind::RateLimited,
        ),
        (Fault::Status { status: 500 }, ErrorKind::ServerError),
        (Fault::Status { status: 502 }, ErrorKind::ServerError),
        (Fault::HtmlPage, ErrorKind::UnexpectedResponse),
        (Fault::MalformedBody, ErrorKind::UnexpectedResponse),
        (Fault::ConnectionReset, ErrorKind::Network),
    ];
    for (version, protocol) in [
        (18, Protocol::XmlRpc),
        (18, Protocol::JsonRpc),
        (19, Protocol::XmlRpc),
        (19, Protocol::Auto),
    ] {
        for (fault, kind) in &cases {
            let error = fault_on_orders(version, protocol, fault.clone(), usize::MAX)
                .await
                .unwrap_err();

            assert_eq!(
                error.kind(),
                *kind,
                "{version} {protocol:?} {fault:?}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let sandbox = start(18).await;
    let mut options = options();
    options.timeouts.request = Duration::from_millis(200);
    options.retry.max_attempts = 1;
    let server = OdooServer::connect(&sandbox.url(), Protocol::Auto, &options)
        .await
        .unwrap();
    let user = sandbox.user(UserKind::SalesAll);
    let session = server
        .authenticate(
            sandbox.database(),
            &user.login,
            SecretString::from(user.api_key),
        )
        .await
        .unwrap();
    sandbox
        .control()
        .inject(FaultRule::new(Fault::Hang).times(usize::MAX));

    let error = session
        .search_count("sale.order", &Domain::default())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn urls_the_deployment_forbids_are_refused_before_any_call() {
    let sandbox = start(18).await;
    let public_only = NetworkPolicy {
        allow_http: true,
        allow_private: false,
    };
    let https_only = NetworkPolicy {
        allow_http: false,
        allow_private: true,
    };
    let cases = [
        (sandbox.url(), public_only, ErrorKind::UrlNotAllowed),
        (sandbox.url(), https_only, ErrorKind::UrlNotAllowed),
        (
            "https://".to_owned(),
            NetworkPolicy::allow_all(),
            ErrorKind::InvalidUrl,
        ),
    ];

    for (url, network, kind) in cases {
        let options = ClientOptions {
            network,
            ..options()
        };
        let error = OdooServer::connect(&url, Protocol::Auto, &options)
            .await
            .unwrap_err();

        assert_eq!(error.kind(), kind, "{url}");
    }
    assert!(sandbox.control().calls().is_empty());
}
