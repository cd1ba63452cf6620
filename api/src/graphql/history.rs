//! The audit history: what each sync of a connection did (`syncHistory`, read from the
//! `sync_history` projection) and Sales Records as they stood at a past instant
//! (`salesRecordsAsOf`, folded from the event log by `projections::as_of`). Both are scoped to
//! the caller's account and need the audit-history permission (admins and auditors).

use application::access::Operation;
use application::AppError;
use async_graphql::connection::{Connection as Page, Edge, EmptyFields};
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::sales_order::{ImportedLine, LineKind};
use projections::as_of::{self, AsOfQuery, ItemAsOf, RecordAsOf};
use sqlx::PgPool;

use super::errors::{invalid, GqlResult};
use super::query::{caller, page_size};
use super::read_models::{
    connection_source, db, decode_offset, encode_offset, reads, record_filter, LineItem,
    LineProduct, OdooRef, SalesLineKind, SalesRecord, SalesRecordFilter, SalesRecordLine,
    SalesRecordStatus,
};
use super::types::TotalCount;

/// One event of a connection's history.
#[derive(Debug, Clone, SimpleObject)]
pub struct SyncHistoryEntry {
    /// The event's global position in the event log.
    pub position: i64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who caused it: the token subject, `scheduler` or `system`.
    pub actor: String,
    /// The stable event type, e.g. `SyncStarted` or `OrderUpdated`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// The sync run it belongs to; null for the connection's own events and mappings made
    /// by hand.
    pub sync_run_id: Option<ID>,
    /// What it belongs to: `connection`, `sync_run`, `sales_order` or `product_mapping`.
    pub stream_type: String,
    /// That stream's id (for orders, the Sales Record id).
    pub stream_id: String,
    /// What happened, in a sentence; never credentials.
    pub summary: String,
}

#[derive(Debug, sqlx::FromRow)]
struct HistoryRow {
    transaction_id: i64,
    position: i64,
    recorded_at: DateTime<Utc>,
    actor: String,
    event_type: String,
    run_id: Option<String>,
    stream_type: String,
    stream_id: String,
    summary: String,
}

impl From<HistoryRow> for SyncHistoryEntry {
    fn from(row: HistoryRow) -> Self {
        Self {
            position: row.position,
            recorded_at: row.recorded_at,
            actor: row.actor,
            event_type: row.event_type,
            sync_run_id: row.run_id.map(ID),
            stream_type: row.stream_type,
            stream_id: row.stream_id,
            summary: row.summary,
        }
    }
}

fn encode_history_cursor(row: &HistoryRow) -> String {
    URL_SAFE_NO_PAD.encode(format!("h:{}:{}", row.transaction_id, row.position))
}

fn decode_history_cursor(cursor: &str) -> Result<(i64, i64)> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (transaction, position) = text.strip_prefix("h:")?.split_once(':')?;
            Some((transaction.parse().ok()?, position.parse().ok()?))
        })
        .ok_or_else(|| invalid("after", "must be an endCursor returned by an earlier page"))
}

/// Whether the account has (or had) this connection; deleted connections keep their history.
async fn connection_of_account(pool: &PgPool, account: &str, id: &ID) -> Result<()> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM connection_registry WHERE connection_id = $1 AND account_id = $2",
    )
    .bind(id.as_str())
    .bind(account)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    found.map(|_| ()).ok_or(AppError::NotFound).gql()
}

fn line(line: ImportedLine, item: Option<ItemAsOf>) -> SalesRecordLine {
    SalesRecordLine {
        odoo_line_id: line.source_line_id,
        kind: match line.kind {
            LineKind::Product => SalesLineKind::Product,
            LineKind::Section => SalesLineKind::Section,
            LineKind::Note => SalesLineKind::Note,
        },
        product: line.product.map(|p| LineProduct {
            odoo_id: p.id,
            name: Some(p.name),
            internal_reference: p.internal_reference,
            barcode: p.barcode,
        }),
        description: line.description,
        quantity: line.quantity,
        unit: line.unit.map(|u| u.name),
        unit_price: line.unit_price,
        discount: line.discount,
        subtotal: line.subtotal,
        item: item.map(|i| LineItem {
            id: ID(i.id),
            name: i.name,
        }),
    }
}

fn sales_record(record: RecordAsOf) -> SalesRecord {
    let order = record.order;
    let lines = order
        .lines
        .into_iter()
        .zip(record.items)
        .map(|(l, item)| line(l, item))
        .collect();
    let odoo_ref = |r: domain::sales_order::SourceRef| OdooRef {
        odoo_id: r.id,
        name: Some(r.name),
    };
    SalesRecord {
        id: ID(record.record_id),
        connection_id: ID(record.connection_id),
        order_number: order.number,
        order_date: order.order_date,
        customer: order.customer.map(odoo_ref),
        status: SalesRecordStatus::from_sql(&record.status),
        in_scope: record.in_scope,
        delivery_date: order.commitment_date.or(order.expected_date),
        delivery_day: record.delivery_day,
        currency: order.currency,
        amount_untaxed: order.amount_untaxed,
        amount_total: order.amount_total,
        company: order.company.map(odoo_ref),
        customer_reference: order.customer_reference,
        last_sync_run_id: ID(record.last_sync_run_id),
        lines,
    }
}

/// Queries on the audit history.
#[derive(Debug, Default)]
pub struct HistoryQuery;

#[Object]
impl HistoryQuery {
    /// Every event of a connection's history in the order they were recorded: its own
    /// changes (never its API key), its sync runs, the order events they recorded and the
    /// product mappings made through it or at the end of its runs. A Relay connection with
    /// `totalCount`; `first` is at most 500 (default 20). Admins and auditors.
    #[graphql(complexity = 200)]
    async fn sync_history(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<String, SyncHistoryEntry, TotalCount, EmptyFields>> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadAuditHistory).gql()?;
        let first = i64::from(page_size(first)?);
        let after = after.as_deref().map(decode_history_cursor).transpose()?;
        let pool = &reads(ctx)?.pool;
        let account = caller.account_id.to_string();
        connection_of_account(pool, &account, &connection_id).await?;

        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sync_history WHERE account_id = $1 AND connection_id = $2",
        )
        .bind(&account)
        .bind(connection_id.as_str())
        .fetch_one(pool)
        .await
        .map_err(db)?;
        let (transaction, position) = after.unwrap_or((-1, -1));
        let rows: Vec<HistoryRow> = sqlx::query_as(
            "SELECT position, recorded_at, actor, event_type, run_id, stream_type, stream_id,
                    summary, transaction_id
               FROM sync_history
              WHERE account_id = $1 AND connection_id = $2
                AND (transaction_id, position) > ($3, $4)
              ORDER BY transaction_id, position
              LIMIT $5",
        )
        .bind(&account)
        .bind(connection_id.as_str())
        .bind(transaction)
        .bind(position)
        .bind(first + 1)
        .fetch_all(pool)
        .await
        .map_err(db)?;

        let has_next = i64::try_from(rows.len()).unwrap_or(i64::MAX) > first;
        let mut page = Page::with_additional_fields(
            after.is_some(),
            has_next,
            TotalCount { total_count: total },
        );
        for row in rows.into_iter().take(first as usize) {
            page.edges
                .push(Edge::new(encode_history_cursor(&row), row.into()));
        }
        Ok(page)
    }

    /// The account's Sales Records as they stood at `at`, computed from the recorded events:
    /// the same order, filter and shape as `salesRecords`, with each line's item as the
    /// mapping stood then. An event counts when its writing transaction started at or before
    /// `at`. `first` is at most 500 (default 20). Admins and auditors.
    #[graphql(complexity = 300)]
    async fn sales_records_as_of(
        &self,
        ctx: &Context<'_>,
        at: DateTime<Utc>,
        filter: Option<SalesRecordFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<String, SalesRecord, TotalCount, EmptyFields>> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadAuditHistory).gql()?;
        let first = i64::from(page_size(first)?);
        let offset = after
            .as_deref()
            .map(decode_offset)
            .transpose()?
            .unwrap_or(0);
        let filter = filter.unwrap_or_default();
        let pool = &reads(ctx)?.pool;
        let account = caller.account_id.to_string();
        let source = match &filter.connection_id {
            Some(id) => Some(connection_source(pool, &account, id).await?),
            None => None,
        };

        let query = AsOfQuery {
            account_id: account,
            at,
            filter: record_filter(filter, source),
            limit: first + 1,
            offset,
        };
        let folded = as_of::sales_records_as_of(pool, &query)
            .await
            .map_err(|e| AppError::internal(anyhow::Error::new(e)))
            .gql()?;

        let has_next = i64::try_from(folded.records.len()).unwrap_or(i64::MAX) > first;
        let mut page = Page::with_additional_fields(
            offset > 0,
            has_next,
            TotalCount {
                total_count: folded.total,
            },
        );
        for (index, record) in folded.records.into_iter().take(first as usize).enumerate() {
            let position = offset + i64::try_from(index).unwrap_or(0) + 1;
            page.edges
                .push(Edge::new(encode_offset(position), sales_record(record)));
        }
        Ok(page)
    }
}
