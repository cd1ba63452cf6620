//! Sync benchmark: orders of ~4 lines generated beforehand and served by the Odoo sandbox in
//! its own process, synced into a fresh PostgreSQL database by the service's own code.
//!
//! `cargo bench -p prepsync-tests --bench sync -- 10000 100000` runs each size and prints:
//! the bare download (the same feed code, no decisions, no writes), the full sync, their
//! ratio and orders per second, an idle re-sync right after it (nothing written inside the
//! look-back window), a re-sync with 1 % of the orders changed, an idle re-sync right after
//! that one (the changed orders re-read inside the window), and the peak resident memory of
//! this process (the sandbox's memory is not counted). For the bare download and the full
//! sync it also prints the CPU seconds spent by this process, the sandbox and the database's
//! server processes, which move far less than wall times on shared cores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use application::ports::ProbeTarget;
use application::sync::{Feed, OrderFeeds};
use domain::account::TimeZone;
use domain::connection::{
    ConnectionName, ConnectionSettings, DatabaseName, OdooUrl, OrderDateRange, Protocol, UrlPolicy,
    Username,
};
use domain::sync_run::SyncCursor;
use infrastructure::odoo::OdooOrderFeeds;
use prepsync_tests::TestApp;
use secrecy::SecretString;
use serde_json::{json, Value};

const BATCH: u16 = 500;

struct SandboxProcess(Child);

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sandbox(orders: usize, port: u16) -> SandboxProcess {
    // Fresh data each time: a data folder kept from an earlier run holds its changes, and its
    // re-syncs would then read them again inside the look-back window.
    let data = std::env::temp_dir().join(format!("prepsync-bench-{orders}"));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_prepsync-under-test"))
        .args([
            "sandbox",
            "--odoo-version",
            "18",
            "--orders",
            &orders.to_string(),
            "--seed",
            "1",
        ])
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    SandboxProcess(child)
}

async fn wait_for(url: &str) -> Vec<Value> {
    let client = prepsync_tests::http_client();
    for _ in 0..1200 {
        if let Ok(response) = client.get(format!("{url}/__sandbox/users")).send().await {
            if let Ok(users) = response.json::<Vec<Value>>().await {
                return users;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the sandbox did not start");
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// CPU seconds (user and system) a process has used so far; zero for one that has gone.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces: the fields counted here follow its closing bracket.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime, in clock ticks of 1/100 s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds used so far by this process, the sandbox and the database's server processes.
async fn cpu_now(app: Option<&TestApp>, sandbox: u32) -> [f64; 3] {
    let database = match app {
        Some(app) => {
            let pids: Vec<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
            )
            .fetch_all(app.db.pool())
            .await
            .unwrap();
            pids.iter().map(|pid| cpu_seconds(pid.unsigned_abs())).sum()
        }
        None => 0.0,
    };
    [
        cpu_seconds(std::process::id()),
        cpu_seconds(sandbox),
        database,
    ]
}

fn cpu_spent(before: [f64; 3], after: [f64; 3]) -> String {
    let spent: Vec<f64> = before.iter().zip(after).map(|(b, a)| a - b).collect();
    format!(
        "CPU {:.2} s: service {:.2}, sandbox {:.2}, PostgreSQL {:.2}",
        spent.iter().sum::<f64>(),
        spent[0],
        spent[1],
        spent[2]
    )
}

async fn bare_download(url: &str, login: &str, key: &str) -> (Duration, u64) {
    let settings = ConnectionSettings {
        name: ConnectionName::parse("bench").unwrap(),
        url: OdooUrl::parse(
            url,
            UrlPolicy {
                allow_insecure_http: true,
                allow_private_networks: true,
            },
        )
        .unwrap(),
        database: DatabaseName::parse("prepstation").unwrap(),
        username: Username::parse(login).unwrap(),
        protocol: Protocol::Auto,
        domain_filter: None,
        order_dates: OrderDateRange::default(),
    };
    let target = ProbeTarget {
        settings,
        api_key: SecretString::from(key.to_owned()),
        time_zone: TimeZone::default(),
    };
    let options = odoo_client::ClientOptions {
        network: odoo_client::NetworkPolicy::allow_all(),
        ..odoo_client::ClientOptions::default()
    };
    let feeds = OdooOrderFeeds::new(options);
    let started = Instant::now();
    let mut feed = feeds.open(target).await.unwrap();
    let mut from = SyncCursor {
        second: chrono::NaiveDateTime::default(),
        last_id: 0,
    };
    let mut orders = 0;
    loop {
        let page = feed.next_page(Feed::Orders, from, BATCH).await.unwrap();
        orders += page.orders.len() as u64;
        if page.exhausted {
            break;
        }
        from = page.next;
    }
    (started.elapsed(), orders)
}

async fn sync(app: &TestApp, token: &str, connection: &Value) -> (Duration, Value) {
    let started = Instant::now();
    let run = app
        .graphql(
            token,
            "mutation($id: ID!) { syncNow(connectionId: $id) { id } }",
            json!({ "id": connection }),
        )
        .await;
    let id = run["data"]["syncNow"]["id"].clone();
    let query = "query($id: ID!) { syncRun(id: $id) { status counts { fetched imported updated unchanged } error { code message } } }";
    loop {
        let run = app.graphql(token, query, json!({ "id": id })).await["data"]["syncRun"].clone();
        if !matches!(run["status"].as_str(), Some("PENDING" | "RUNNING")) {
            return (started.elapsed(), run);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn change_one_percent(url: &str, orders: usize) {
    let client = prepsync_tests::http_client();
    for id in (1..=orders as i64).step_by(100) {
        client
            .patch(format!("{url}/__sandbox/orders/{id}"))
            .json(&json!({ "client_order_ref": format!("bench-{id}") }))
            .send()
            .await
            .unwrap();
    }
}

async fn measure(orders: usize) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sandbox_process = start_sandbox(orders, port);
    let url = format!("http://127.0.0.1:{port}");
    let users = wait_for(&url).await;
    let user = users.iter().find(|u| u["kind"] == "SalesAll").unwrap();
    let (login, key) = (
        user["login"].as_str().unwrap(),
        user["api_key"].as_str().unwrap(),
    );

    let sandbox = sandbox_process.0.id();
    let before = cpu_now(None, sandbox).await;
    let (download, downloaded) = bare_download(&url, login, key).await;
    let download_cpu = cpu_spent(before, cpu_now(None, sandbox).await);

    let app = TestApp::spawn().await;
    let token = app.token("bench", "admin");
    let input = json!({ "name": "bench", "url": url, "database": "prepstation", "username": login, "apiKey": key, "batchSize": BATCH });
    let created = app
        .graphql(
            &token,
            "mutation($input: CreateConnectionInput!) { createConnection(input: $input) { id } }",
            json!({ "input": input }),
        )
        .await;
    let connection = created["data"]["createConnection"]["id"].clone();

    let before = cpu_now(Some(&app), sandbox).await;
    let (full, run) = sync(&app, &token, &connection).await;
    let full_cpu = cpu_spent(before, cpu_now(Some(&app), sandbox).await);
    let fetched = run["counts"]["fetched"].as_u64().unwrap_or(0);
    let (settled, settled_run) = sync(&app, &token, &connection).await;
    change_one_percent(&url, orders).await;
    let (changed, changed_run) = sync(&app, &token, &connection).await;
    let (idle, idle_run) = sync(&app, &token, &connection).await;

    println!("orders generated: {orders}; read by the bare download: {downloaded}; fetched by the sync: {fetched}");
    println!(
        "  bare download   {:>8.2} s  {download_cpu}",
        download.as_secs_f64()
    );
    println!(
        "  full sync       {:>8.2} s  ({:.2} x download, {:.0} orders/s)  {}",
        full.as_secs_f64(),
        full.as_secs_f64() / download.as_secs_f64(),
        fetched as f64 / full.as_secs_f64(),
        run["status"]
    );
    println!("                              {full_cpu}");
    println!(
        "  idle, settled   {:>8.3} s  {}",
        settled.as_secs_f64(),
        settled_run["counts"]
    );
    println!(
        "  1 % changed     {:>8.2} s  {}",
        changed.as_secs_f64(),
        changed_run["counts"]
    );
    println!(
        "  idle, recent    {:>8.3} s  {}",
        idle.as_secs_f64(),
        idle_run["counts"]
    );
    println!("  peak RSS of this process so far: {:.0} MB", peak_rss_mb());
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    for orders in sizes {
        measure(orders).await;
    }
}
