//! What the client logs: never the API key, never the login. A test binary of its own, so
//! that no other test shares the process while the log subscriber is installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use odoo_client::{ClientOptions, Domain, NetworkPolicy, OdooServer, Protocol, RetryPolicy};
use odoo_sandbox::{Sandbox, SandboxConfig, UserKind};
use secrecy::SecretString;

async fn read_a_little(sandbox: &Sandbox, protocol: Protocol) {
    let options = ClientOptions {
        network: NetworkPolicy::allow_all(),
        retry: RetryPolicy::never(),
        ..ClientOptions::default()
    };
    let user = sandbox.user(UserKind::SalesAll);
    let server = OdooServer::connect(&sandbox.url(), protocol, &options)
        .await
        .unwrap();
    let key = SecretString::from(user.api_key);
    let session = server
        .authenticate(sandbox.database(), &user.login, key)
        .await
        .unwrap();
    session.current_user().await.unwrap();
    session
        .search_count("sale.order", &Domain::default())
        .await
        .unwrap();
    let wrong = SecretString::from("deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");
    let _ = server
        .authenticate(sandbox.database(), &user.login, wrong)
        .await;
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// Collects everything logged, at every level, while a test runs.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn neither_the_api_key_nor_the_login_is_ever_logged() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for version in [17, 19] {
        let sandbox = Sandbox::start(SandboxConfig::new(version)).await.unwrap();
        for protocol in [Protocol::Auto, Protocol::JsonRpc, Protocol::XmlRpc] {
            read_a_little(&sandbox, protocol).await;
        }
        let user = sandbox.user(UserKind::SalesAll);
        let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();

        assert!(
            logs.contains("odoo server detected"),
            "{version}: nothing logged"
        );
        assert!(!logs.contains(&user.api_key), "{version}: key logged");
        assert!(!logs.contains(&user.login), "{version}: login logged");
        assert!(
            !logs.contains("deadbeefdeadbeef"),
            "{version}: wrong key logged"
        );
    }
}
