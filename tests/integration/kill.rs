//! The real `prepsync` process killed with SIGKILL at several points of a long sync against
//! the sandbox, then restarted: the end state has every order of the scope exactly once.

use std::time::Duration;

use odoo_sandbox::{CallMatcher, Dataset, Fault, FaultRule, Sandbox, SandboxConfig, UserKind};
use prepsync_tests::free_port;
use prepsync_tests::{ServiceProcess, TestDatabase, JWT_SECRET};
use serde_json::{json, Value};

struct Service {
    port: u16,
    env: Vec<(&'static str, String)>,
    process: Option<ServiceProcess>,
}

impl Service {
    fn new(db: &TestDatabase) -> Self {
        let port = free_port();
        let env = vec![
            ("DATABASE_URL", db.url().to_owned()),
            (
                "PREPSYNC_MASTER_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
            ),
            ("PREPSYNC_JWT_SECRET", JWT_SECRET.to_owned()),
            ("PREPSYNC_LISTEN", format!("127.0.0.1:{port}")),
            ("PREPSYNC_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
            ("PREPSYNC_ALLOW_INSECURE_HTTP", "true".to_owned()),
            ("PREPSYNC_SYNC_STALE_SECONDS", "3".to_owned()),
            ("PREPSYNC_ODOO_RETRY_MIN_DELAY_MS", "10".to_owned()),
        ];
        Self {
            port,
            env,
            process: None,
        }
    }

    fn start(&mut self) {
        let process = ServiceProcess::start(crate::PREPSYNC, &["serve"], &self.env);
        process.wait_for_output("serving", Duration::from_secs(60));
        self.process = Some(process);
    }

    fn kill(&mut self) {
        if let Some(process) = self.process.as_mut() {
            process.signal("KILL");
            process.wait_exit(Duration::from_secs(10));
        }
        self.process = None;
    }

    async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = prepsync_tests::http_client()
            .post(format!("http://127.0.0.1:{}/graphql", self.port))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_sync_killed_at_several_points_ends_with_every_order_exactly_once() {
    let db = TestDatabase::create().await;
    let config = SandboxConfig::new(18).with_dataset(Dataset::Generated {
        orders: 600,
        seed: 7,
    });
    let sandbox = Sandbox::start(config).await.unwrap();
    let slow = FaultRule::new(Fault::latency(Duration::from_millis(40)))
        .matching(CallMatcher::method("search_read"))
        .times(100_000);
    sandbox.control().inject(slow);

    let mut service = Service::new(&db);
    service.start();
    let token = api::auth::issue_token(
        &prepsync_tests::TestApp::config(&db).jwt,
        "acme",
        "admin",
        "tester",
        Duration::from_secs(600),
    )
    .unwrap();
    let user = sandbox.user(UserKind::SalesAll);
    let create =
        "mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }";
    let input = json!({ "name": "S", "url": sandbox.url(), "database": sandbox.database(), "username": user.login, "apiKey": user.api_key, "batchSize": 10 });
    let connection = service
        .graphql(&token, create, json!({ "input": input }))
        .await["data"]["createConnection"]["id"]
        .clone();
    let tested = service
        .graphql(
            &token,
            "mutation($id: ID!) { testConnection(id: $id) { matchingOrders } }",
            json!({ "id": connection }),
        )
        .await;
    let expected = tested["data"]["testConnection"]["matchingOrders"]
        .as_i64()
        .unwrap();

    let sync_now = "mutation($id: ID!) { syncNow(connectionId: $id) { id status } }";
    for pause in [700, 1300, 400] {
        service
            .graphql(&token, sync_now, json!({ "id": connection }))
            .await;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        service.kill();
        tokio::time::sleep(Duration::from_millis(3200)).await;
        service.start();
    }

    let run = service
        .graphql(&token, sync_now, json!({ "id": connection }))
        .await["data"]["syncNow"]
        .clone();
    let query =
        "query($id: ID!) { syncRun(id: $id) { status counts { imported } error { code } } }";
    let mut last = Value::Null;
    for _ in 0..600 {
        last = service
            .graphql(&token, query, json!({ "id": run["id"] }))
            .await["data"]["syncRun"]
            .clone();
        if !matches!(last["status"].as_str(), Some("PENDING" | "RUNNING")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["status"], "RESOLUTION_REQUIRED", "{last}");

    let interrupted = count(&db, "SELECT count(*) FROM events WHERE event_type = 'SyncFailed' AND payload -> 'failure' ->> 'code' = 'INTERRUPTED'").await;
    assert!(
        interrupted >= 1,
        "the killed runs were closed as interrupted"
    );
    let imported = count(
        &db,
        "SELECT count(*) FROM events WHERE event_type = 'OrderImported'",
    )
    .await;
    let distinct = count(
        &db,
        "SELECT count(DISTINCT aggregate_id) FROM events WHERE event_type = 'OrderImported'",
    )
    .await;
    let held = count(&db, "SELECT count(*) FROM held_orders WHERE in_scope").await;
    assert_eq!(
        (imported, distinct, held),
        (expected, expected, expected),
        "no order duplicated, none missing"
    );
    service.kill();
}
