//! What the demo does through the product's own GraphQL API, with an admin token, exactly as a
//! client would (the requests go through the service's router, token check included): set up
//! the account, create or find the connection to the sandbox, test it, sync it and map
//! products. The summary read afterwards is in [`super::summary`].

use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::progress::Progress;

/// Largest GraphQL answer the demo reads.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Why a step of the walk-through failed.
#[derive(Debug, thiserror::Error)]
pub enum WalkthroughError {
    /// The API answered with errors.
    #[error("{step}: {message}")]
    Refused {
        /// What the demo was doing.
        step: &'static str,
        /// The errors' messages, codes and hints.
        message: String,
    },
    /// The connection test did not pass.
    #[error("the connection test failed at {stage}: {message}")]
    TestFailed {
        /// The stage that failed.
        stage: String,
        /// The error the test reported.
        message: String,
    },
    /// The sync run did not complete.
    #[error("the sync run ended {status}: {message}")]
    SyncFailed {
        /// Its final status.
        status: String,
        /// Its error.
        message: String,
    },
}

/// A GraphQL client of the service's router with one bearer token; it remembers the sync run
/// it follows, to cancel it when the demo is stopped.
#[derive(Debug)]
pub struct Api {
    router: Router,
    token: String,
    current_run: Mutex<Option<Value>>,
}

impl Api {
    /// A client of `router` sending `token`.
    pub fn new(router: Router, token: String) -> Self {
        Self {
            router,
            token,
            current_run: Mutex::new(None),
        }
    }

    /// Cancels the run being followed, if any, and waits a few seconds for it to stop after
    /// its current batch, so that the next start continues from there at once.
    pub async fn cancel_current_run(&self) {
        let run = self
            .current_run
            .lock()
            .ok()
            .and_then(|mut slot| slot.take());
        let Some(run) = run else { return };
        let cancel = "mutation($id: ID!) { cancelSyncRun(id: $id) { status } }";
        if self
            .call("cancelling the sync", cancel, json!({ "id": run }))
            .await
            .is_err()
        {
            return;
        }
        let query = "query($id: ID!) { syncRun(id: $id) { status } }";
        for _ in 0..40 {
            let data = self
                .call("following the sync", query, json!({ "id": run }))
                .await;
            let status = data
                .map(|d| d["syncRun"]["status"].clone())
                .unwrap_or_default();
            if !matches!(status.as_str(), Some("PENDING" | "RUNNING")) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn follow(&self, run: Option<Value>) {
        if let Ok(mut slot) = self.current_run.lock() {
            *slot = run;
        }
    }

    /// Runs one operation and returns its `data`, or the errors as [`WalkthroughError::Refused`].
    pub async fn call(
        &self,
        step: &'static str,
        query: &str,
        variables: Value,
    ) -> Result<Value, WalkthroughError> {
        let refused = |message: String| WalkthroughError::Refused { step, message };
        let body = json!({ "query": query, "variables": variables }).to_string();
        let request = Request::post("/graphql")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .map_err(|e| refused(e.to_string()))?;

        let response = self.router.clone().oneshot(request).await;
        let response = response.map_err(|e| refused(e.to_string()))?;
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|e| refused(e.to_string()))?;
        let answer: Value = serde_json::from_slice(&bytes).map_err(|e| refused(e.to_string()))?;

        match answer.get("errors").and_then(Value::as_array) {
            Some(errors) if !errors.is_empty() => Err(refused(describe_errors(errors))),
            _ => Ok(answer.get("data").cloned().unwrap_or(Value::Null)),
        }
    }
}

fn describe_errors(errors: &[Value]) -> String {
    let describe = |error: &Value| {
        let message = error["message"].as_str().unwrap_or("unknown error");
        let code = error["extensions"]["code"].as_str().unwrap_or("");
        match error["extensions"]["hint"].as_str() {
            Some(hint) => format!("{message} ({code}; {hint})"),
            None => format!("{message} ({code})"),
        }
    };
    errors.iter().map(describe).collect::<Vec<_>>().join("; ")
}

/// The Odoo connection the demo creates.
#[derive(Debug, Clone)]
pub struct SandboxConnection {
    /// Its display name.
    pub name: String,
    /// The sandbox's URL.
    pub url: String,
    /// The sandbox's database.
    pub database: String,
    /// The API user's login.
    pub username: String,
    /// The API user's key.
    pub api_key: String,
}

/// The account's time zone the demo sets on the first run.
pub const TIME_ZONE: &str = "Europe/Brussels";

/// The time zone of an account nobody has set up.
const UNSET_TIME_ZONE: &str = "UTC";

/// Gives the account its time zone while it has none (the account's first event); whether it
/// did.
pub async fn set_up_account(api: &Api) -> Result<bool, WalkthroughError> {
    let data = api
        .call("reading the account", "{ account { timeZone } }", json!({}))
        .await?;
    if data["account"]["timeZone"].as_str() != Some(UNSET_TIME_ZONE) {
        return Ok(false);
    }
    let mutation = "mutation($tz: String!) { updateAccountSettings(input: { timeZone: $tz }) \
                    { timeZone } }";
    api.call(
        "setting the account's time zone",
        mutation,
        json!({ "tz": TIME_ZONE }),
    )
    .await?;
    Ok(true)
}

/// The id of the account's connection to the sandbox, created unless it exists; and whether
/// it was created.
pub async fn find_or_create_connection(
    api: &Api,
    sandbox: &SandboxConnection,
) -> Result<(String, bool), WalkthroughError> {
    let data = api
        .call(
            "listing connections",
            "{ connections { id url database } }",
            json!({}),
        )
        .await?;
    let same_url = |url: &str| url.trim_end_matches('/') == sandbox.url.trim_end_matches('/');
    let existing = data["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            same_url(c["url"].as_str().unwrap_or("")) && c["database"] == sandbox.database.as_str()
        });
    if let Some(id) = existing.and_then(|c| c["id"].as_str()) {
        return Ok((id.to_owned(), false));
    }

    let mutation = "mutation($input: CreateConnectionInput!) { createConnection(input: $input) \
                    { id } }";
    let input = json!({
        "name": sandbox.name,
        "url": sandbox.url,
        "database": sandbox.database,
        "username": sandbox.username,
        "apiKey": sandbox.api_key,
    });
    let data = api
        .call(
            "creating the connection",
            mutation,
            json!({ "input": input }),
        )
        .await?;
    let id = data["createConnection"]["id"].as_str().unwrap_or_default();
    Ok((id.to_owned(), true))
}

/// What a passed connection test found.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// Odoo's version.
    pub server_version: String,
    /// The protocol chosen.
    pub protocol: String,
    /// Orders in the connection's scope.
    pub matching_orders: u64,
}

/// Tests the connection (Test Connection, recorded on it).
pub async fn test_connection(api: &Api, id: &str) -> Result<TestReport, WalkthroughError> {
    let mutation = "mutation($id: ID!) { testConnection(id: $id) { ok stage protocol \
                    serverVersion matchingOrders error { code message hint } } }";
    let data = api
        .call("testing the connection", mutation, json!({ "id": id }))
        .await?;
    let test = &data["testConnection"];
    if test["ok"] != true {
        return Err(WalkthroughError::TestFailed {
            stage: text(&test["stage"]),
            message: text(&test["error"]["message"]),
        });
    }
    Ok(TestReport {
        server_version: text(&test["serverVersion"]),
        protocol: text(&test["protocol"]),
        matching_orders: test["matchingOrders"].as_u64().unwrap_or(0),
    })
}

const RUN_FIELDS: &str = "id status counts { fetched imported updated cancelled removed \
                          outOfScope unchanged unmappedLines } error { code message hint }";

/// Runs Sync Now and waits for the run to end, showing its counts as they grow; returns the
/// finished run. A run left unfinished by a demo that was killed is closed as interrupted by
/// the service soon after the start; the sync then starts once more.
pub async fn sync(api: &Api, id: &str, progress: &Progress) -> Result<Value, WalkthroughError> {
    let run = sync_once(api, id, progress).await?;
    if run["error"]["code"] != "INTERRUPTED" {
        return finished(run);
    }
    progress.detail("a run left by an earlier demo was interrupted; syncing again");
    finished(sync_once(api, id, progress).await?)
}

fn finished(run: Value) -> Result<Value, WalkthroughError> {
    match run["status"].as_str() {
        Some("COMPLETED" | "RESOLUTION_REQUIRED") => Ok(run),
        _ => Err(WalkthroughError::SyncFailed {
            status: text(&run["status"]),
            message: text(&run["error"]["message"]),
        }),
    }
}

async fn sync_once(api: &Api, id: &str, progress: &Progress) -> Result<Value, WalkthroughError> {
    let mutation =
        format!("mutation($id: ID!) {{ syncNow(connectionId: $id) {{ {RUN_FIELDS} }} }}");
    let data = api
        .call("starting the sync", &mutation, json!({ "id": id }))
        .await?;
    let run_id = data["syncNow"]["id"].clone();
    api.follow(Some(run_id.clone()));
    let query = format!("query($id: ID!) {{ syncRun(id: $id) {{ {RUN_FIELDS} }} }}");

    let mut shown = String::new();
    loop {
        let data = api
            .call("following the sync", &query, json!({ "id": run_id }))
            .await?;
        let run = data["syncRun"].clone();
        let counts = describe_counts(&run["counts"]);
        if counts != shown {
            progress.detail(&format!(
                "{}: {counts}",
                text(&run["status"]).to_lowercase()
            ));
            shown = counts;
        }
        if !matches!(run["status"].as_str(), Some("PENDING" | "RUNNING")) {
            api.follow(None);
            return Ok(run);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A run's counts as one line.
pub fn describe_counts(counts: &Value) -> String {
    let number = |name: &str| counts[name].as_i64().unwrap_or(0);
    format!(
        "{} fetched, {} imported, {} updated, {} cancelled, {} unchanged, {} unmapped lines",
        number("fetched"),
        number("imported"),
        number("updated"),
        number("cancelled"),
        number("unchanged"),
        number("unmappedLines"),
    )
}

/// What the mapping step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    /// The account had items already (an earlier run made them): nothing was changed.
    Kept {
        /// The account's items.
        items: i64,
    },
    /// Items were made for the most ordered unmapped products and mapped to them.
    Made {
        /// Items whose SKU is a product's internal reference, so mapped automatically.
        by_sku: Vec<String>,
        /// Products mapped with `mapProduct`.
        by_hand: Vec<String>,
    },
}

/// How many of the most ordered unmapped products the demo maps on its first run.
pub const PRODUCTS_TO_MAP: usize = 5;
/// Of those, how many are mapped through an item's SKU rather than by hand.
pub const MAPPED_BY_SKU: usize = 3;

/// On the first run (no items yet), makes an item for each of the most ordered unmapped
/// products: the first ones with the product's internal reference as SKU, which maps them
/// automatically, the others without, mapped with `mapProduct`.
pub async fn map_products(api: &Api, connection_id: &str) -> Result<Mapping, WalkthroughError> {
    let data = api
        .call(
            "reading items",
            "{ items(first: 1) { totalCount } }",
            json!({}),
        )
        .await?;
    let items = data["items"]["totalCount"].as_i64().unwrap_or(0);
    if items > 0 {
        return Ok(Mapping::Kept { items });
    }

    let query = "query($id: ID!, $first: Int!) { unmappedProducts(connectionId: $id, \
                 first: $first) { edges { node { odooProductId name internalReference } } } }";
    let variables = json!({ "id": connection_id, "first": PRODUCTS_TO_MAP });
    let data = api
        .call("listing unmapped products", query, variables)
        .await?;
    let edges = data["unmappedProducts"]["edges"].as_array().cloned();
    let products: Vec<Value> = edges
        .into_iter()
        .flatten()
        .map(|e| e["node"].clone())
        .collect();
    let (by_sku, by_hand): (Vec<_>, Vec<_>) = products
        .iter()
        .enumerate()
        .partition(|(i, p)| *i < MAPPED_BY_SKU && p["internalReference"].is_string());

    let item = |product: &Value, with_sku: bool| {
        json!({
            "id": format!("demo-{}", product["odooProductId"]),
            "name": product["name"].as_str().unwrap_or("Odoo product"),
            "sku": if with_sku { product["internalReference"].clone() } else { Value::Null },
            "unit": "piece",
        })
    };
    let inputs: Vec<Value> = (by_sku.iter().map(|(_, p)| item(p, true)))
        .chain(by_hand.iter().map(|(_, p)| item(p, false)))
        .collect();
    let upsert = "mutation($items: [ItemInput!]!) { upsertItems(items: $items) { id } }";
    api.call("creating items", upsert, json!({ "items": inputs }))
        .await?;

    let map = "mutation($connection: ID!, $product: Int!, $item: ID!) { mapProduct(\
               connectionId: $connection, odooProductId: $product, itemId: $item) { itemId } }";
    for (_, product) in &by_hand {
        let variables = json!({
            "connection": connection_id,
            "product": product["odooProductId"],
            "item": format!("demo-{}", product["odooProductId"]),
        });
        api.call("mapping a product", map, variables).await?;
    }
    let names = |list: &[(usize, &Value)]| list.iter().map(|(_, p)| text(&p["name"])).collect();
    Ok(Mapping::Made {
        by_sku: names(&by_sku),
        by_hand: names(&by_hand),
    })
}

/// A JSON value as text: strings as they are, `unknown` for null.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "unknown".to_owned(),
        other => other.to_string(),
    }
}
