//! `prepsync serve` replicas as separate processes on one test database, with a fast
//! scheduler: a one-second minimum interval, a 100 ms tick and a three-second lease.

use std::time::Duration;

use odoo_sandbox::{Dataset, Sandbox, SandboxConfig};
use serde_json::{json, Value};

use crate::app::{http_client, TestApp, JWT_SECRET};
use crate::binary::ServiceProcess;
use crate::database::TestDatabase;
use crate::Graphql;

/// The master key every replica of a test shares (base64 of 32 bytes).
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A free TCP port of 127.0.0.1 for a process under test to listen on.
///
/// Ports come from below the kernel's ephemeral range (32768 and up): a port the kernel
/// handed out there may, between this check and the process's bind, become the local end
/// of one of the many client connections the tests open. Each call in this process moves
/// on to the next port, so two tests never get the same one.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};

    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let offset = (std::process::id() % u32::from(SPAN)) as u16;
    loop {
        let step = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST + (offset + step % SPAN) % SPAN;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// One `prepsync serve` replica with a fast scheduler, stopped until [`Replica::start`].
#[derive(Debug)]
pub struct Replica {
    binary: String,
    port: u16,
    env: Vec<(&'static str, String)>,
    process: Option<ServiceProcess>,
}

impl Replica {
    /// A replica of `binary` (the tests' `prepsync`) on `db`, on a port of its own.
    pub fn new(binary: &str, db: &TestDatabase) -> Self {
        let port = free_port();
        let env = vec![
            ("DATABASE_URL", db.url().to_owned()),
            ("PREPSYNC_MASTER_KEY", MASTER_KEY.to_owned()),
            ("PREPSYNC_JWT_SECRET", JWT_SECRET.to_owned()),
            ("PREPSYNC_LISTEN", format!("127.0.0.1:{port}")),
            ("PREPSYNC_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
            ("PREPSYNC_ALLOW_INSECURE_HTTP", "true".to_owned()),
            ("PREPSYNC_MIN_INTERVAL_SECONDS", "1".to_owned()),
            ("PREPSYNC_SCHEDULER_TICK_MS", "100".to_owned()),
            ("PREPSYNC_SYNC_STALE_SECONDS", "3".to_owned()),
            ("PREPSYNC_ODOO_RETRY_MIN_DELAY_MS", "10".to_owned()),
        ];
        Self {
            binary: binary.to_owned(),
            port,
            env,
            process: None,
        }
    }

    /// The same replica with one more setting.
    pub fn with(mut self, key: &'static str, value: &str) -> Self {
        self.env.push((key, value.to_owned()));
        self
    }

    /// Starts the process and waits until it serves.
    pub fn start(&mut self) -> &mut Self {
        let process = ServiceProcess::start(&self.binary, &["serve"], &self.env);
        process.wait_for_output("serving", Duration::from_secs(60));
        self.process = Some(process);
        self
    }

    /// Sends SIGTERM and returns the exit code; `None` if it was not running or did not exit.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut process = self.process.take()?;
        process.signal("TERM");
        process.wait_exit(Duration::from_secs(20))
    }

    /// Kills the process with SIGKILL and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.signal("KILL");
            process.wait_exit(Duration::from_secs(10));
        }
    }

    /// Everything the running process printed so far; `None` while stopped.
    pub fn output(&self) -> Option<String> {
        self.process.as_ref().map(ServiceProcess::output)
    }
}

impl Graphql for Replica {
    async fn graphql(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = http_client()
            .post(format!("http://127.0.0.1:{}/graphql", self.port))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }
}

/// An admin token of `account` that every replica on `db` accepts.
pub fn admin_token(db: &TestDatabase, account: &str) -> String {
    api::auth::issue_token(
        &TestApp::config(db).jwt,
        account,
        "admin",
        "tester",
        Duration::from_secs(600),
    )
    .unwrap()
}

/// A sandbox behaving like Odoo 18 with `orders` generated orders (seed 5).
pub async fn generated_sandbox(orders: usize) -> Sandbox {
    let config = SandboxConfig::new(18).with_dataset(Dataset::Generated { orders, seed: 5 });
    Sandbox::start(config).await.unwrap()
}
