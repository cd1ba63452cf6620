//! The summary the demo prints once the data is in, read through the GraphQL API like the rest
//! of the walk-through: what the last run did, the orders per status from the Sales Records,
//! the products still to map and a sample of planning demand.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::walkthrough::{describe_counts, text, Api, WalkthroughError};

/// How long the summary waits for the Sales Records to apply the sync's events.
pub const CATCH_UP: Duration = Duration::from_secs(60);
/// How many days of planning demand the sample shows.
pub const DEMAND_DAYS: usize = 3;
/// How far ahead of today the sample looks for demand, in days.
const AHEAD_DAYS: u64 = 30;
/// The Sales Record statuses, in the order the summary names them.
const STATUSES: [&str; 5] = ["QUOTATION", "CONFIRMED", "DONE", "CANCELLED", "REMOVED"];

/// The summary's lines: the last run's counts, orders per status, unmapped products and a
/// sample of planning demand. The figures come from the read models, so it first waits (up
/// to [`CATCH_UP`]) for the Sales Records to apply everything recorded, and says so when
/// they are still behind.
pub async fn summary(
    api: &Api,
    connection_id: &str,
    run: &Value,
) -> Result<Vec<String>, WalkthroughError> {
    let mut lines = vec![format!("last sync: {}", describe_counts(&run["counts"]))];
    if let Some(lag) = wait_for_sales_records(api).await? {
        lines.push(format!(
            "the Sales Records are still {lag} events behind after {} s: the figures below \
             are partial (see `projections` in GraphiQL)",
            CATCH_UP.as_secs()
        ));
    }
    lines.push(orders_per_status(api, connection_id).await?);
    lines.push(unmapped_products(api, connection_id).await?);
    lines.extend(planning_demand(api, connection_id).await?);
    Ok(lines)
}

/// Waits until the `sales_records` projection has no event left to apply; its lag if it
/// still has after [`CATCH_UP`].
async fn wait_for_sales_records(api: &Api) -> Result<Option<i64>, WalkthroughError> {
    let query = "{ projections { name lagEvents } }";
    let start = Instant::now();
    loop {
        let data = api
            .call("reading the projections", query, json!({}))
            .await?;
        let lag = data["projections"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|projection| projection["name"] == "sales_records")
            .and_then(|projection| projection["lagEvents"].as_i64())
            .unwrap_or(0);
        if lag == 0 {
            return Ok(None);
        }
        if start.elapsed() >= CATCH_UP {
            return Ok(Some(lag));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The connection's Sales Records per status, e.g. `orders per status: 187 confirmed, 25
/// done`; statuses without any are left out.
async fn orders_per_status(api: &Api, connection_id: &str) -> Result<String, WalkthroughError> {
    let query = "query($id: ID!, $status: SalesRecordStatus!) { salesRecords(filter: \
                 { connectionId: $id, status: [$status] }, first: 1) { totalCount } }";
    let mut counts = Vec::new();
    for status in STATUSES {
        let variables = json!({ "id": connection_id, "status": status });
        let data = api.call("counting Sales Records", query, variables).await?;
        let count = data["salesRecords"]["totalCount"].as_i64().unwrap_or(0);
        if count > 0 {
            counts.push(format!("{count} {}", status.to_lowercase()));
        }
    }
    Ok(match counts.is_empty() {
        true => "orders per status: no Sales Records yet".to_owned(),
        false => format!("orders per status: {}", counts.join(", ")),
    })
}

/// How many products are unmapped, naming the most ordered.
async fn unmapped_products(api: &Api, connection_id: &str) -> Result<String, WalkthroughError> {
    let query = "query($id: ID!) { unmappedProducts(connectionId: $id, first: 3) { totalCount \
                 edges { node { name lineCount } } } }";
    let data = api
        .call(
            "listing unmapped products",
            query,
            json!({ "id": connection_id }),
        )
        .await?;
    let list = &data["unmappedProducts"];
    let total = list["totalCount"].as_i64().unwrap_or(0);
    let top: Vec<String> = list["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{} ({} lines)",
                text(&e["node"]["name"]),
                e["node"]["lineCount"]
            )
        })
        .collect();
    Ok(match total {
        0 => "unmapped products: none".to_owned(),
        _ => format!(
            "unmapped products: {total}, most ordered: {}",
            top.join(", ")
        ),
    })
}

/// `planningDemand` over a range of days.
#[derive(Debug)]
struct Demand {
    from: NaiveDate,
    to: NaiveDate,
    buckets: Vec<Value>,
    unmapped_lines: i64,
}

/// A sample of planning demand: the first [`DEMAND_DAYS`] days with demand from today on
/// (in the account's time zone); when there are none, as with the sandbox's orders of
/// 2024, the last days with demand up to the latest delivery day of the newest orders.
async fn planning_demand(api: &Api, connection_id: &str) -> Result<Vec<String>, WalkthroughError> {
    let today = today(api).await?;
    let ahead = demand(api, today, add_days(today, AHEAD_DAYS)).await?;
    if !ahead.buckets.is_empty() {
        let heading = "planning demand, the next days with demand:".to_owned();
        return describe_demand(api, heading, &ahead, days(&ahead.buckets, true)).await;
    }

    let Some(latest) = latest_delivery_day(api, connection_id).await? else {
        return Ok(vec![
            "planning demand: no confirmed order with a delivery date yet".to_owned(),
        ]);
    };
    let from = latest.checked_sub_days(Days::new(365)).unwrap_or(latest);
    let past = demand(api, from, latest).await?;
    let heading =
        format!("planning demand: none from {today} on; the last days with demand in the data:");
    describe_demand(api, heading, &past, days(&past.buckets, false)).await
}

/// Today in the account's time zone (UTC if it cannot be read).
async fn today(api: &Api) -> Result<NaiveDate, WalkthroughError> {
    let data = api
        .call("reading the account", "{ account { timeZone } }", json!({}))
        .await?;
    let zone = data["account"]["timeZone"].as_str().unwrap_or("UTC");
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    Ok(Utc::now().with_timezone(&zone).date_naive())
}

fn add_days(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

async fn demand(api: &Api, from: NaiveDate, to: NaiveDate) -> Result<Demand, WalkthroughError> {
    let query = "query($from: NaiveDate!, $to: NaiveDate!) { planningDemand(from: $from, \
                 to: $to) { unmappedLines buckets { itemId day quantity unit orderCount } } }";
    let data = api
        .call(
            "reading planning demand",
            query,
            json!({ "from": from, "to": to }),
        )
        .await?;
    let demand = &data["planningDemand"];
    Ok(Demand {
        from,
        to,
        buckets: demand["buckets"].as_array().cloned().unwrap_or_default(),
        unmapped_lines: demand["unmappedLines"].as_i64().unwrap_or(0),
    })
}

/// The latest delivery day among the connection's 50 newest confirmed or done orders.
async fn latest_delivery_day(
    api: &Api,
    connection_id: &str,
) -> Result<Option<NaiveDate>, WalkthroughError> {
    let query = "query($id: ID!) { salesRecords(filter: { connectionId: $id, status: \
                 [CONFIRMED, DONE], inScope: true }, first: 50) { edges { node { deliveryDay } } } }";
    let data = api
        .call(
            "reading Sales Records",
            query,
            json!({ "id": connection_id }),
        )
        .await?;
    let edges = data["salesRecords"]["edges"].as_array().cloned();
    Ok(edges
        .into_iter()
        .flatten()
        .filter_map(|edge| edge["node"]["deliveryDay"].as_str()?.parse().ok())
        .max())
}

/// The first (or last) [`DEMAND_DAYS`] days of the buckets (which come by day), in order.
fn days(buckets: &[Value], first: bool) -> Vec<String> {
    let mut days: Vec<String> = buckets.iter().map(|b| text(&b["day"])).collect();
    days.dedup();
    let skip = match first {
        true => 0,
        false => days.len().saturating_sub(DEMAND_DAYS),
    };
    days.into_iter().skip(skip).take(DEMAND_DAYS).collect()
}

/// The heading, a line per day naming each item's quantity, and the unmapped lines left out.
async fn describe_demand(
    api: &Api,
    heading: String,
    demand: &Demand,
    days: Vec<String>,
) -> Result<Vec<String>, WalkthroughError> {
    let names = item_names(api).await?;
    let mut lines = vec![heading];
    for day in days {
        let items: Vec<String> = demand
            .buckets
            .iter()
            .filter(|bucket| text(&bucket["day"]) == day)
            .map(|bucket| describe_bucket(bucket, &names))
            .collect();
        lines.push(format!("  {day}: {}", items.join(", ")));
    }
    if demand.buckets.is_empty() {
        lines.push("  no mapped item has demand".to_owned());
    }
    lines.push(format!(
        "  {} lines of unmapped products from {} to {} are not counted",
        demand.unmapped_lines, demand.from, demand.to
    ));
    Ok(lines)
}

/// E.g. `36 piece Corner Desk (2 orders)`.
fn describe_bucket(bucket: &Value, names: &HashMap<String, String>) -> String {
    let item = text(&bucket["itemId"]);
    let name = names.get(&item).unwrap_or(&item);
    let quantity = text(&bucket["quantity"]);
    let quantity = quantity
        .parse::<Decimal>()
        .map_or(quantity, |q| q.normalize().to_string());
    let orders = bucket["orderCount"].as_i64().unwrap_or(0);
    let plural = if orders == 1 { "order" } else { "orders" };
    format!(
        "{quantity} {} {name} ({orders} {plural})",
        text(&bucket["unit"])
    )
}

/// The names of the account's items (the first 500), by id.
async fn item_names(api: &Api) -> Result<HashMap<String, String>, WalkthroughError> {
    let query = "{ items(first: 500) { edges { node { id name } } } }";
    let data = api.call("reading items", query, json!({})).await?;
    let edges = data["items"]["edges"].as_array().cloned();
    Ok(edges
        .into_iter()
        .flatten()
        .map(|edge| (text(&edge["node"]["id"]), text(&edge["node"]["name"])))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(day: &str, item: &str, quantity: &str, orders: i64) -> Value {
        json!({ "day": day, "itemId": item, "quantity": quantity, "unit": "piece",
            "orderCount": orders })
    }

    fn buckets() -> Vec<Value> {
        [
            "2024-12-01",
            "2024-12-01",
            "2024-12-03",
            "2024-12-07",
            "2024-12-09",
        ]
        .iter()
        .enumerate()
        .map(|(index, day)| bucket(day, &format!("item-{index}"), "1", 1))
        .collect()
    }

    #[test]
    fn the_sample_takes_the_first_days_with_demand_each_once() {
        assert_eq!(
            days(&buckets(), true),
            ["2024-12-01", "2024-12-03", "2024-12-07"]
        );
    }

    #[test]
    fn the_sample_of_past_demand_takes_the_last_days_in_order() {
        assert_eq!(
            days(&buckets(), false),
            ["2024-12-03", "2024-12-07", "2024-12-09"]
        );
        assert_eq!(days(&buckets()[..2], false), ["2024-12-01"]);
    }

    #[test]
    fn a_bucket_reads_as_quantity_unit_item_name_and_orders() {
        let names = HashMap::from([("item-1".to_owned(), "Corner Desk".to_owned())]);
        assert_eq!(
            describe_bucket(&bucket("2024-12-01", "item-1", "36.000", 2), &names),
            "36 piece Corner Desk (2 orders)"
        );
        assert_eq!(
            describe_bucket(&bucket("2024-12-01", "item-2", "1.5", 1), &names),
            "1.5 piece item-2 (1 order)"
        );
    }
}
