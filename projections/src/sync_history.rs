//! The `sync_history` projection: the audit trail of each connection in `sync_history`, one
//! row per event with its time, actor, type, run and a short summary.
//!
//! Which events belong to a connection:
//! - its own stream (`connection`): created, settings, API key, schedule, tests, deletion;
//! - every event of its runs (`sync_run`); only `SyncRequested` names the connection, so the
//!   projection keeps each run's connection in `sync_history_runs`;
//! - the order events its runs recorded (`sales_order`, which name run and connection);
//! - product mappings made or removed through it (`product_mapping` naming the connection),
//!   and mappings by SKU made at the end of one of its runs (no connection named; told by the
//!   run's correlation id). Mappings by SKU made by an item upsert belong to no connection.
//!
//! Summaries are built from chosen fields only: sealed API keys, nonces and key ids never
//! reach the table, and neither do the server, database and login, which only admins may read
//! (the `connection` query).

use async_trait::async_trait;
use domain::connection::{ConnectionEvent, Schedule, SyncMode};
use domain::mapping::ProductMappingEvent;
use domain::metadata::keys;
use domain::sales_order::{ImportedOrder, OrderEvent, OrderStatus};
use domain::sync_run::{SyncCounts, SyncRunEvent, SyncTrigger};
use infrastructure::event_log::RecordedEvent;
use serde::de::DeserializeOwned;
use sqlx::{Postgres, Transaction};

use crate::runtime::{Projection, ProjectionError};

/// The longest failure message a summary repeats, in characters.
const MAX_MESSAGE: usize = 200;

/// The audit history read model.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncHistory;

/// What one event adds to the history.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    connection_id: String,
    run_id: Option<String>,
    summary: String,
}

fn malformed(event: &RecordedEvent, reason: impl std::fmt::Display) -> ProjectionError {
    ProjectionError::Malformed {
        position: event.global_position,
        event_type: event.event_type.clone(),
        reason: reason.to_string(),
    }
}

fn parse<E: DeserializeOwned>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    serde_json::from_value(event.payload.clone()).map_err(|e| malformed(event, e))
}

fn metadata<'a>(event: &'a RecordedEvent, key: &str) -> Result<&'a str, ProjectionError> {
    event
        .metadata
        .get(key)
        .and_then(|value| value.as_str())
        .ok_or_else(|| malformed(event, format!("metadata without {key}")))
}

#[async_trait]
impl Projection for SyncHistory {
    fn name(&self) -> &'static str {
        "sync_history"
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let entry = match event.aggregate_type.as_str() {
            "connection" => Some(connection_entry(event)?),
            "sync_run" => run_entry(tx, event).await?,
            "sales_order" => Some(order_entry(event)?),
            "product_mapping" => mapping_entry(tx, event).await?,
            _ => None,
        };
        match entry {
            Some(entry) => insert(tx, event, entry).await,
            None => Ok(()),
        }
    }

    async fn reset(&self, tx: &mut Transaction<'_, Postgres>) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM sync_history")
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM sync_history_runs")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

async fn insert(
    tx: &mut Transaction<'_, Postgres>,
    event: &RecordedEvent,
    entry: Entry,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO sync_history (position, transaction_id, account_id, connection_id, run_id,
                                   recorded_at, actor, stream_type, stream_id, event_type, summary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(event.global_position)
    .bind(event.transaction_id)
    .bind(&event.account_id)
    .bind(&entry.connection_id)
    .bind(&entry.run_id)
    .bind(event.recorded_at)
    .bind(metadata(event, keys::ACTOR)?)
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(&event.event_type)
    .bind(&entry.summary)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn connection_entry(event: &RecordedEvent) -> Result<Entry, ProjectionError> {
    let parsed: ConnectionEvent = parse(event)?;
    Ok(Entry {
        connection_id: event.aggregate_id.clone(),
        run_id: None,
        summary: connection_summary(&parsed),
    })
}

/// A run's event, under the connection its `SyncRequested` named; `None` for a run the
/// projection never saw requested, which only a damaged log can hold.
async fn run_entry(
    tx: &mut Transaction<'_, Postgres>,
    event: &RecordedEvent,
) -> Result<Option<Entry>, ProjectionError> {
    let parsed: SyncRunEvent = parse(event)?;
    if let SyncRunEvent::SyncRequested { connection_id, .. } = &parsed {
        remember_run(tx, event, &connection_id.to_string()).await?;
    }
    if ends_run(&parsed) {
        sqlx::query("UPDATE sync_history_runs SET open = false WHERE run_id = $1")
            .bind(&event.aggregate_id)
            .execute(&mut **tx)
            .await?;
    }
    let connection: Option<String> =
        sqlx::query_scalar("SELECT connection_id FROM sync_history_runs WHERE run_id = $1")
            .bind(&event.aggregate_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(connection_id) = connection else {
        tracing::warn!(
            position = event.global_position,
            "run event of an unknown run"
        );
        return Ok(None);
    };
    Ok(Some(Entry {
        connection_id,
        run_id: Some(event.aggregate_id.clone()),
        summary: run_summary(&parsed),
    }))
}

fn ends_run(event: &SyncRunEvent) -> bool {
    matches!(
        event,
        SyncRunEvent::SyncCompleted { .. }
            | SyncRunEvent::ResolutionRequired { .. }
            | SyncRunEvent::SyncFailed { .. }
    )
}

async fn remember_run(
    tx: &mut Transaction<'_, Postgres>,
    event: &RecordedEvent,
    connection_id: &str,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO sync_history_runs (run_id, account_id, connection_id, correlation_id,
                                        requested_position, open)
         VALUES ($1, $2, $3, $4, $5, true)
         ON CONFLICT (run_id) DO NOTHING",
    )
    .bind(&event.aggregate_id)
    .bind(&event.account_id)
    .bind(connection_id)
    .bind(metadata(event, keys::CORRELATION_ID)?)
    .bind(event.global_position)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn order_entry(event: &RecordedEvent) -> Result<Entry, ProjectionError> {
    let parsed: OrderEvent = parse(event)?;
    let by = match &parsed {
        OrderEvent::OrderImported { by, .. }
        | OrderEvent::OrderUpdated { by, .. }
        | OrderEvent::OrderCancelled { by, .. }
        | OrderEvent::OrderLeftScope { by, .. }
        | OrderEvent::OrderReturnedToScope { by, .. }
        | OrderEvent::OrderRemovedFromSource { by } => *by,
    };
    let source_order = event.aggregate_id.rsplit(':').next().unwrap_or_default();
    Ok(Entry {
        connection_id: by.connection_id.to_string(),
        run_id: Some(by.run_id.to_string()),
        summary: order_summary(&parsed, source_order),
    })
}

/// A mapping event under the connection it names; without one, under the open run whose
/// correlation id it shares (a mapping by SKU at the end of that run), else nowhere.
async fn mapping_entry(
    tx: &mut Transaction<'_, Postgres>,
    event: &RecordedEvent,
) -> Result<Option<Entry>, ProjectionError> {
    let parsed: ProductMappingEvent = parse(event)?;
    let named = match &parsed {
        ProductMappingEvent::ProductMapped { connection_id, .. }
        | ProductMappingEvent::ProductUnmapped { connection_id, .. } => *connection_id,
    };
    let summary = mapping_summary(&parsed);
    if let Some(connection) = named {
        return Ok(Some(Entry {
            connection_id: connection.to_string(),
            run_id: None,
            summary,
        }));
    }
    let run: Option<(String, String)> = sqlx::query_as(
        "SELECT run_id, connection_id FROM sync_history_runs
          WHERE account_id = $1 AND correlation_id = $2 AND open
          ORDER BY requested_position DESC LIMIT 1",
    )
    .bind(&event.account_id)
    .bind(metadata(event, keys::CORRELATION_ID)?)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(run.map(|(run_id, connection_id)| Entry {
        connection_id,
        run_id: Some(run_id),
        summary,
    }))
}

fn connection_summary(event: &ConnectionEvent) -> String {
    match event {
        ConnectionEvent::ConnectionCreated {
            settings, schedule, ..
        } => format!(
            "connection {:?} created; {}",
            settings.name.as_str(),
            schedule_text(schedule)
        ),
        ConnectionEvent::ConnectionSettingsChanged { settings, .. } => {
            format!(
                "settings of connection {:?} changed",
                settings.name.as_str()
            )
        }
        ConnectionEvent::ApiKeyReplaced { .. } => "API key replaced".to_owned(),
        ConnectionEvent::ApiKeyResealed { .. } => {
            "API key sealed again under the current master key".to_owned()
        }
        ConnectionEvent::ScheduleChanged { schedule, .. } => {
            format!("schedule changed: {}", schedule_text(schedule))
        }
        ConnectionEvent::ConnectionTested { result } => match &result.error {
            None => "connection tested: ok".to_owned(),
            Some(failure) => format!("connection tested: failed with {}", failure.code),
        },
        ConnectionEvent::ConnectionDeleted { .. } => "connection deleted".to_owned(),
    }
}

fn schedule_text(schedule: &Schedule) -> String {
    let mode = match schedule.mode {
        SyncMode::Manual => "manual".to_owned(),
        SyncMode::Automatic => format!("every {} s", schedule.interval.seconds()),
    };
    let active = if schedule.active {
        "active"
    } else {
        "inactive"
    };
    format!(
        "{mode}, {active}, {} orders per call",
        schedule.batch_size.get()
    )
}

fn run_summary(event: &SyncRunEvent) -> String {
    match event {
        SyncRunEvent::SyncRequested { trigger, .. } => {
            let trigger = match trigger {
                SyncTrigger::Manual => "sync now",
                SyncTrigger::Scheduled => "schedule",
                SyncTrigger::FullResync => "full re-sync",
            };
            format!("sync requested ({trigger})")
        }
        SyncRunEvent::SyncStarted { .. } => "sync started".to_owned(),
        SyncRunEvent::SyncBatchCommitted { counts, .. } => {
            format!("batch committed: {}", counts_text(counts))
        }
        SyncRunEvent::SyncCancelRequested { .. } => "cancel requested".to_owned(),
        SyncRunEvent::SyncCompleted { .. } => "sync completed".to_owned(),
        SyncRunEvent::ResolutionRequired { unmapped_lines, .. } => {
            format!("resolution required: {unmapped_lines} product lines without an item")
        }
        SyncRunEvent::SyncResolved { .. } => "resolved: every product line is mapped".to_owned(),
        SyncRunEvent::SyncFailed { failure, .. } => {
            let message: String = failure.message.chars().take(MAX_MESSAGE).collect();
            format!("sync failed: {}: {message}", failure.code)
        }
    }
}

fn counts_text(counts: &SyncCounts) -> String {
    let parts = [
        ("fetched", counts.fetched),
        ("imported", counts.imported),
        ("updated", counts.updated),
        ("cancelled", counts.cancelled),
        ("removed", counts.removed),
        ("out of scope", counts.out_of_scope),
        ("unchanged", counts.unchanged),
    ];
    let named: Vec<String> = parts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    if named.is_empty() {
        "no orders".to_owned()
    } else {
        named.join(", ")
    }
}

fn order_summary(event: &OrderEvent, source_order: &str) -> String {
    let (verb, order) = match event {
        OrderEvent::OrderImported { order, .. } => ("imported", order),
        OrderEvent::OrderUpdated { order, .. } => ("updated", order),
        OrderEvent::OrderCancelled { order, .. } => ("cancelled", order),
        OrderEvent::OrderLeftScope { order, .. } => ("left the scope", order),
        OrderEvent::OrderReturnedToScope { order, .. } => ("returned to the scope", order),
        OrderEvent::OrderRemovedFromSource { .. } => {
            return format!("order {source_order} in Odoo removed from the source");
        }
    };
    format!("{} {verb}: {}", order.number, order_text(order))
}

fn order_text(order: &ImportedOrder) -> String {
    let status = match order.status {
        OrderStatus::Quotation => "quotation",
        OrderStatus::Confirmed => "confirmed",
        OrderStatus::Done => "done",
        OrderStatus::Cancelled => "cancelled",
    };
    let currency = order.currency.as_deref().unwrap_or("");
    let lines = match order.lines.len() {
        1 => "1 line".to_owned(),
        n => format!("{n} lines"),
    };
    format!("{status}, {lines}, total {} {currency}", order.amount_total)
        .trim_end()
        .to_owned()
}

fn mapping_summary(event: &ProductMappingEvent) -> String {
    match event {
        ProductMappingEvent::ProductMapped {
            odoo_product_id,
            item_id,
            factor,
            origin,
            ..
        } => format!(
            "product {odoo_product_id} mapped to item {item_id} ({} item units per unit, {})",
            factor.value(),
            origin.as_str()
        ),
        ProductMappingEvent::ProductUnmapped {
            odoo_product_id, ..
        } => format!("product {odoo_product_id} unmapped"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn counts(fetched: u64, imported: u64, unchanged: u64) -> SyncCounts {
        SyncCounts {
            fetched,
            imported,
            unchanged,
            ..SyncCounts::default()
        }
    }

    #[test]
    fn a_batch_summary_names_only_the_counts_that_are_not_zero() {
        let text = counts_text(&counts(50, 12, 38));
        assert_eq!(text, "50 fetched, 12 imported, 38 unchanged");
        assert_eq!(counts_text(&SyncCounts::default()), "no orders");
    }

    #[test]
    fn a_long_failure_message_is_cut_in_the_summary() {
        let event = SyncRunEvent::SyncFailed {
            failure: domain::sync_run::RunFailure {
                code: "ODOO_UNREACHABLE".into(),
                message: "x".repeat(1_000),
                hint: None,
            },
            at: chrono::Utc::now(),
        };
        let text = run_summary(&event);
        assert!(text.starts_with("sync failed: ODOO_UNREACHABLE: "));
        assert_eq!(text.chars().filter(|c| *c == 'x').count(), MAX_MESSAGE);
    }

    #[test]
    fn an_api_key_event_is_summarised_without_its_sealed_key() {
        let sealed = domain::secret::SealedSecret {
            key_id: "key-id-7".into(),
            nonce: "bm9uY2Utbm9uY2Utbm9uY2U".into(),
            ciphertext: "Y2lwaGVydGV4dC1jaXBoZXJ0ZXh0".into(),
        };
        let events = [
            ConnectionEvent::ApiKeyReplaced {
                api_key: sealed.clone(),
                at: chrono::Utc::now(),
            },
            ConnectionEvent::ApiKeyResealed {
                api_key: sealed.clone(),
                at: chrono::Utc::now(),
            },
        ];
        for event in events {
            let text = connection_summary(&event);
            assert!(text.starts_with("API key"), "{text}");
            for secret in [&sealed.key_id, &sealed.nonce, &sealed.ciphertext] {
                assert!(!text.contains(secret.as_str()), "{text}");
            }
        }
    }
}
