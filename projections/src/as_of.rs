//! Sales Records as they stood at a past instant, folded from the event log itself rather
//! than from the `sales_records` tables, so an auditor sees what planning saw that day.
//!
//! An event counts at instant `at` when its writing transaction started at or before `at`
//! (`events.recorded_at`). Each order stream is folded as the `sales_records` projection folds
//! it: the content of its last event that carries the order, `REMOVED` when its last event is
//! a removal, in scope unless its last scope event says it left. Delivery days are read in the
//! account's time zone as it stood at `at`; a line's item is the product's mapping at `at`,
//! named as the item was named then.
//!
//! One query folds the account's order events up to `at` (grouped per stream, reading only
//! the payload of each stream's last events), filters, sorts and counts in the database; only
//! the asked page is decoded. The cost grows with the account's order events, not with the
//! page asked.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::sales_order::ImportedOrder;
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::runtime::ProjectionError;

/// Which records to list; every given condition must hold. The `salesRecords` filter in the
/// read models' terms, for the fold and for the `sales_records` tables alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AsOfFilter {
    /// Records of this source (`SourceKey::digest()`).
    pub source_digest: Option<String>,
    /// Any of these statuses (`QUOTATION`, `CONFIRMED`, `DONE`, `CANCELLED`, `REMOVED`).
    pub statuses: Option<Vec<String>>,
    /// Ordered at or after this instant.
    pub order_date_from: Option<DateTime<Utc>>,
    /// Ordered before this instant.
    pub order_date_to: Option<DateTime<Utc>>,
    /// Delivery day on or after this day.
    pub delivery_day_from: Option<NaiveDate>,
    /// Delivery day on or before this day.
    pub delivery_day_to: Option<NaiveDate>,
    /// The customer's id in the source.
    pub customer_id: Option<i64>,
    /// Text contained in the order number, customer name or customer reference.
    pub search: Option<String>,
    /// Only records with (true) or without (false) a product line whose product had no item.
    pub has_unmapped_lines: Option<bool>,
    /// Only records in (true) or out of (false) scope.
    pub in_scope: Option<bool>,
}

/// What to fold and which page of it to return.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOfQuery {
    /// The account.
    pub account_id: String,
    /// The instant.
    pub at: DateTime<Utc>,
    /// The conditions.
    pub filter: AsOfFilter,
    /// The most records returned.
    pub limit: i64,
    /// Records skipped first, in the list's order.
    pub offset: i64,
}

/// An item as it was named at the instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAsOf {
    /// PrepStation's id.
    pub id: String,
    /// Its name then.
    pub name: String,
}

/// One Sales Record as it stood.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordAsOf {
    /// The record's id (its order stream's id).
    pub record_id: String,
    /// The connection that had last recorded it.
    pub connection_id: String,
    /// The run that had last recorded it.
    pub last_sync_run_id: String,
    /// `QUOTATION`, `CONFIRMED`, `DONE`, `CANCELLED` or `REMOVED`.
    pub status: String,
    /// Whether it was in scope.
    pub in_scope: bool,
    /// Its delivery day in the account's time zone of then.
    pub delivery_day: Option<NaiveDate>,
    /// The order as last imported.
    pub order: ImportedOrder,
    /// Each line's item, in the order's line order; `None` where unmapped (or not a product).
    pub items: Vec<Option<ItemAsOf>>,
}

/// A page of records and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOfPage {
    /// Records matching the filter, in all.
    pub total: i64,
    /// The page, newest order date first, then order number and record id.
    pub records: Vec<RecordAsOf>,
}

/// The fold, as common table expressions: `mapped` (each product's mapping at the instant)
/// and `r` (each record with the columns the filter reads); binds account and instant.
fn push_fold(query: &mut QueryBuilder<'_, Postgres>, account: &str, at: DateTime<Utc>) {
    query.push(
        "WITH order_streams AS (
            SELECT aggregate_id AS record_id,
                   max(sequence) AS last_sequence,
                   max(sequence) FILTER (WHERE event_type <> 'OrderRemovedFromSource')
                       AS order_sequence,
                   (array_agg(event_type ORDER BY sequence DESC) FILTER (WHERE event_type IN
                       ('OrderImported', 'OrderLeftScope', 'OrderReturnedToScope')))[1]
                       AS scope_event
              FROM events
             WHERE aggregate_type = 'sales_order' AND account_id = ",
    );
    query.push_bind(account.to_owned());
    query.push(" AND recorded_at <= ").push_bind(at);
    query.push(
        " GROUP BY aggregate_id
        ), zone AS (
            SELECT coalesce((SELECT payload ->> 'time_zone' FROM events
                              WHERE aggregate_type = 'account' AND account_id = ",
    );
    query.push_bind(account.to_owned());
    query.push(" AND recorded_at <= ").push_bind(at);
    query.push(
        " ORDER BY sequence DESC LIMIT 1), 'UTC') AS name
        ), ",
    );
    push_mapped(query, account, at);
    query.push(
        ", folded AS (
            SELECT s.record_id,
                   substring(s.record_id FROM ':([^:]*):[^:]*$') AS source_digest,
                   last.payload -> 'by' ->> 'connection_id' AS connection_id,
                   last.payload -> 'by' ->> 'run_id' AS last_sync_run_id,
                   CASE WHEN last.event_type = 'OrderRemovedFromSource' THEN 'REMOVED'
                        ELSE body.payload -> 'order' ->> 'status' END AS status,
                   coalesce(s.scope_event <> 'OrderLeftScope', true) AS in_scope,
                   body.global_position AS body_position,
                   body.payload -> 'order' AS body
              FROM order_streams s
              JOIN events last ON last.aggregate_type = 'sales_order'
                   AND last.aggregate_id = s.record_id AND last.sequence = s.last_sequence
              JOIN events body ON body.aggregate_type = 'sales_order'
                   AND body.aggregate_id = s.record_id AND body.sequence = s.order_sequence
        ), r AS (
            SELECT f.*,
                   f.body ->> 'number' AS order_number,
                   (f.body ->> 'order_date')::timestamptz AS order_date,
                   (f.body -> 'customer' ->> 'id')::bigint AS customer_id,
                   f.body -> 'customer' ->> 'name' AS customer_name,
                   f.body ->> 'customer_reference' AS customer_reference,
                   (coalesce((f.body ->> 'commitment_date')::timestamptz,
                             (f.body ->> 'expected_date')::timestamptz)
                       AT TIME ZONE (SELECT name FROM zone))::date AS delivery_day
              FROM folded f
        ) ",
    );
}

/// `mapped`: each product's item at the instant (NULL once unmapped), by source and product.
fn push_mapped(query: &mut QueryBuilder<'_, Postgres>, account: &str, at: DateTime<Utc>) {
    query.push(
        "mapped AS (
            SELECT DISTINCT ON (aggregate_id)
                   substring(aggregate_id FROM ':([^:]*):[^:]*$') AS source_digest,
                   (payload ->> 'odoo_product_id')::bigint AS product_id,
                   CASE WHEN event_type = 'ProductMapped' THEN payload ->> 'item_id' END AS item_id
              FROM events
             WHERE aggregate_type = 'product_mapping' AND account_id = ",
    );
    query.push_bind(account.to_owned());
    query.push(" AND recorded_at <= ").push_bind(at);
    query.push(" ORDER BY aggregate_id, sequence DESC)");
}

fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &AsOfFilter) {
    query.push(" WHERE true");
    push_record_conditions(query, filter);
    if let Some(unmapped) = filter.has_unmapped_lines {
        query.push(if unmapped {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        });
        query.push(
            " (SELECT 1 FROM jsonb_array_elements(r.body -> 'lines') l
                WHERE l ->> 'kind' = 'PRODUCT' AND jsonb_typeof(l -> 'product') = 'object'
                  AND NOT EXISTS (SELECT 1 FROM mapped m
                                   WHERE m.source_digest = r.source_digest
                                     AND m.product_id = (l -> 'product' ->> 'id')::bigint
                                     AND m.item_id IS NOT NULL))",
        );
    }
}

/// The filter's conditions on a record's own columns, each as ` AND …` on a relation `r`
/// with the columns of `sales_records` (the fold's and the table's alike). Unmapped lines are
/// left to the caller: the fold and the table keep lines and mappings differently.
pub fn push_record_conditions(query: &mut QueryBuilder<'_, Postgres>, filter: &AsOfFilter) {
    if let Some(source) = &filter.source_digest {
        query
            .push(" AND r.source_digest = ")
            .push_bind(source.clone());
    }
    if let Some(statuses) = &filter.statuses {
        query
            .push(" AND r.status = ANY(")
            .push_bind(statuses.clone())
            .push(")");
    }
    push_dates(query, filter);
    if let Some(customer) = filter.customer_id {
        query.push(" AND r.customer_id = ").push_bind(customer);
    }
    if let Some(pattern) = search_pattern(filter.search.as_deref()) {
        query
            .push(" AND (r.order_number ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR r.customer_name ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR r.customer_reference ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
    if let Some(in_scope) = filter.in_scope {
        query.push(" AND r.in_scope = ").push_bind(in_scope);
    }
}

fn push_dates(query: &mut QueryBuilder<'_, Postgres>, filter: &AsOfFilter) {
    if let Some(from) = filter.order_date_from {
        query.push(" AND r.order_date >= ").push_bind(from);
    }
    if let Some(to) = filter.order_date_to {
        query.push(" AND r.order_date < ").push_bind(to);
    }
    if let Some(from) = filter.delivery_day_from {
        query.push(" AND r.delivery_day >= ").push_bind(from);
    }
    if let Some(to) = filter.delivery_day_to {
        query.push(" AND r.delivery_day <= ").push_bind(to);
    }
}

/// An ILIKE pattern matching the text anywhere, its wildcards escaped; `None` for blank text.
fn search_pattern(search: Option<&str>) -> Option<String> {
    let text = search.map(str::trim).filter(|s| !s.is_empty())?;
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

#[derive(Debug, sqlx::FromRow)]
struct FoldedRow {
    record_id: String,
    source_digest: Option<String>,
    connection_id: Option<String>,
    last_sync_run_id: Option<String>,
    status: Option<String>,
    in_scope: bool,
    delivery_day: Option<NaiveDate>,
    body_position: i64,
    body: Value,
    total: i64,
}

/// The records of the account as they stood at `query.at`, filtered, one page of them. The
/// page and the count come from one fold; a page past the end counts in a second query.
pub async fn sales_records_as_of(
    pool: &PgPool,
    query: &AsOfQuery,
) -> Result<AsOfPage, ProjectionError> {
    let mut list = QueryBuilder::<Postgres>::new("");
    push_fold(&mut list, &query.account_id, query.at);
    list.push(
        "SELECT r.record_id, r.source_digest, r.connection_id, r.last_sync_run_id, r.status,
                r.in_scope, r.delivery_day, r.body_position, r.body, count(*) OVER () AS total
           FROM r",
    );
    push_filter(&mut list, &query.filter);
    list.push(" ORDER BY r.order_date DESC NULLS LAST, r.order_number, r.record_id LIMIT ")
        .push_bind(query.limit)
        .push(" OFFSET ")
        .push_bind(query.offset);
    let rows: Vec<FoldedRow> = list.build_query_as().fetch_all(pool).await?;
    let total = match rows.first() {
        Some(row) => row.total,
        None if query.offset == 0 => 0,
        None => count(pool, query).await?,
    };

    let items = items_as_of(pool, query, &rows).await?;
    let records = rows
        .into_iter()
        .map(|row| record(row, &items))
        .collect::<Result<_, _>>()?;
    Ok(AsOfPage { total, records })
}

async fn count(pool: &PgPool, query: &AsOfQuery) -> Result<i64, ProjectionError> {
    let mut count = QueryBuilder::<Postgres>::new("");
    push_fold(&mut count, &query.account_id, query.at);
    count.push("SELECT count(*) FROM r");
    push_filter(&mut count, &query.filter);
    Ok(count.build_query_scalar().fetch_one(pool).await?)
}

type ItemsByProduct = HashMap<(String, i64), ItemAsOf>;

/// The items the page's products were mapped to at the instant, named as they were then.
async fn items_as_of(
    pool: &PgPool,
    query: &AsOfQuery,
    rows: &[FoldedRow],
) -> Result<ItemsByProduct, ProjectionError> {
    let products: Vec<i64> = rows
        .iter()
        .flat_map(|row| row.body["lines"].as_array().into_iter().flatten())
        .filter_map(|line| line["product"]["id"].as_i64())
        .collect();
    if products.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = QueryBuilder::<Postgres>::new("WITH ");
    push_mapped(&mut sql, &query.account_id, query.at);
    sql.push(
        ", named AS (
            SELECT DISTINCT ON (aggregate_id) payload -> 'item' ->> 'id' AS item_id,
                   payload -> 'item' ->> 'name' AS name
              FROM events
             WHERE aggregate_type = 'item' AND account_id = ",
    );
    sql.push_bind(query.account_id.clone());
    sql.push(" AND recorded_at <= ").push_bind(query.at);
    sql.push(
        " ORDER BY aggregate_id, sequence DESC)
        SELECT m.source_digest, m.product_id, m.item_id, coalesce(n.name, '')
          FROM mapped m LEFT JOIN named n ON n.item_id = m.item_id
         WHERE m.item_id IS NOT NULL AND m.product_id = ANY(",
    );
    sql.push_bind(products).push(")");
    let found: Vec<(String, i64, String, String)> = sql.build_query_as().fetch_all(pool).await?;
    Ok(found
        .into_iter()
        .map(|(digest, product, id, name)| ((digest, product), ItemAsOf { id, name }))
        .collect())
}

fn record(row: FoldedRow, items: &ItemsByProduct) -> Result<RecordAsOf, ProjectionError> {
    let malformed = |reason: String| ProjectionError::Malformed {
        position: row.body_position,
        event_type: "sales_order".to_owned(),
        reason,
    };
    let order: ImportedOrder =
        serde_json::from_value(row.body.clone()).map_err(|e| malformed(e.to_string()))?;
    let digest = row.source_digest.clone().unwrap_or_default();
    let line_items = order
        .lines
        .iter()
        .map(|line| {
            let product = line.product.as_ref()?;
            items.get(&(digest.clone(), product.id)).cloned()
        })
        .collect();
    let missing = |what: &str| malformed(format!("the folded record has no {what}"));
    Ok(RecordAsOf {
        connection_id: row.connection_id.ok_or_else(|| missing("connection"))?,
        last_sync_run_id: row.last_sync_run_id.ok_or_else(|| missing("run"))?,
        status: row.status.ok_or_else(|| missing("status"))?,
        record_id: row.record_id,
        in_scope: row.in_scope,
        delivery_day: row.delivery_day,
        order,
        items: line_items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_pattern_escapes_the_wildcards_of_the_text() {
        assert_eq!(
            search_pattern(Some(" 50%_off\\ ")).as_deref(),
            Some("%50\\%\\_off\\\\%")
        );
        assert_eq!(search_pattern(Some("  ")), None);
        assert_eq!(search_pattern(None), None);
    }
}
