//! Subscriptions over WebSocket (graphql-transport-ws) take the bearer token in the
//! `connection_init` payload.

use futures::{SinkExt, StreamExt};
use prepsync_tests::TestApp;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/graphql/ws` with the graphql-transport-ws protocol.
async fn open(app: &TestApp) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket opens")
        .0
}

/// Opens `/graphql/ws`, sends `connection_init` with `payload` and returns the first answer
/// (or `None` when the server closes the socket instead).
async fn first_answer(app: &TestApp, payload: Value) -> Option<Value> {
    let mut socket = open(app).await;
    let init = json!({ "type": "connection_init", "payload": payload });
    socket.send(Message::text(init.to_string())).await.unwrap();

    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Text(text)) => return serde_json::from_str(&text).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
    None
}

#[tokio::test]
async fn a_valid_token_in_connection_init_is_acknowledged() {
    let app = TestApp::spawn().await;
    let token = app.token("acme", "auditor");
    let answer = first_answer(&app, json!({ "authorization": format!("Bearer {token}") })).await;
    assert_eq!(
        answer.map(|a| a["type"].clone()),
        Some(json!("connection_ack"))
    );
}

/// Opens `/graphql/ws` and waits for the server to end the socket, up to `limit`.
async fn closed_within(app: &TestApp, init: Option<Value>, limit: std::time::Duration) -> bool {
    let mut socket = open(app).await;
    if let Some(payload) = init {
        let init = json!({ "type": "connection_init", "payload": payload });
        socket.send(Message::text(init.to_string())).await.unwrap();
    }
    let drained = async {
        while let Some(Ok(message)) = socket.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    tokio::time::timeout(limit, drained).await.is_ok()
}

#[tokio::test]
async fn a_socket_whose_token_expires_is_closed() {
    let app = TestApp::spawn().await;
    let token = api::auth::issue_token(
        &app.config.jwt,
        "acme",
        "admin",
        "tester",
        std::time::Duration::from_secs(2),
    )
    .unwrap();
    let payload = json!({ "authorization": format!("Bearer {token}") });
    assert!(closed_within(&app, Some(payload), std::time::Duration::from_secs(8)).await);
}

#[tokio::test]
async fn a_socket_that_never_authenticates_is_closed() {
    let app = TestApp::spawn().await;
    assert!(closed_within(&app, None, std::time::Duration::from_secs(15)).await);
}

#[tokio::test]
async fn an_oversized_message_is_refused_before_authentication() {
    let app = TestApp::spawn().await;
    let payload = json!({ "authorization": "x".repeat(200_000) });
    assert!(closed_within(&app, Some(payload), std::time::Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_missing_or_forged_token_in_connection_init_is_refused() {
    let app = TestApp::spawn().await;
    for payload in [
        json!({}),
        json!({ "authorization": "Bearer forged.token.here" }),
    ] {
        let answer = first_answer(&app, payload.clone()).await;
        let acknowledged = answer
            .as_ref()
            .is_some_and(|a| a["type"] == "connection_ack");
        assert!(!acknowledged, "{payload}: {answer:?}");
    }
}

#[tokio::test]
async fn a_sync_runs_progress_arrives_over_the_subscription_until_it_ends() {
    use odoo_sandbox::{Sandbox, SandboxConfig, UserKind};

    let app = TestApp::spawn().await;
    let token = app.token("acme", "admin");
    let sandbox = Sandbox::start(SandboxConfig::new(18)).await.unwrap();
    let user = sandbox.user(UserKind::SalesAll);
    let input = json!({ "name": "S", "url": sandbox.url(), "database": sandbox.database(), "username": user.login, "apiKey": user.api_key, "batchSize": 20 });
    let created = crate::connections::create(&app, &token, input).await;
    let connection = created["data"]["createConnection"]["id"].clone();
    let started = app
        .graphql(
            &token,
            "mutation($id: ID!) { syncNow(connectionId: $id) { id } }",
            json!({ "id": connection }),
        )
        .await;
    let run_id = started["data"]["syncNow"]["id"].clone();

    let mut socket = open(&app).await;
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let subscribe = json!({
        "id": "1", "type": "subscribe",
        "payload": { "query": "subscription($id: ID!) { syncRunUpdated(id: $id) { status counts { imported } } }", "variables": { "id": run_id } }
    });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();

    let mut statuses = Vec::new();
    let reading = async {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            match value["type"].as_str() {
                Some("next") => statuses.push(
                    value["payload"]["data"]["syncRunUpdated"]["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                ),
                Some("complete") | Some("error") => break,
                _ => continue,
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), reading)
        .await
        .expect("the subscription completes");
    assert!(!statuses.is_empty());
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("RESOLUTION_REQUIRED"),
        "{statuses:?}"
    );
}
