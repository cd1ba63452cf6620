//! The sandbox at the size of the sync benchmark: paging every generated order by
//! `write_date` over JSON-RPC, then reading their lines, returns each order and line once.
//!
//! `a_full_download_of_many_orders_returns_each_once` pages 10,000 orders in process. The timed
//! runs over 100,000 orders start the `odoo-sandbox` binary in its own process (one reports the
//! processor time it spent downloading, read from `/proc`, so Linux only; the other starts it
//! twice on a data directory) and are ignored by default; run them with
//! `cargo test -p odoo-sandbox --release --test scale -- --ignored --nocapture --test-threads 1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use odoo_sandbox::{Dataset, Sandbox, SandboxConfig, UserKind};
use serde_json::{json, Value};
use support::jsonrpc;

const ORDER_FIELDS: [&str; 8] = [
    "name",
    "date_order",
    "partner_id",
    "state",
    "amount_total",
    "currency_id",
    "order_line",
    "write_date",
];

const LINE_FIELDS: [&str; 9] = [
    "order_id",
    "product_id",
    "name",
    "product_uom_qty",
    "product_uom",
    "price_unit",
    "discount",
    "price_subtotal",
    "display_type",
];

/// Where a download logs in: the sandbox's address, database and API user.
#[derive(Debug, Clone)]
struct Target {
    addr: SocketAddr,
    database: String,
    uid: i64,
    key: String,
}

impl Target {
    fn of(sandbox: &Sandbox) -> Target {
        let user = sandbox.user(UserKind::SalesAll);
        Target {
            addr: sandbox.addr(),
            database: sandbox.database().to_owned(),
            uid: user.uid,
            key: user.api_key,
        }
    }
}

async fn execute(target: &Target, model: &str, method: &str, args: Value, kwargs: Value) -> Value {
    let call = json!([
        target.database,
        target.uid,
        target.key,
        model,
        method,
        args,
        kwargs
    ]);
    let answer = jsonrpc(target.addr, "object", "execute_kw", call).await;
    answer
        .get("result")
        .cloned()
        .unwrap_or_else(|| panic!("{model}.{method} failed: {answer}"))
}

/// What one download saw and how long its parts took.
#[derive(Debug, Default)]
struct Download {
    order_ids: Vec<i64>,
    line_ids: Vec<i64>,
    orders_time: Duration,
    lines_time: Duration,
    calls: usize,
}

/// Pages `sale.order` with `write_date >= cursor` ordered by `write_date, id`, moving the
/// cursor to the last printed `write_date` of each page (an offset only while a full page
/// stays in one printed second), and reads each page's lines.
async fn download(target: &Target, batch: usize) -> Download {
    let mut seen = Download::default();
    let mut known = BTreeSet::new();
    let mut cursor = "1970-01-01 00:00:00".to_owned();
    let mut offset = 0;
    loop {
        let started = Instant::now();
        let page = execute(
            target,
            "sale.order",
            "search_read",
            json!([[["write_date", ">=", cursor]]]),
            json!({"fields": ORDER_FIELDS, "order": "write_date asc, id asc", "limit": batch, "offset": offset}),
        )
        .await;
        seen.orders_time += started.elapsed();
        seen.calls += 1;
        let page = page.as_array().unwrap().clone();
        let fresh: Vec<&Value> = page
            .iter()
            .filter(|o| known.insert(o["id"].as_i64().unwrap()))
            .collect();
        seen.order_ids
            .extend(fresh.iter().map(|o| o["id"].as_i64().unwrap()));
        let line_ids: Vec<i64> = fresh
            .iter()
            .flat_map(|o| o["order_line"].as_array().unwrap().clone())
            .map(|id| id.as_i64().unwrap())
            .collect();
        if !line_ids.is_empty() {
            let started = Instant::now();
            let lines = execute(
                target,
                "sale.order.line",
                "read",
                json!([line_ids]),
                json!({"fields": LINE_FIELDS}),
            )
            .await;
            seen.lines_time += started.elapsed();
            seen.calls += 1;
            let lines = lines.as_array().unwrap();
            seen.line_ids
                .extend(lines.iter().map(|l| l["id"].as_i64().unwrap()));
        }
        if page.len() < batch {
            return seen;
        }
        let last = page.last().unwrap()["write_date"]
            .as_str()
            .unwrap()
            .to_owned();
        offset = if last == cursor { offset + batch } else { 0 };
        cursor = last;
    }
}

async fn generated(orders: usize) -> Sandbox {
    let config = SandboxConfig::new(18).with_dataset(Dataset::Generated { orders, seed: 1 });
    Sandbox::start(config).await.unwrap()
}

fn assert_each_once(seen: &Download, orders: usize) {
    let expected: Vec<i64> = (1..=orders as i64).collect();
    let mut ids = seen.order_ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, expected);
    let distinct: BTreeSet<i64> = seen.line_ids.iter().copied().collect();
    assert_eq!(distinct.len(), seen.line_ids.len());
}

#[tokio::test]
async fn a_full_download_of_many_orders_returns_each_once() {
    let sandbox = generated(10_000).await;
    let target = Target::of(&sandbox);

    let seen = download(&target, 500).await;

    assert_each_once(&seen, 10_000);
    let lines = execute(
        &target,
        "sale.order.line",
        "search_count",
        json!([[]]),
        json!({}),
    )
    .await;
    assert_eq!(seen.line_ids.len() as i64, lines.as_i64().unwrap());
}

/// The `odoo-sandbox` binary serving 100,000 orders in its own process.
struct Process {
    child: tokio::process::Child,
    target: Target,
}

impl Process {
    async fn start(orders: usize, extra: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_odoo-sandbox"))
            .args([
                "--odoo-version",
                "18",
                "--listen",
                "127.0.0.1:0",
                "--seed",
                "1",
            ])
            .args(["--orders", &orders.to_string()])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let banner = lines.next_line().await.unwrap().unwrap();
        let url = banner
            .split(" at ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let user = lines.next_line().await.unwrap().unwrap();
        let words: Vec<&str> = user.split_whitespace().collect();
        let target = Target {
            addr: url.trim_start_matches("http://").parse().unwrap(),
            database: "prepstation".to_owned(),
            uid: words[2].parse().unwrap(),
            key: words[words.len() - 1].to_owned(),
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Process { child, target }
    }

    /// The processor time the process has used so far (Linux only).
    fn cpu(&self) -> Duration {
        let pid = self.child.id().unwrap();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }
}

#[tokio::test]
#[ignore = "times a download of 100,000 orders; run in release with --ignored --nocapture"]
async fn a_download_of_one_hundred_thousand_orders_is_timed() {
    let started = Instant::now();
    let process = Process::start(100_000, &[]).await;
    let start_up = started.elapsed();

    let cpu_before = process.cpu();
    let started = Instant::now();
    let seen = download(&process.target, 500).await;
    let total = started.elapsed();
    let sandbox_cpu = process.cpu() - cpu_before;

    assert_each_once(&seen, 100_000);
    println!(
        "start-up {:.2} s; download {:.2} s in {} calls (orders {:.2} s, lines {:.2} s, {} lines); \
         sandbox processor time during the download {:.2} s",
        start_up.as_secs_f64(),
        total.as_secs_f64(),
        seen.calls,
        seen.orders_time.as_secs_f64(),
        seen.lines_time.as_secs_f64(),
        seen.line_ids.len(),
        sandbox_cpu.as_secs_f64()
    );
}

#[tokio::test]
#[ignore = "times starts from a data directory of 100,000 orders; run in release with --ignored --nocapture"]
async fn starts_from_a_data_directory_of_one_hundred_thousand_orders_are_timed() {
    let dir = std::env::temp_dir().join(format!("odoo-sandbox-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = ["--data-dir", dir.to_str().unwrap()];

    let started = Instant::now();
    drop(Process::start(100_000, &args).await);
    let first = started.elapsed();
    let started = Instant::now();
    let process = Process::start(100_000, &args).await;
    let second = started.elapsed();

    let seen = download(&process.target, 1000).await;
    assert_each_once(&seen, 100_000);
    let size = std::fs::metadata(dir.join("odoo-18-data.jsonl"))
        .unwrap()
        .len();
    println!(
        "first start (generate and write) {:.2} s; second start (read) {:.2} s; data file {} MB",
        first.as_secs_f64(),
        second.as_secs_f64(),
        size / 1_000_000
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
