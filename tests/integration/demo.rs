//! `prepsync demo`, the real binary: with no configuration it starts its own PostgreSQL
//! cluster and the sandbox, syncs, prints a summary (orders per status, unmapped products,
//! planning demand) and keeps serving; a second run on the same data directory continues
//! without doubling anything; without PostgreSQL binaries it says what to install.

use std::path::{Path, PathBuf};
use std::time::Duration;

use prepsync_tests::free_port;
use prepsync_tests::{ServiceProcess, TestDatabase};
use serde_json::{json, Value};

/// First runs generate the sandbox's data and create a cluster: slow on a busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// A data directory of its own, removed when the test ends.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("prepsync-demo-{}", uuid::Uuid::new_v4()));
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// The URL of the demo's private cluster, from what the demo kept.
    fn cluster_url(&self) -> String {
        let state: Value =
            serde_json::from_slice(&std::fs::read(self.0.join("demo.json")).unwrap()).unwrap();
        let password = std::fs::read_to_string(self.0.join("postgres.password")).unwrap();
        let port = &state["postgres_port"];
        format!(
            "postgres://postgres:{}@127.0.0.1:{port}/postgres",
            password.trim()
        )
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A demo run on `data`, serving on `port`, with the sandbox on `odoo_port`.
struct Demo {
    process: ServiceProcess,
    port: u16,
}

impl Demo {
    fn start(data: &DataDir, odoo_port: u16, extra: &[(&'static str, String)]) -> Self {
        let port = free_port();
        let mut env = vec![
            ("PREPSYNC_DATA_DIR", data.path().display().to_string()),
            ("PREPSYNC_LISTEN", format!("127.0.0.1:{port}")),
            ("PREPSYNC_DEMO_ODOO_PORT", odoo_port.to_string()),
        ];
        env.extend_from_slice(extra);
        let process = ServiceProcess::start(crate::PREPSYNC, &["demo"], &env);
        process.wait_for_output("serving GraphQL at", START_TIMEOUT);
        Self { process, port }
    }

    /// The admin token the demo printed.
    fn token(&self) -> String {
        let output = self.process.output();
        let mut lines = output
            .lines()
            .skip_while(|line| !line.starts_with("token ("));
        lines.nth(1).unwrap().trim().to_owned()
    }

    async fn graphql(&self, query: &str, variables: Value) -> Value {
        let answer: Value = prepsync_tests::http_client()
            .post(format!("http://127.0.0.1:{}/graphql", self.port))
            .bearer_auth(self.token())
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(answer["errors"].is_null(), "{answer}");
        answer["data"].clone()
    }

    /// The demo connection's runs, newest first.
    async fn runs(&self) -> Vec<Value> {
        let connections = self.graphql("{ connections { id url } }", json!({})).await;
        let connections = connections["connections"].as_array().unwrap().clone();
        assert_eq!(connections.len(), 1, "{connections:?}");
        let query = "query($id: ID!) { syncRuns(connectionId: $id, first: 50) { totalCount \
                     edges { node { status counts { fetched imported updated } } } } }";
        let data = self
            .graphql(query, json!({ "id": connections[0]["id"] }))
            .await;
        let edges = data["syncRuns"]["edges"].as_array().unwrap();
        edges.iter().map(|edge| edge["node"].clone()).collect()
    }

    /// How many items the account has, and how many products of its connection are unmapped.
    async fn mapping(&self) -> (i64, i64) {
        let connections = self.graphql("{ connections { id } }", json!({})).await;
        let query = "query($id: ID!) { items(first: 1) { totalCount } \
                     unmappedProducts(connectionId: $id, first: 1) { totalCount } }";
        let id = &connections["connections"][0]["id"];
        let data = self.graphql(query, json!({ "id": id })).await;
        let items = data["items"]["totalCount"].as_i64().unwrap();
        (
            items,
            data["unmappedProducts"]["totalCount"].as_i64().unwrap(),
        )
    }

    /// Stops the demo with SIGTERM; it must exit 0.
    fn stop(mut self) -> String {
        self.process.signal("TERM");
        let code = self.process.wait_exit(Duration::from_secs(60));
        assert_eq!(code, Some(0), "{}", self.process.output());
        self.process.output()
    }
}

/// How many orders the account holds and how many order events were recorded.
async fn held(url: &str) -> (i64, i64) {
    let pool = infrastructure::database::connect(url, 1).await.unwrap();
    let orders = sqlx::query_scalar("SELECT count(*) FROM held_orders WHERE account_id = $1")
        .bind("demo-kitchen")
        .fetch_one(&pool)
        .await
        .unwrap();
    let events = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order' AND account_id = $1",
    )
    .bind("demo-kitchen")
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    (orders, events)
}

/// Sales Records per status of the demo account, as the summary names them (lower case, in
/// the summary's order, statuses without records left out).
async fn records_per_status(url: &str) -> String {
    let pool = infrastructure::database::connect(url, 1).await.unwrap();
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT lower(status), count(*) FROM sales_records WHERE account_id = $1
          GROUP BY status
          ORDER BY array_position(ARRAY['QUOTATION', 'CONFIRMED', 'DONE', 'CANCELLED',
                                        'REMOVED'], status)",
    )
    .bind("demo-kitchen")
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let counts: Vec<String> = counts
        .into_iter()
        .map(|(status, count)| format!("{count} {status}"))
        .collect();
    format!("orders per status: {}", counts.join(", "))
}

/// The days of planning demand the summary printed, each with its item quantities.
fn demand_sample(output: &str) -> Vec<(String, Vec<String>)> {
    let lines = output
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("planning demand"))
        .skip(1)
        .map(str::trim)
        .take_while(|line| line.len() > 11 && line.as_bytes()[10] == b':');
    lines
        .map(|line| {
            let (day, items) = line.split_once(": ").unwrap();
            let items = items.split("), ").map(str::to_owned).collect();
            (day.to_owned(), items)
        })
        .collect()
}

/// The summary shows the orders per status as the Sales Records hold them, and a sample of
/// planning demand whose days have as many buckets as `planningDemand` returns for them.
async fn assert_summary(demo: &Demo, output: &str, url: &str) {
    let per_status = records_per_status(url).await;
    assert!(per_status.contains(" confirmed"), "{per_status}");
    assert!(output.contains(&per_status), "{per_status} in {output}");

    let sample = demand_sample(output);
    assert!(!sample.is_empty() && sample.len() <= 3, "{output}");
    let query = "query($day: NaiveDate!) { planningDemand(from: $day, to: $day) { buckets { \
                 itemId } } }";
    for (day, items) in sample {
        let demand = demo.graphql(query, json!({ "day": day })).await;
        let buckets = demand["planningDemand"]["buckets"].as_array().unwrap();
        assert_eq!(buckets.len(), items.len(), "{day}: {items:?}");
        assert!(
            items.iter().all(|item| item.contains(" piece ")),
            "{items:?}"
        );
    }
    assert!(
        output.contains("lines of unmapped products from "),
        "{output}"
    );
}

#[tokio::test]
async fn the_demo_syncs_on_its_own_cluster_and_a_second_run_doubles_nothing() {
    let data = DataDir::new();
    let odoo_port = free_port();

    let first = Demo::start(&data, odoo_port, &[]);
    let runs = first.runs().await;
    assert_eq!(runs.len(), 1);
    let imported = runs[0]["counts"]["imported"].as_i64().unwrap();
    assert!(imported > 0, "{runs:?}");
    let (orders, events) = held(&data.cluster_url()).await;
    assert_eq!(orders, imported);
    let (items, unmapped) = first.mapping().await;
    assert_eq!(items, 5);
    assert!(unmapped > 0);
    let summary = first.process.output();
    assert_summary(&first, &summary, &data.cluster_url()).await;
    let output = first.stop();
    assert!(output.contains("mapped by hand (mapProduct): "), "{output}");
    assert!(output.contains("created and started"), "{output}");
    assert!(output.contains("PostgreSQL stopped"), "{output}");
    assert!(!data.path().join("postgres/postmaster.pid").exists());

    let second = Demo::start(&data, odoo_port, &[]);
    let runs = second.runs().await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0]["counts"]["imported"], 0, "{runs:?}");
    assert_eq!(runs[0]["counts"]["updated"], 0, "{runs:?}");
    assert_eq!(held(&data.cluster_url()).await, (orders, events));
    assert_eq!(second.mapping().await, (items, unmapped));
    let again = second.process.output();
    assert_summary(&second, &again, &data.cluster_url()).await;
    assert_eq!(demand_sample(&again), demand_sample(&summary));
    let output = second.stop();
    assert!(output.contains("reused"), "{output}");
}

#[tokio::test]
async fn the_demo_uses_database_url_when_given() {
    let db = TestDatabase::create_empty().await;
    let data = DataDir::new();

    let demo = Demo::start(&data, free_port(), &[("DATABASE_URL", db.url().to_owned())]);

    let runs = demo.runs().await;
    assert!(
        runs[0]["counts"]["imported"].as_i64().unwrap() > 0,
        "{runs:?}"
    );
    assert_eq!(held(db.url()).await.0, runs[0]["counts"]["imported"]);
    assert_summary(&demo, &demo.process.output(), db.url()).await;
    let output = demo.stop();
    assert!(output.contains("using DATABASE_URL"), "{output}");
    assert!(!data.path().join("postgres").exists());
}

#[test]
fn without_postgresql_binaries_the_demo_says_what_to_install_and_fails() {
    let data = DataDir::new();
    let empty = DataDir::new();
    std::fs::create_dir_all(empty.path()).unwrap();

    let mut demo = ServiceProcess::start(
        crate::PREPSYNC,
        &["demo"],
        &[
            ("PREPSYNC_DATA_DIR", data.path().display().to_string()),
            ("PREPSYNC_POSTGRES_BIN", empty.path().display().to_string()),
        ],
    );

    let code = demo.wait_exit(Duration::from_secs(60));
    let output = demo.output();
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("apt-get install postgresql"), "{output}");
    assert!(output.contains("DATABASE_URL"), "{output}");
}
