//! The service running in-process on a random port, with a GraphQL client and tokens.

use std::net::SocketAddr;
use std::time::Duration;

use api::config::{
    DatabaseConfig, JwtConfig, KeyConfig, OdooConfig, PolicyConfig, SchedulerConfig, ServeConfig,
};
use infrastructure::vault::KeyRing;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::database::TestDatabase;

/// The HS256 secret test services accept.
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

/// A running service and its database.
#[derive(Debug)]
pub struct TestApp {
    /// Where it listens.
    pub address: SocketAddr,
    /// Its database.
    pub db: TestDatabase,
    /// Its settings.
    pub config: ServeConfig,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// Settings for a test service on `db`: private networks and plain http allowed, a
    /// fresh master key, [`JWT_SECRET`].
    pub fn config(db: &TestDatabase) -> ServeConfig {
        ServeConfig {
            listen: "127.0.0.1:0".parse().expect("address"),
            max_body_bytes: 262_144,
            database: DatabaseConfig {
                url: db.url().to_owned(),
                max_connections: 10,
            },
            keys: KeyConfig {
                master_key: Some(KeyRing::generate_key()),
                master_key_file: None,
                master_key_id: "k1".into(),
                old_master_keys: None,
            },
            jwt: JwtConfig {
                secret: Some(SecretString::from(JWT_SECRET)),
                public_key: None,
                issuer: None,
                audience: None,
            },
            policy: PolicyConfig {
                allow_insecure_http: true,
                allow_private_networks: true,
                min_interval_seconds: 60,
            },
            odoo: OdooConfig {
                connect_timeout_ms: 2_000,
                request_timeout_ms: 5_000,
                retry_attempts: 3,
                retry_min_delay_ms: 10,
                retry_max_delay_ms: 100,
                retry_total_ms: 1_000,
                sync_lookback_seconds: 600,
                sync_stale_seconds: 900,
                projection_poll_ms: 100,
                reconcile_interval_seconds: 86_400,
                test_connection_per_minute: 1_000,
            },
            scheduler: SchedulerConfig {
                tick_ms: 100,
                max_backoff_seconds: 21_600,
            },
        }
    }

    /// A service on a fresh database with the test settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A service on a fresh database, with settings changed by `customize`.
    pub async fn spawn_with(customize: impl FnOnce(&mut ServeConfig)) -> Self {
        let db = TestDatabase::create().await;
        let mut config = Self::config(&db);
        customize(&mut config);
        let router = api::state::app(db.pool().clone(), &config)
            .await
            .expect("service starts");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("port");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let _ = api::server::serve(listener, router, std::future::pending()).await;
        });
        Self {
            address,
            db,
            config,
            client: http_client(),
            server,
        }
    }

    /// A token for a user of `account` with `role`.
    pub fn token(&self, account: &str, role: &str) -> String {
        api::auth::issue_token(
            &self.config.jwt,
            account,
            role,
            "tester",
            Duration::from_secs(600),
        )
        .expect("token")
    }

    /// Posts a GraphQL document with a token and returns the whole response body.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post(
            Some(token),
            json!({ "query": query, "variables": variables }),
        )
        .await
        .1
    }

    /// Posts a body to `/graphql`, with a bearer token if given; returns status and body.
    pub async fn post(&self, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("http://{}/graphql", self.address))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("service answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A GET on a path of the service; returns status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("http://{}{path}", self.address))
            .send()
            .await
            .expect("service answers");
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An HTTP client for tests (rustls with ring, as the service itself uses).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}
