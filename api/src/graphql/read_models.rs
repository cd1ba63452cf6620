//! Read-model queries: Sales Records and projection status, read from the tables the
//! projections keep (see docs/read-models.md). Every query is scoped to the caller's account.
//! Planning demand has its own module, `planning`.

use application::access::Operation;
use application::AppError;
use async_graphql::connection::{Connection as Page, Edge, EmptyFields};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::ConnectionId;
use projections::as_of::{self, AsOfFilter};
use rust_decimal::Decimal;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::errors::{invalid, not_found, ErrorCode, GqlResult};
use super::query::{caller, page_size};
use super::types::TotalCount;

/// The pool the read models are read from, shared with the schema.
#[derive(Debug, Clone)]
pub struct ReadModels {
    /// The database holding the projections' tables.
    pub pool: PgPool,
}

pub(super) fn reads<'a>(ctx: &Context<'a>) -> Result<&'a ReadModels> {
    Ok(&super::query::use_cases(ctx)?.read_models)
}

pub(super) fn db(error: sqlx::Error) -> async_graphql::Error {
    ErrorCode::from(AppError::internal(error)).into_error()
}

/// A Sales Record's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SalesRecordStatus {
    /// Draft or sent in Odoo.
    Quotation,
    /// Confirmed and open.
    Confirmed,
    /// Confirmed and locked.
    Done,
    /// Cancelled in Odoo.
    Cancelled,
    /// Deleted in Odoo.
    Removed,
}

impl SalesRecordStatus {
    pub(super) fn as_sql(self) -> &'static str {
        match self {
            Self::Quotation => "QUOTATION",
            Self::Confirmed => "CONFIRMED",
            Self::Done => "DONE",
            Self::Cancelled => "CANCELLED",
            Self::Removed => "REMOVED",
        }
    }

    pub(super) fn from_sql(text: &str) -> Self {
        match text {
            "QUOTATION" => Self::Quotation,
            "DONE" => Self::Done,
            "CANCELLED" => Self::Cancelled,
            "REMOVED" => Self::Removed,
            _ => Self::Confirmed,
        }
    }
}

/// Which Sales Records to list; every given condition must hold.
#[derive(Debug, Clone, Default, InputObject)]
pub struct SalesRecordFilter {
    /// Records of this connection's Odoo source (also those a deleted connection to the same
    /// source imported).
    pub connection_id: Option<ID>,
    /// Any of these statuses.
    pub status: Option<Vec<SalesRecordStatus>>,
    /// Ordered at or after this instant.
    pub order_date_from: Option<DateTime<Utc>>,
    /// Ordered before this instant.
    pub order_date_to: Option<DateTime<Utc>>,
    /// Delivery day (in the account's time zone) on or after this day.
    pub delivery_date_from: Option<NaiveDate>,
    /// Delivery day on or before this day.
    pub delivery_date_to: Option<NaiveDate>,
    /// The customer's Odoo id.
    pub customer_odoo_id: Option<i64>,
    /// Text contained in the order number, customer name or customer reference (at most
    /// 200 characters; `%` and `_` match only themselves).
    pub search: Option<String>,
    /// Only records with (true) or without (false) a product line whose product has no item.
    pub has_unmapped_lines: Option<bool>,
    /// Only records in (true) or out of (false) the connection's scope.
    pub in_scope: Option<bool>,
}

/// A record of Odoo (customer, company) by its id there.
#[derive(Debug, Clone, SimpleObject)]
pub struct OdooRef {
    /// The id in Odoo.
    pub odoo_id: i64,
    /// Its display name at import.
    pub name: Option<String>,
}

/// The product on a line, as Odoo describes it.
#[derive(Debug, Clone, SimpleObject)]
pub struct LineProduct {
    /// The product's id in Odoo.
    pub odoo_id: i64,
    /// Its name.
    pub name: Option<String>,
    /// Its internal reference.
    pub internal_reference: Option<String>,
    /// Its barcode.
    pub barcode: Option<String>,
}

/// The PrepStation item a line's product is mapped to.
#[derive(Debug, Clone, SimpleObject)]
pub struct LineItem {
    /// The item's id.
    pub id: ID,
    /// Its name.
    pub name: String,
}

/// What a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SalesLineKind {
    /// A product sold.
    Product,
    /// A section heading.
    Section,
    /// A free-text note.
    Note,
}

/// One line of a Sales Record.
#[derive(Debug, Clone, SimpleObject)]
pub struct SalesRecordLine {
    /// The line's id in Odoo.
    pub odoo_line_id: i64,
    /// Product, section or note.
    pub kind: SalesLineKind,
    /// The product, on product lines.
    pub product: Option<LineProduct>,
    /// The line's description.
    pub description: String,
    /// Quantity in the line's unit.
    pub quantity: Decimal,
    /// The line's unit of measure.
    pub unit: Option<String>,
    /// Price per line unit.
    pub unit_price: Decimal,
    /// Discount in percent.
    pub discount: Decimal,
    /// Line total without taxes.
    pub subtotal: Decimal,
    /// The mapped item; null while the product is unmapped.
    pub item: Option<LineItem>,
}

/// One Odoo sales order as imported.
#[derive(Debug, Clone, SimpleObject)]
pub struct SalesRecord {
    /// The record's id.
    pub id: ID,
    /// The connection that last recorded it.
    pub connection_id: ID,
    /// The order number, e.g. `S00042`.
    pub order_number: String,
    /// When it was ordered.
    pub order_date: Option<DateTime<Utc>>,
    /// The customer.
    pub customer: Option<OdooRef>,
    /// The status.
    pub status: SalesRecordStatus,
    /// Whether it is in the connection's scope (out of scope: kept, not planned).
    pub in_scope: bool,
    /// The commitment date, else the expected date.
    pub delivery_date: Option<DateTime<Utc>>,
    /// The delivery date as a day in the account's time zone.
    pub delivery_day: Option<NaiveDate>,
    /// The currency code.
    pub currency: Option<String>,
    /// Total without taxes.
    pub amount_untaxed: Option<Decimal>,
    /// Total with taxes.
    pub amount_total: Decimal,
    /// The selling company.
    pub company: Option<OdooRef>,
    /// The customer's own reference.
    pub customer_reference: Option<String>,
    /// The sync run that last recorded it.
    pub last_sync_run_id: ID,
    /// The lines, in Odoo's order.
    pub lines: Vec<SalesRecordLine>,
}

#[derive(Debug, sqlx::FromRow)]
struct RecordRow {
    record_id: String,
    connection_id: String,
    order_number: String,
    order_date: Option<DateTime<Utc>>,
    customer_id: Option<i64>,
    customer_name: Option<String>,
    status: String,
    in_scope: bool,
    delivery_date: Option<DateTime<Utc>>,
    delivery_day: Option<NaiveDate>,
    currency: Option<String>,
    amount_untaxed: Option<Decimal>,
    amount_total: Decimal,
    company_id: Option<i64>,
    company_name: Option<String>,
    customer_reference: Option<String>,
    last_sync_run_id: String,
}

#[derive(Debug, sqlx::FromRow)]
struct LineRow {
    record_id: String,
    source_line_id: i64,
    kind: String,
    product_id: Option<i64>,
    product_name: Option<String>,
    internal_reference: Option<String>,
    barcode: Option<String>,
    description: String,
    quantity: Decimal,
    unit_name: Option<String>,
    unit_price: Decimal,
    discount: Decimal,
    subtotal: Decimal,
    item_id: Option<String>,
    item_name: Option<String>,
}

const RECORD_COLUMNS: &str = "r.record_id, r.connection_id, r.order_number, r.order_date,
    r.customer_id, r.customer_name, r.status, r.in_scope, r.delivery_date, r.delivery_day,
    r.currency, r.amount_untaxed, r.amount_total, r.company_id, r.company_name,
    r.customer_reference, r.last_sync_run_id";

/// The longest `search` text `salesRecords` accepts, in characters.
const MAX_SEARCH_CHARS: usize = 200;

/// Refuses a filter that could only fail in the database or match nothing by mistake.
fn check_filter(filter: &SalesRecordFilter) -> Result<()> {
    if let Some(search) = &filter.search {
        if search.chars().count() > MAX_SEARCH_CHARS {
            return Err(invalid(
                "filter.search",
                "must be at most 200 characters; search for a shorter part",
            ));
        }
        if search.contains('\0') {
            return Err(invalid(
                "filter.search",
                "must not contain the NUL character; remove it",
            ));
        }
    }
    if let (Some(from), Some(to)) = (filter.order_date_from, filter.order_date_to) {
        if to < from {
            return Err(invalid(
                "filter.orderDateTo",
                "must not be before orderDateFrom; swap them",
            ));
        }
    }
    if let (Some(from), Some(to)) = (filter.delivery_date_from, filter.delivery_date_to) {
        if to < from {
            return Err(invalid(
                "filter.deliveryDateTo",
                "must be on or after deliveryDateFrom; swap them",
            ));
        }
    }
    Ok(())
}

/// The source digest of one of the account's connections (deleted ones too); NOT_FOUND for
/// anything else.
pub(super) async fn connection_source(pool: &PgPool, account: &str, id: &ID) -> Result<String> {
    let unknown = || {
        not_found(
            "filter.connectionId",
            "use the id of one of your account's connections",
        )
    };
    let id = ConnectionId::parse(id.as_str()).ok_or_else(unknown)?;
    let digest: Option<String> = sqlx::query_scalar(
        "SELECT substr(encode(sha256(convert_to(source_key, 'UTF8')), 'hex'), 1, 32)
           FROM connection_registry WHERE connection_id = $1 AND account_id = $2",
    )
    .bind(id.to_string())
    .bind(account)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    digest.ok_or_else(unknown)
}

fn push_filter(
    query: &mut QueryBuilder<'_, Postgres>,
    account: &str,
    source: Option<String>,
    filter: &SalesRecordFilter,
) {
    query
        .push(" WHERE r.account_id = ")
        .push_bind(account.to_owned());
    as_of::push_record_conditions(query, &record_filter(filter.clone(), source));
    if let Some(unmapped) = filter.has_unmapped_lines {
        query.push(if unmapped {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        });
        query.push(
            " (SELECT 1 FROM sales_record_lines l
                LEFT JOIN product_mappings m ON m.account_id = l.account_id
                     AND m.source_digest = l.source_digest AND m.odoo_product_id = l.product_id
               WHERE l.record_id = r.record_id AND l.kind = 'PRODUCT'
                 AND l.product_id IS NOT NULL AND m.item_id IS NULL)",
        );
    }
}

/// The GraphQL filter in the read models' terms, the connection resolved to its source.
pub(super) fn record_filter(
    filter: SalesRecordFilter,
    source_digest: Option<String>,
) -> AsOfFilter {
    AsOfFilter {
        source_digest,
        statuses: filter
            .status
            .map(|statuses| statuses.iter().map(|s| s.as_sql().to_owned()).collect()),
        order_date_from: filter.order_date_from,
        order_date_to: filter.order_date_to,
        delivery_day_from: filter.delivery_date_from,
        delivery_day_to: filter.delivery_date_to,
        customer_id: filter.customer_odoo_id,
        search: filter.search,
        has_unmapped_lines: filter.has_unmapped_lines,
        in_scope: filter.in_scope,
    }
}

async fn load_lines(pool: &PgPool, rows: Vec<RecordRow>) -> Result<Vec<SalesRecord>> {
    let ids: Vec<String> = rows.iter().map(|r| r.record_id.clone()).collect();
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT l.record_id, l.source_line_id, l.kind, l.product_id, l.product_name,
                l.internal_reference, l.barcode, l.description, l.quantity, l.unit_name,
                l.unit_price, l.discount, l.subtotal, i.item_id, i.name AS item_name
           FROM sales_record_lines l
           LEFT JOIN product_mappings m ON m.account_id = l.account_id
                AND m.source_digest = l.source_digest AND m.odoo_product_id = l.product_id
           LEFT JOIN items i ON i.account_id = m.account_id AND i.item_id = m.item_id
          WHERE l.record_id = ANY($1)
          ORDER BY l.record_id, l.position",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut by_record: std::collections::HashMap<String, Vec<SalesRecordLine>> =
        std::collections::HashMap::new();
    for line in lines {
        by_record
            .entry(line.record_id.clone())
            .or_default()
            .push(SalesRecordLine {
                odoo_line_id: line.source_line_id,
                kind: match line.kind.as_str() {
                    "SECTION" => SalesLineKind::Section,
                    "NOTE" => SalesLineKind::Note,
                    _ => SalesLineKind::Product,
                },
                product: line.product_id.map(|odoo_id| LineProduct {
                    odoo_id,
                    name: line.product_name.clone(),
                    internal_reference: line.internal_reference.clone(),
                    barcode: line.barcode.clone(),
                }),
                description: line.description,
                quantity: line.quantity,
                unit: line.unit_name,
                unit_price: line.unit_price,
                discount: line.discount,
                subtotal: line.subtotal,
                item: line.item_id.map(|id| LineItem {
                    id: ID(id),
                    name: line.item_name.unwrap_or_default(),
                }),
            });
    }
    Ok(rows
        .into_iter()
        .map(|row| SalesRecord {
            lines: by_record.remove(&row.record_id).unwrap_or_default(),
            id: ID(row.record_id),
            connection_id: ID(row.connection_id),
            order_number: row.order_number,
            order_date: row.order_date,
            customer: row.customer_id.map(|odoo_id| OdooRef {
                odoo_id,
                name: row.customer_name,
            }),
            status: SalesRecordStatus::from_sql(&row.status),
            in_scope: row.in_scope,
            delivery_date: row.delivery_date,
            delivery_day: row.delivery_day,
            currency: row.currency,
            amount_untaxed: row.amount_untaxed,
            amount_total: row.amount_total,
            company: row.company_id.map(|odoo_id| OdooRef {
                odoo_id,
                name: row.company_name,
            }),
            customer_reference: row.customer_reference,
            last_sync_run_id: ID(row.last_sync_run_id),
        })
        .collect())
}

pub(super) fn decode_offset(cursor: &str) -> Result<i64> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("o:").and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| invalid("after", "must be an endCursor returned by an earlier page"))
}

pub(super) fn encode_offset(offset: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

/// A projection's position and lag.
#[derive(Debug, Clone, SimpleObject)]
pub struct ProjectionInfo {
    /// Its name, as `prepsync replay` takes it.
    pub name: String,
    /// The global position of the last event applied.
    pub position: i64,
    /// Events recorded but not applied yet.
    pub lag_events: i64,
    /// Seconds since the oldest event not applied yet was recorded.
    pub lag_seconds: f64,
    /// For a read model made of SQL views over another projection's tables (e.g.
    /// `planning_demand` over `sales_records`), that projection: position and lag are its.
    /// Null for a projection with its own checkpoint.
    pub view_of: Option<String>,
}

/// Queries on the read models.
#[derive(Debug, Default)]
pub struct ReadModelQuery;

#[Object]
impl ReadModelQuery {
    /// The account's Sales Records, newest order date first, then order number, as a Relay
    /// connection with `totalCount`. `first` is at most 500 (default 20).
    #[graphql(complexity = 200)]
    async fn sales_records(
        &self,
        ctx: &Context<'_>,
        filter: Option<SalesRecordFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<String, SalesRecord, TotalCount, EmptyFields>> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadSalesRecords).gql()?;
        let first = i64::from(page_size(first)?);
        let offset = after
            .as_deref()
            .map(decode_offset)
            .transpose()?
            .unwrap_or(0);
        let filter = filter.unwrap_or_default();
        check_filter(&filter)?;
        let pool = &reads(ctx)?.pool;
        let account = caller.account_id.to_string();
        let source = match &filter.connection_id {
            Some(id) => Some(connection_source(pool, &account, id).await?),
            None => None,
        };

        let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM sales_records r");
        push_filter(&mut count, &account, source.clone(), &filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(pool)
            .await
            .map_err(db)?;

        let mut list =
            QueryBuilder::<Postgres>::new(format!("SELECT {RECORD_COLUMNS} FROM sales_records r"));
        push_filter(&mut list, &account, source, &filter);
        list.push(" ORDER BY r.order_date DESC NULLS LAST, r.order_number, r.record_id LIMIT ")
            .push_bind(first + 1)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows: Vec<RecordRow> = list.build_query_as().fetch_all(pool).await.map_err(db)?;
        let has_next = i64::try_from(rows.len()).unwrap_or(i64::MAX) > first;
        let rows: Vec<RecordRow> = rows.into_iter().take(first as usize).collect();
        let records = load_lines(pool, rows).await?;

        let mut page =
            Page::with_additional_fields(offset > 0, has_next, TotalCount { total_count: total });
        for (index, record) in records.into_iter().enumerate() {
            let position = offset + i64::try_from(index).unwrap_or(0) + 1;
            page.edges.push(Edge::new(encode_offset(position), record));
        }
        Ok(page)
    }

    /// One Sales Record of the account.
    #[graphql(complexity = 50)]
    async fn sales_record(&self, ctx: &Context<'_>, id: ID) -> Result<SalesRecord> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadSalesRecords).gql()?;
        if id.contains('\0') {
            return Err(ErrorCode::from(AppError::NotFound).into_error());
        }
        let pool = &reads(ctx)?.pool;
        let row: Option<RecordRow> = sqlx::query_as(&format!(
            "SELECT {RECORD_COLUMNS} FROM sales_records r
              WHERE r.record_id = $1 AND r.account_id = $2"
        ))
        .bind(id.as_str())
        .bind(caller.account_id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(db)?;
        let row = row.ok_or(AppError::NotFound).gql()?;
        load_lines(pool, vec![row])
            .await?
            .pop()
            .ok_or(AppError::NotFound)
            .gql()
    }

    /// Every projection's position and lag. Admins only.
    #[graphql(complexity = 50)]
    async fn projections(&self, ctx: &Context<'_>) -> Result<Vec<ProjectionInfo>> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadProjections).gql()?;
        let pool = &reads(ctx)?.pool;
        let statuses = projections::status(pool)
            .await
            .map_err(|e| AppError::internal(anyhow::Error::new(e)))
            .gql()?;
        Ok(statuses
            .into_iter()
            .map(|s| ProjectionInfo {
                name: s.name,
                position: s.position,
                lag_events: s.lag_events,
                lag_seconds: s.lag_seconds,
                view_of: s.view_of,
            })
            .collect())
    }
}
