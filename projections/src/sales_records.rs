//! The `sales_records` projection: one row per order stream in `sales_records`, its lines in
//! `sales_record_lines`, from the `sales_order` events; delivery days in the account's time
//! zone, taken from the `account` events and kept in `projection_account_zones`.

use async_trait::async_trait;
use domain::account::AccountEvent;
use domain::sales_order::{
    ImportedLine, ImportedOrder, LineKind, OrderEvent, OrderStatus, RecordedBy,
};
use infrastructure::event_log::RecordedEvent;
use sqlx::{Postgres, Transaction};

use crate::runtime::{Projection, ProjectionError};

/// The Sales Records read model.
#[derive(Debug, Clone, Copy, Default)]
pub struct SalesRecords;

fn malformed(event: &RecordedEvent, reason: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Malformed {
        position: event.global_position,
        event_type: event.event_type.clone(),
        reason: reason.to_string(),
    }
}

fn status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Quotation => "QUOTATION",
        OrderStatus::Confirmed => "CONFIRMED",
        OrderStatus::Done => "DONE",
        OrderStatus::Cancelled => "CANCELLED",
    }
}

fn kind_text(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Product => "PRODUCT",
        LineKind::Section => "SECTION",
        LineKind::Note => "NOTE",
    }
}

#[async_trait]
impl Projection for SalesRecords {
    fn name(&self) -> &'static str {
        "sales_records"
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        match event.aggregate_type.as_str() {
            "account" => {
                let parsed: AccountEvent = serde_json::from_value(event.payload.clone())
                    .map_err(|e| malformed(event, e))?;
                let AccountEvent::AccountSettingsUpdated { time_zone } = parsed;
                set_time_zone(tx, &event.account_id, time_zone.as_str()).await
            }
            "sales_order" => {
                let parsed: OrderEvent = serde_json::from_value(event.payload.clone())
                    .map_err(|e| malformed(event, e))?;
                let (by, order, in_scope) = match parsed {
                    OrderEvent::OrderImported { by, order, .. } => (by, order, Some(true)),
                    OrderEvent::OrderUpdated { by, order, .. }
                    | OrderEvent::OrderCancelled { by, order, .. } => (by, order, None),
                    OrderEvent::OrderLeftScope { by, order, .. } => (by, order, Some(false)),
                    OrderEvent::OrderReturnedToScope { by, order, .. } => (by, order, Some(true)),
                    OrderEvent::OrderRemovedFromSource { by } => {
                        return mark_removed(tx, event, by).await;
                    }
                };
                upsert_order(tx, event, by, &order, in_scope).await
            }
            _ => Ok(()),
        }
    }

    async fn reset(&self, tx: &mut Transaction<'_, Postgres>) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM sales_record_lines")
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM sales_records")
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM projection_account_zones")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

async fn set_time_zone(
    tx: &mut Transaction<'_, Postgres>,
    account_id: &str,
    zone: &str,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO projection_account_zones (account_id, time_zone) VALUES ($1, $2)
         ON CONFLICT (account_id) DO UPDATE SET time_zone = EXCLUDED.time_zone",
    )
    .bind(account_id)
    .bind(zone)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE sales_records SET delivery_day = (delivery_date AT TIME ZONE $2)::date
          WHERE account_id = $1",
    )
    .bind(account_id)
    .bind(zone)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn mark_removed(
    tx: &mut Transaction<'_, Postgres>,
    event: &RecordedEvent,
    by: RecordedBy,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "UPDATE sales_records
            SET status = 'REMOVED', last_sync_run_id = $2, connection_id = $3,
                event_position = $4, updated_at = $5
          WHERE record_id = $1 AND event_position < $4",
    )
    .bind(&event.aggregate_id)
    .bind(by.run_id.to_string())
    .bind(by.connection_id.to_string())
    .bind(event.global_position)
    .bind(event.recorded_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The source digest in a stream id `account:digest:order_id`.
fn source_digest(event: &RecordedEvent) -> Result<String, ProjectionError> {
    let mut parts = event.aggregate_id.rsplitn(3, ':');
    let _order = parts.next();
    parts
        .next()
        .filter(|_| parts.next().is_some())
        .map(str::to_owned)
        .ok_or_else(|| malformed(event, "stream id is not account:source:order"))
}

/// Writes the order as the event leaves it, unless its record already holds a later event
/// of the stream: a writer whose transaction id is older can commit the stream's next event
/// after a younger one, so the global order may hand a stream's events over out of sequence.
/// Positions are taken at insert and a stream's next event is inserted only after the one
/// before it, so the higher position is always the later event.
async fn upsert_order(
    tx: &mut Transaction<'_, Postgres>,
    event: &RecordedEvent,
    by: RecordedBy,
    order: &ImportedOrder,
    in_scope: Option<bool>,
) -> Result<(), ProjectionError> {
    let digest = source_digest(event)?;
    let applied: Option<i32> = sqlx::query_scalar(
        "INSERT INTO sales_records (
             record_id, account_id, source_digest, source_order_id, connection_id,
             last_sync_run_id, order_number, order_date, customer_id, customer_name,
             customer_reference, status, in_scope, source_state, locked, commitment_date,
             expected_date, delivery_day, currency, amount_untaxed, amount_total, company_id,
             company_name, event_position, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, coalesce($13, true), $14,
                 $15, $16, $17,
                 (coalesce($16, $17) AT TIME ZONE coalesce(
                     (SELECT time_zone FROM projection_account_zones WHERE account_id = $2),
                     'UTC'))::date,
                 $18, $19, $20, $21, $22, $23, $24)
         ON CONFLICT (record_id) DO UPDATE SET
             connection_id = EXCLUDED.connection_id,
             last_sync_run_id = EXCLUDED.last_sync_run_id,
             order_number = EXCLUDED.order_number,
             order_date = EXCLUDED.order_date,
             customer_id = EXCLUDED.customer_id,
             customer_name = EXCLUDED.customer_name,
             customer_reference = EXCLUDED.customer_reference,
             status = EXCLUDED.status,
             in_scope = coalesce($13, sales_records.in_scope),
             source_state = EXCLUDED.source_state,
             locked = EXCLUDED.locked,
             commitment_date = EXCLUDED.commitment_date,
             expected_date = EXCLUDED.expected_date,
             delivery_day = EXCLUDED.delivery_day,
             currency = EXCLUDED.currency,
             amount_untaxed = EXCLUDED.amount_untaxed,
             amount_total = EXCLUDED.amount_total,
             company_id = EXCLUDED.company_id,
             company_name = EXCLUDED.company_name,
             event_position = EXCLUDED.event_position,
             updated_at = EXCLUDED.updated_at
         WHERE sales_records.event_position < EXCLUDED.event_position
         RETURNING 1",
    )
    .bind(&event.aggregate_id)
    .bind(&event.account_id)
    .bind(&digest)
    .bind(order.source_order_id)
    .bind(by.connection_id.to_string())
    .bind(by.run_id.to_string())
    .bind(&order.number)
    .bind(order.order_date)
    .bind(order.customer.as_ref().map(|c| c.id))
    .bind(order.customer.as_ref().map(|c| c.name.clone()))
    .bind(&order.customer_reference)
    .bind(status_text(order.status))
    .bind(in_scope)
    .bind(&order.source_state)
    .bind(order.locked)
    .bind(order.commitment_date)
    .bind(order.expected_date)
    .bind(&order.currency)
    .bind(order.amount_untaxed)
    .bind(order.amount_total)
    .bind(order.company.as_ref().map(|c| c.id))
    .bind(order.company.as_ref().map(|c| c.name.clone()))
    .bind(event.global_position)
    .bind(event.recorded_at)
    .fetch_optional(&mut **tx)
    .await?;
    if applied.is_none() {
        return Ok(());
    }

    sqlx::query("DELETE FROM sales_record_lines WHERE record_id = $1")
        .bind(&event.aggregate_id)
        .execute(&mut **tx)
        .await?;
    let numbered: Vec<(usize, &ImportedLine)> = order.lines.iter().enumerate().collect();
    for chunk in numbered.chunks(LINES_PER_STATEMENT) {
        insert_lines(tx, event, &digest, chunk).await?;
    }
    Ok(())
}

/// Lines written by one statement: 20 parameters each, well under PostgreSQL's 65,535.
const LINES_PER_STATEMENT: usize = 1_000;

async fn insert_lines(
    tx: &mut Transaction<'_, Postgres>,
    event: &RecordedEvent,
    digest: &str,
    lines: &[(usize, &ImportedLine)],
) -> Result<(), ProjectionError> {
    let mut builder = sqlx::QueryBuilder::<Postgres>::new(
        "INSERT INTO sales_record_lines (record_id, source_line_id, account_id, source_digest,
             position, kind, product_id, product_name, internal_reference, barcode, description,
             quantity, unit_id, unit_name, product_unit_id, product_unit_name, unit_factor,
             unit_price, discount, subtotal) ",
    );
    builder.push_values(lines, |mut row, &(index, line)| {
        let product = line.product.as_ref();
        row.push_bind(&event.aggregate_id)
            .push_bind(line.source_line_id)
            .push_bind(&event.account_id)
            .push_bind(digest)
            .push_bind(i32::try_from(index).unwrap_or(i32::MAX))
            .push_bind(kind_text(line.kind))
            .push_bind(product.map(|p| p.id))
            .push_bind(product.map(|p| p.name.clone()))
            .push_bind(product.and_then(|p| p.internal_reference.clone()))
            .push_bind(product.and_then(|p| p.barcode.clone()))
            .push_bind(&line.description)
            .push_bind(line.quantity)
            .push_bind(line.unit.as_ref().map(|u| u.id))
            .push_bind(line.unit.as_ref().map(|u| u.name.clone()))
            .push_bind(line.product_unit.as_ref().map(|u| u.id))
            .push_bind(line.product_unit.as_ref().map(|u| u.name.clone()))
            .push_bind(line.unit_factor)
            .push_bind(line.unit_price)
            .push_bind(line.discount)
            .push_bind(line.subtotal);
    });
    builder.build().execute(&mut **tx).await?;
    Ok(())
}
