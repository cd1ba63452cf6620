//! Items and product mappings on PostgreSQL. Each change appends its events (`item` and
//! `product_mapping` streams) and updates the tables kept beside them (`items`,
//! `product_mappings`, `products_unmapped_by_hand`) in one transaction.
//!
//! Every change to the mappings of a source holds that source's mapping lock (a transaction
//! advisory lock), and so does a sync run while it counts its unmapped lines: two mappings of
//! one product apply one after the other, and a run never counts against half a change.
//! The sync store also keeps, through [`note_held_products`], the product lines of each held
//! order in scope, and per product of a source its description and totals: what a finishing
//! run counts and `unmappedProducts` lists, without reading every order.

use std::collections::{BTreeMap, HashMap};

use application::mapping::{MappingStore, MappingStoreError, UnmappedCursor, UnmappedProduct};
use application::sync::RunContext;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use domain::connection::SourceKey;
use domain::ids::AccountId;
use domain::mapping::{
    Item, ItemEvent, ItemId, Mapping, MappingError, ProductMapping, ProductMappingCommand,
    ProductMappingEvent,
};
use domain::metadata::EventMetadata;
use domain::sales_order::{HeldOrder, LineKind, OrderChange, OrderStatus, ProductRef};
use domain::sync_run::SyncRun;
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::sync_store::{PgSyncStore, SyncStoreError};

/// Why a mapping write failed inside its transaction.
#[derive(Debug, thiserror::Error)]
pub enum MappingFault {
    /// No item with this id in the account.
    #[error("item not found")]
    ItemNotFound,
    /// Another item holds the SKU.
    #[error("SKU taken")]
    SkuTaken {
        /// The SKU.
        sku: String,
        /// The item holding it.
        item_id: String,
    },
    /// The mapping refused the command.
    #[error(transparent)]
    Rejected(#[from] MappingError),
    /// A stored value could not be read back.
    #[error("stored mapping state unreadable: {0}")]
    Corrupt(String),
    /// A run could not be resolved.
    #[error("sync run not resolved")]
    Run(#[source] Box<SyncStoreError>),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl From<MappingFault> for MappingStoreError {
    fn from(fault: MappingFault) -> Self {
        match fault {
            MappingFault::ItemNotFound => Self::ItemNotFound,
            MappingFault::SkuTaken { sku, item_id } => Self::SkuTaken { sku, item_id },
            MappingFault::Rejected(rejection) => Self::Rejected(rejection),
            other => Self::Failed(other.into()),
        }
    }
}

/// The product lines of one held order that count for planning, per product; empty when
/// the order does not count (out of scope, cancelled, removed).
#[derive(Debug, Clone)]
pub struct HeldProducts {
    /// The order's id in its source.
    pub source_order_id: i64,
    /// Each product with its number of lines.
    pub products: Vec<(ProductRef, i32)>,
    /// Whether the change made the order held for the first time: it has no counted lines
    /// to take out.
    pub first_held: bool,
}

impl HeldProducts {
    /// What an order holds after a change that left it `held`.
    pub fn after(source_order_id: i64, change: &OrderChange, held: &HeldOrder) -> Self {
        let counts = held.in_scope && !held.removed && held.status != OrderStatus::Cancelled;
        let order = match change {
            OrderChange::Imported(order, _)
            | OrderChange::Updated(order, _)
            | OrderChange::ReturnedToScope(order, _)
            | OrderChange::Cancelled(order, _)
            | OrderChange::LeftScope(order, _) => Some(order),
            OrderChange::RemovedFromSource => None,
        };
        let mut products: BTreeMap<i64, (ProductRef, i32)> = BTreeMap::new();
        let lines = order.filter(|_| counts).map(|o| o.lines.as_slice());
        for line in lines.unwrap_or_default() {
            if let (LineKind::Product, Some(product)) = (line.kind, &line.product) {
                products.entry(product.id).or_insert((product.clone(), 0)).1 += 1;
            }
        }
        Self {
            source_order_id,
            products: products.into_values().collect(),
            first_held: matches!(change, OrderChange::Imported(..)),
        }
    }
}

/// Replaces the counted product lines of the changed orders of a batch, and keeps each
/// product's totals (lines and orders in scope) and description in `source_products`, inside
/// the batch's transaction.
pub async fn note_held_products(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &RunContext,
    orders: &[HeldProducts],
) -> Result<(), sqlx::Error> {
    if orders.is_empty() {
        return Ok(());
    }
    // The last change of an order in the batch is what it holds.
    let latest: BTreeMap<i64, &HeldProducts> =
        orders.iter().map(|o| (o.source_order_id, o)).collect();
    let (account, digest) = (ctx.account_id.as_str(), ctx.source.digest());
    let before = take_out_lines(tx, account, &digest, &latest).await?;

    let rows: Vec<(i64, &ProductRef, i32)> = latest
        .values()
        .flat_map(|o| o.products.iter().map(|(p, n)| (o.source_order_id, p, *n)))
        .collect();
    if !rows.is_empty() {
        sqlx::query(
            "INSERT INTO held_order_products (account_id, source_digest, source_order_id, odoo_product_id, line_count)
             SELECT $1, $2, u.order_id, u.product_id, u.lines
               FROM UNNEST($3::bigint[], $4::bigint[], $5::int[]) AS u(order_id, product_id, lines)",
        )
        .bind(account)
        .bind(&digest)
        .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.1.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }

    let mut usage: BTreeMap<i64, Usage<'_>> = BTreeMap::new();
    for (product, lines) in before {
        let entry = usage.entry(product).or_default();
        entry.lines -= i64::from(lines);
        entry.orders -= 1;
    }
    for (_, product, lines) in rows {
        let entry = usage.entry(product.id).or_default();
        entry.lines += i64::from(lines);
        entry.orders += 1;
        entry.seen = Some(product);
    }
    note_usage(tx, ctx, usage).await
}

/// Deletes the counted product lines of the batch's orders held before it, and returns
/// them. Orders held for the first time have none, so a first sync never looks: with
/// `held_order_products` not yet analysed, that lookup read every row of the source for
/// each batch (76 ms a batch at 270,000 rows).
async fn take_out_lines(
    tx: &mut Transaction<'_, Postgres>,
    account: &str,
    digest: &str,
    latest: &BTreeMap<i64, &HeldProducts>,
) -> Result<Vec<(i64, i32)>, sqlx::Error> {
    let held_before: Vec<i64> = latest
        .values()
        .filter(|o| !o.first_held)
        .map(|o| o.source_order_id)
        .collect();
    if held_before.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "DELETE FROM held_order_products
          WHERE account_id = $1 AND source_digest = $2 AND source_order_id = ANY($3)
          RETURNING odoo_product_id, line_count",
    )
    .bind(account)
    .bind(digest)
    .bind(&held_before)
    .fetch_all(&mut **tx)
    .await
}

/// How a batch changed a product's totals, and how the batch's lines describe it.
#[derive(Debug, Default)]
struct Usage<'a> {
    lines: i64,
    orders: i64,
    seen: Option<&'a ProductRef>,
}

async fn note_usage<'a>(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &RunContext,
    usage: BTreeMap<i64, Usage<'a>>,
) -> Result<(), sqlx::Error> {
    let run = ctx.run_id.to_string();
    let seen: Vec<Option<&ProductRef>> = usage.values().map(|u| u.seen).collect();
    let names: Vec<Option<&str>> = seen.iter().map(|p| p.map(|p| p.name.as_str())).collect();
    let references: Vec<Option<&str>> = seen
        .iter()
        .map(|p| p.and_then(|p| p.internal_reference.as_deref()))
        .collect();
    let barcodes: Vec<Option<&str>> = seen
        .iter()
        .map(|p| p.and_then(|p| p.barcode.as_deref()))
        .collect();
    let runs: Vec<Option<&str>> = seen.iter().map(|p| p.map(|_| run.as_str())).collect();
    sqlx::query(
        "INSERT INTO source_products AS p (account_id, source_digest, odoo_product_id, name,
                    internal_reference, barcode, last_run_id, line_count, order_count)
         SELECT $1, $2, u.id, u.name, u.reference, u.barcode, u.run, u.lines, u.orders
           FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[])
                AS u(id, name, reference, barcode, run, lines, orders)
         ON CONFLICT (account_id, source_digest, odoo_product_id) DO UPDATE
            SET name = CASE WHEN EXCLUDED.last_run_id IS NULL THEN p.name ELSE EXCLUDED.name END,
                internal_reference = CASE WHEN EXCLUDED.last_run_id IS NULL
                                          THEN p.internal_reference ELSE EXCLUDED.internal_reference END,
                barcode = CASE WHEN EXCLUDED.last_run_id IS NULL THEN p.barcode ELSE EXCLUDED.barcode END,
                last_run_id = coalesce(EXCLUDED.last_run_id, p.last_run_id),
                line_count = p.line_count + EXCLUDED.line_count,
                order_count = p.order_count + EXCLUDED.order_count",
    )
    .bind(ctx.account_id.as_str())
    .bind(ctx.source.digest())
    .bind(usage.keys().copied().collect::<Vec<_>>())
    .bind(&names)
    .bind(&references)
    .bind(&barcodes)
    .bind(&runs)
    .bind(usage.values().map(|u| u.lines).collect::<Vec<_>>())
    .bind(usage.values().map(|u| u.orders).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes the mapping lock of a source until the transaction ends.
pub async fn lock_source(
    tx: &mut Transaction<'_, Postgres>,
    account: &AccountId,
    source_digest: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("product_mapping:{account}:{source_digest}"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The products of held orders in scope of a source that have no mapping, with their lines,
/// by product id. The caller holds the source's mapping lock.
pub async fn unmapped_in_scope(
    tx: &mut Transaction<'_, Postgres>,
    account: &AccountId,
    source_digest: &str,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.odoo_product_id, p.line_count FROM source_products p
          WHERE p.account_id = $1 AND p.source_digest = $2 AND p.line_count > 0
            AND NOT EXISTS (SELECT 1 FROM product_mappings m
                             WHERE m.account_id = p.account_id AND m.source_digest = p.source_digest
                               AND m.odoo_product_id = p.odoo_product_id)
          ORDER BY p.odoo_product_id",
    )
    .bind(account.as_str())
    .bind(source_digest)
    .fetch_all(&mut **tx)
    .await
}

/// Keeps which products a run that needs resolution found unmapped.
pub async fn record_run_unmapped(
    tx: &mut Transaction<'_, Postgres>,
    ctx: &RunContext,
    products: &[(i64, i64)],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sync_run_unmapped_products (run_id, account_id, source_digest, odoo_product_id, line_count)
         SELECT $1, $2, $3, u.product_id, u.lines
           FROM UNNEST($4::bigint[], $5::bigint[]) AS u(product_id, lines)",
    )
    .bind(ctx.run_id.to_string())
    .bind(ctx.account_id.as_str())
    .bind(ctx.source.digest())
    .bind(products.iter().map(|p| p.0).collect::<Vec<_>>())
    .bind(products.iter().map(|p| p.1).collect::<Vec<_>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Maps by SKU every known product of a source whose internal reference (preferred) or
/// barcode equals an item's SKU, unless it is mapped or was unmapped by hand. The caller
/// holds the source's mapping lock. Returns how many products it mapped.
pub async fn auto_map_source(
    tx: &mut Transaction<'_, Postgres>,
    runs: &PgSyncStore,
    metadata: &EventMetadata,
    source_digest: &str,
) -> Result<usize, MappingFault> {
    let candidates: Vec<(i64, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (p.odoo_product_id) p.odoo_product_id, i.item_id
           FROM source_products p
           JOIN items i ON i.account_id = p.account_id
                       AND (i.sku = p.internal_reference OR i.sku = p.barcode)
          WHERE p.account_id = $1 AND p.source_digest = $2
            AND NOT EXISTS (SELECT 1 FROM product_mappings m
                             WHERE m.account_id = p.account_id AND m.source_digest = p.source_digest
                               AND m.odoo_product_id = p.odoo_product_id)
            AND NOT EXISTS (SELECT 1 FROM products_unmapped_by_hand u
                             WHERE u.account_id = p.account_id AND u.source_digest = p.source_digest
                               AND u.odoo_product_id = p.odoo_product_id)
          ORDER BY p.odoo_product_id, (i.sku = p.internal_reference) DESC, i.item_id",
    )
    .bind(metadata.account_id.as_str())
    .bind(source_digest)
    .fetch_all(&mut **tx)
    .await?;

    let mut mapped = 0;
    for (odoo_product_id, item) in candidates {
        let item_id =
            ItemId::parse("itemId", &item).map_err(|e| MappingFault::Corrupt(e.to_string()))?;
        let command = ProductMappingCommand::AutoMap {
            odoo_product_id,
            item_id,
        };
        let (_, recorded) = execute_in(tx, runs, metadata, source_digest, command).await?;
        mapped += usize::from(recorded);
    }
    Ok(mapped)
}

/// Runs a mapping command inside a transaction that holds the source's mapping lock: loads
/// the product's stream, decides, appends, keeps the tables in step and resolves the runs
/// whose last unmapped product this mapped. Returns the state after and whether anything
/// was recorded.
pub async fn execute_in(
    tx: &mut Transaction<'_, Postgres>,
    runs: &PgSyncStore,
    metadata: &EventMetadata,
    source_digest: &str,
    command: ProductMappingCommand,
) -> Result<(ProductMapping, bool), MappingFault> {
    let product = match &command {
        ProductMappingCommand::Map {
            odoo_product_id, ..
        }
        | ProductMappingCommand::Unmap {
            odoo_product_id, ..
        }
        | ProductMappingCommand::AutoMap {
            odoo_product_id, ..
        } => *odoo_product_id,
    };
    let stream = format!("{}:{source_digest}:{product}", metadata.account_id);
    let (mut state, sequence) = load_mapping(tx, &stream).await?;
    if let ProductMappingCommand::Map { item_id, .. } = &command {
        ensure_item(tx, &metadata.account_id, item_id).await?;
    }

    let events = state.decide(command)?;
    if events.is_empty() {
        return Ok((state, false));
    }
    let mut rows = Vec::with_capacity(events.len());
    for (offset, event) in (1..).zip(events) {
        rows.push(NewEvent::of(
            ProductMapping::TYPE,
            &stream,
            sequence + offset,
            &event,
        )?);
        state.apply(event);
    }
    append(tx, metadata, &rows).await?;
    keep_mapping_row(tx, metadata, source_digest, product, &state).await?;
    if state.mapping.is_some() {
        resolve_runs(tx, runs, metadata, source_digest, product).await?;
    }
    Ok((state, true))
}

async fn load_mapping(
    tx: &mut Transaction<'_, Postgres>,
    stream: &str,
) -> Result<(ProductMapping, i64), MappingFault> {
    let rows: Vec<(i64, Value)> = sqlx::query_as(
        "SELECT sequence, payload FROM events
          WHERE aggregate_type = 'product_mapping' AND aggregate_id = $1
          ORDER BY sequence",
    )
    .bind(stream)
    .fetch_all(&mut **tx)
    .await?;
    let mut state = ProductMapping::default();
    let mut sequence = 0;
    for (seq, payload) in rows {
        let event: ProductMappingEvent =
            serde_json::from_value(payload).map_err(|e| MappingFault::Corrupt(e.to_string()))?;
        state.apply(event);
        sequence = seq;
    }
    Ok((state, sequence))
}

async fn ensure_item(
    tx: &mut Transaction<'_, Postgres>,
    account: &AccountId,
    item: &ItemId,
) -> Result<(), MappingFault> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM items WHERE account_id = $1 AND item_id = $2")
            .bind(account.as_str())
            .bind(item.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    found.map(|_| ()).ok_or(MappingFault::ItemNotFound)
}

async fn keep_mapping_row(
    tx: &mut Transaction<'_, Postgres>,
    metadata: &EventMetadata,
    source_digest: &str,
    product: i64,
    state: &ProductMapping,
) -> Result<(), sqlx::Error> {
    let key = (metadata.account_id.as_str(), source_digest, product);
    let at = metadata.recorded_at;
    match &state.mapping {
        Some(mapping) => write_mapping(tx, key, mapping, at).await?,
        None => {
            sqlx::query(
                "DELETE FROM product_mappings
                  WHERE account_id = $1 AND source_digest = $2 AND odoo_product_id = $3",
            )
            .bind(key.0)
            .bind(key.1)
            .bind(key.2)
            .execute(&mut **tx)
            .await?;
        }
    }
    if state.unmapped_by_hand {
        sqlx::query(
            "INSERT INTO products_unmapped_by_hand (account_id, source_digest, odoo_product_id, unmapped_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(
            "DELETE FROM products_unmapped_by_hand
              WHERE account_id = $1 AND source_digest = $2 AND odoo_product_id = $3",
        )
        .bind(key.0)
        .bind(key.1)
        .bind(key.2)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn write_mapping(
    tx: &mut Transaction<'_, Postgres>,
    (account, digest, product): (&str, &str, i64),
    mapping: &Mapping,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO product_mappings (account_id, source_digest, odoo_product_id, item_id, factor, origin, mapped_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (account_id, source_digest, odoo_product_id) DO UPDATE
            SET item_id = EXCLUDED.item_id, factor = EXCLUDED.factor,
                origin = EXCLUDED.origin, mapped_at = EXCLUDED.mapped_at",
    )
    .bind(account)
    .bind(digest)
    .bind(product)
    .bind(mapping.item_id.as_str())
    .bind(mapping.factor.value())
    .bind(mapping.origin.as_str())
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records `SyncResolved` on every finished run of the source that needed resolution, listed
/// `product` among its unmapped products, and has none left unmapped.
async fn resolve_runs(
    tx: &mut Transaction<'_, Postgres>,
    runs: &PgSyncStore,
    metadata: &EventMetadata,
    source_digest: &str,
    product: i64,
) -> Result<(), MappingFault> {
    let settled: Vec<(String, Value)> = sqlx::query_as(
        "SELECT r.run_id, r.state FROM sync_runs r
          WHERE r.run_id IN (SELECT u.run_id FROM sync_run_unmapped_products u
                              WHERE u.account_id = $1 AND u.source_digest = $2 AND u.odoo_product_id = $3)
            AND r.status = 'RESOLUTION_REQUIRED'
            AND NOT EXISTS (
                SELECT 1 FROM sync_run_unmapped_products u
                 WHERE u.run_id = r.run_id
                   AND NOT EXISTS (SELECT 1 FROM product_mappings m
                                    WHERE m.account_id = u.account_id AND m.source_digest = u.source_digest
                                      AND m.odoo_product_id = u.odoo_product_id))
          ORDER BY r.run_id",
    )
    .bind(metadata.account_id.as_str())
    .bind(source_digest)
    .bind(product)
    .fetch_all(&mut **tx)
    .await?;
    for (run_id, state) in settled {
        let ctx = run_context(&run_id, state, metadata)?;
        runs.resolve_in(tx, &ctx, metadata.recorded_at)
            .await
            .map_err(|e| MappingFault::Run(Box::new(e)))?;
        tracing::info!(run = %run_id, "sync run resolved");
    }
    Ok(())
}

fn run_context(
    run_id: &str,
    state: Value,
    metadata: &EventMetadata,
) -> Result<RunContext, MappingFault> {
    let corrupt = |what: &str| MappingFault::Corrupt(format!("run {run_id}: {what}"));
    let run: SyncRun = serde_json::from_value(state).map_err(|e| corrupt(&e.to_string()))?;
    Ok(RunContext {
        run_id: run.id.ok_or_else(|| corrupt("id"))?,
        account_id: metadata.account_id.clone(),
        connection_id: run.connection_id.ok_or_else(|| corrupt("connection"))?,
        source: run.source.ok_or_else(|| corrupt("source"))?,
        actor: metadata.actor.clone(),
        correlation_id: metadata.correlation_id,
    })
}

/// One event to append.
struct NewEvent {
    aggregate_type: &'static str,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    payload: Value,
}

impl NewEvent {
    fn of<E: DomainEvent>(
        aggregate_type: &'static str,
        aggregate_id: &str,
        sequence: i64,
        event: &E,
    ) -> Result<Self, MappingFault> {
        Ok(Self {
            aggregate_type,
            aggregate_id: aggregate_id.to_owned(),
            sequence,
            event_type: event.event_type(),
            payload: serde_json::to_value(event)
                .map_err(|e| MappingFault::Corrupt(e.to_string()))?,
        })
    }
}

/// Appends events with their metadata; the primary key refuses a sequence another writer took.
async fn append(
    tx: &mut Transaction<'_, Postgres>,
    metadata: &EventMetadata,
    events: &[NewEvent],
) -> Result<(), sqlx::Error> {
    let metadata = json!({
        "account_id": metadata.account_id.as_str(),
        "actor": metadata.actor.as_str(),
        "correlation_id": metadata.correlation_id.to_string(),
        "recorded_at": metadata.recorded_at.to_rfc3339(),
    });
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT u.aggregate_type, u.aggregate_id, u.sequence, u.event_type, '1', u.payload, $6
           FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[])
                AS u(aggregate_type, aggregate_id, sequence, event_type, payload)",
    )
    .bind(events.iter().map(|e| e.aggregate_type).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.aggregate_id.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.sequence).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| &e.payload).collect::<Vec<_>>())
    .bind(&metadata)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Items and mappings on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgMappingStore {
    pool: PgPool,
    runs: PgSyncStore,
}

impl PgMappingStore {
    /// A store on this pool.
    pub fn new(pool: PgPool) -> Self {
        Self {
            runs: PgSyncStore::new(pool.clone()),
            pool,
        }
    }

    /// See [`MappingStore::upsert_items`].
    pub async fn upsert_items(
        &self,
        metadata: &EventMetadata,
        items: Vec<Item>,
    ) -> Result<usize, MappingFault> {
        let account = metadata.account_id.as_str();
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("items:{account}"))
            .execute(&mut *tx)
            .await?;
        let stored = stored_items(&mut tx, account, &items).await?;
        let changed: Vec<Item> = items
            .into_iter()
            .filter(|item| stored.get(item.id.as_str()) != Some(item))
            .collect();
        if changed.is_empty() {
            return Ok(0);
        }
        refuse_taken_skus(&mut tx, account, &changed).await?;

        let rows = item_events(&mut tx, account, &changed).await?;
        append(&mut tx, metadata, &rows).await?;
        write_items(&mut tx, metadata, &changed).await?;
        let skus: Vec<&str> = changed.iter().filter_map(|i| i.sku.as_deref()).collect();
        self.auto_map_skus(&mut tx, metadata, &skus).await?;
        tx.commit().await?;
        Ok(changed.len())
    }

    /// Maps by SKU, in every source of the account, the known products matching these SKUs.
    async fn auto_map_skus(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        metadata: &EventMetadata,
        skus: &[&str],
    ) -> Result<(), MappingFault> {
        if skus.is_empty() {
            return Ok(());
        }
        let sources: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT source_digest FROM source_products
              WHERE account_id = $1 AND (internal_reference = ANY($2) OR barcode = ANY($2))
              ORDER BY source_digest",
        )
        .bind(metadata.account_id.as_str())
        .bind(skus)
        .fetch_all(&mut **tx)
        .await?;
        for digest in sources {
            lock_source(tx, &metadata.account_id, &digest).await?;
            auto_map_source(tx, &self.runs, metadata, &digest).await?;
        }
        Ok(())
    }

    /// See [`MappingStore::change`].
    pub async fn change(
        &self,
        metadata: &EventMetadata,
        source: &SourceKey,
        command: ProductMappingCommand,
    ) -> Result<Option<Mapping>, MappingFault> {
        let digest = source.digest();
        let mut tx = self.pool.begin().await?;
        lock_source(&mut tx, &metadata.account_id, &digest).await?;
        let (state, recorded) = execute_in(&mut tx, &self.runs, metadata, &digest, command).await?;
        tx.commit().await?;
        tracing::info!(
            recorded,
            mapped = state.mapping.is_some(),
            "product mapping changed"
        );
        Ok(state.mapping)
    }

    /// See [`MappingStore::items`].
    pub async fn items(
        &self,
        account: &AccountId,
        search: Option<&str>,
        after: Option<&ItemId>,
        limit: u16,
    ) -> Result<(Vec<Item>, i64), MappingFault> {
        const MATCHES: &str = "account_id = $1 AND ($2::text IS NULL
              OR strpos(lower(item_id || ' ' || name || ' ' || coalesce(sku, '')), lower($2)) > 0)";
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM items WHERE {MATCHES}"))
            .bind(account.as_str())
            .bind(search)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT item_id, name, sku, unit FROM items
              WHERE {MATCHES} AND ($3::text IS NULL OR item_id > $3)
              ORDER BY item_id LIMIT $4"
        ))
        .bind(account.as_str())
        .bind(search)
        .bind(after.map(ItemId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let items = rows.iter().map(item_from_row).collect::<Result<_, _>>()?;
        Ok((items, total))
    }

    /// See [`MappingStore::unmapped_products`]. Read from the product totals the sync keeps
    /// in its own transactions, so the list always agrees with what a run finishing now
    /// would count.
    pub async fn unmapped_products(
        &self,
        account: &AccountId,
        source: &SourceKey,
        after: Option<UnmappedCursor>,
        limit: u16,
    ) -> Result<(Vec<UnmappedProduct>, i64), MappingFault> {
        const UNMAPPED: &str = "p.account_id = $1 AND p.source_digest = $2 AND p.line_count > 0
            AND NOT EXISTS (SELECT 1 FROM product_mappings m
                             WHERE m.account_id = p.account_id AND m.source_digest = p.source_digest
                               AND m.odoo_product_id = p.odoo_product_id)";
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM source_products p WHERE {UNMAPPED}"
        ))
        .bind(account.as_str())
        .bind(source.digest())
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(&format!(
            "SELECT p.odoo_product_id, p.name, p.internal_reference, p.barcode, p.line_count, p.order_count
               FROM source_products p
              WHERE {UNMAPPED}
                AND ($3::bigint IS NULL OR p.line_count < $3 OR (p.line_count = $3 AND p.odoo_product_id > $4))
              ORDER BY p.line_count DESC, p.odoo_product_id
              LIMIT $5"
        ))
        .bind(account.as_str())
        .bind(source.digest())
        .bind(after.map(|a| a.line_count))
        .bind(after.map(|a| a.odoo_product_id))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let products = rows
            .iter()
            .map(unmapped_from_row)
            .collect::<Result<_, _>>()?;
        Ok((products, total))
    }
}

async fn stored_items(
    tx: &mut Transaction<'_, Postgres>,
    account: &str,
    items: &[Item],
) -> Result<HashMap<String, Item>, MappingFault> {
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let rows = sqlx::query(
        "SELECT item_id, name, sku, unit FROM items WHERE account_id = $1 AND item_id = ANY($2)",
    )
    .bind(account)
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| item_from_row(row).map(|item| (item.id.as_str().to_owned(), item)))
        .collect()
}

/// Refuses SKUs that items outside this upsert hold. Items inside it may trade SKUs.
async fn refuse_taken_skus(
    tx: &mut Transaction<'_, Postgres>,
    account: &str,
    items: &[Item],
) -> Result<(), MappingFault> {
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let skus: Vec<&str> = items.iter().filter_map(|i| i.sku.as_deref()).collect();
    let taken: Option<(String, String)> = sqlx::query_as(
        "SELECT sku, item_id FROM items
          WHERE account_id = $1 AND sku = ANY($2) AND NOT (item_id = ANY($3))
          ORDER BY sku LIMIT 1",
    )
    .bind(account)
    .bind(&skus)
    .bind(&ids)
    .fetch_optional(&mut **tx)
    .await?;
    match taken {
        Some((sku, item_id)) => Err(MappingFault::SkuTaken { sku, item_id }),
        None => Ok(()),
    }
}

async fn item_events(
    tx: &mut Transaction<'_, Postgres>,
    account: &str,
    items: &[Item],
) -> Result<Vec<NewEvent>, MappingFault> {
    let streams: Vec<String> = items
        .iter()
        .map(|i| format!("{account}:{}", i.id))
        .collect();
    let last: HashMap<String, i64> = sqlx::query_as(
        "SELECT aggregate_id, max(sequence) FROM events
          WHERE aggregate_type = 'item' AND aggregate_id = ANY($1)
          GROUP BY aggregate_id",
    )
    .bind(&streams)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    items
        .iter()
        .zip(&streams)
        .map(|(item, stream)| {
            let sequence = last.get(stream).copied().unwrap_or(0) + 1;
            let event = ItemEvent::ItemUpserted { item: item.clone() };
            NewEvent::of("item", stream, sequence, &event)
        })
        .collect()
}

/// Writes the items; SKUs of the changed items are cleared first, so items of one upsert may
/// trade SKUs without tripping the one-item-per-SKU index halfway.
async fn write_items(
    tx: &mut Transaction<'_, Postgres>,
    metadata: &EventMetadata,
    items: &[Item],
) -> Result<(), sqlx::Error> {
    let account = metadata.account_id.as_str();
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    sqlx::query("UPDATE items SET sku = NULL WHERE account_id = $1 AND item_id = ANY($2)")
        .bind(account)
        .bind(&ids)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO items (account_id, item_id, name, sku, unit, updated_at)
         SELECT $1, u.id, u.name, u.sku, u.unit, $6
           FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, name, sku, unit)
         ON CONFLICT (account_id, item_id) DO UPDATE
            SET name = EXCLUDED.name, sku = EXCLUDED.sku, unit = EXCLUDED.unit,
                updated_at = EXCLUDED.updated_at",
    )
    .bind(account)
    .bind(&ids)
    .bind(items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.sku.as_deref()).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.unit.as_str()).collect::<Vec<_>>())
    .bind(metadata.recorded_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn item_from_row(row: &sqlx::postgres::PgRow) -> Result<Item, MappingFault> {
    let id: String = row.try_get("item_id")?;
    Ok(Item {
        id: ItemId::parse("itemId", &id).map_err(|e| MappingFault::Corrupt(e.to_string()))?,
        name: row.try_get("name")?,
        sku: row.try_get("sku")?,
        unit: row.try_get("unit")?,
    })
}

fn unmapped_from_row(row: &sqlx::postgres::PgRow) -> Result<UnmappedProduct, sqlx::Error> {
    Ok(UnmappedProduct {
        odoo_product_id: row.try_get("odoo_product_id")?,
        name: row.try_get("name")?,
        internal_reference: row.try_get("internal_reference")?,
        barcode: row.try_get("barcode")?,
        line_count: row.try_get("line_count")?,
        order_count: row.try_get("order_count")?,
    })
}

#[async_trait]
impl MappingStore for PgMappingStore {
    async fn upsert_items(
        &self,
        metadata: &EventMetadata,
        items: Vec<Item>,
    ) -> Result<usize, MappingStoreError> {
        Ok(PgMappingStore::upsert_items(self, metadata, items).await?)
    }

    async fn items(
        &self,
        metadata: &EventMetadata,
        search: Option<&str>,
        after: Option<&ItemId>,
        limit: u16,
    ) -> Result<(Vec<Item>, i64), MappingStoreError> {
        Ok(PgMappingStore::items(self, &metadata.account_id, search, after, limit).await?)
    }

    async fn change(
        &self,
        metadata: &EventMetadata,
        source: &SourceKey,
        command: ProductMappingCommand,
    ) -> Result<Option<Mapping>, MappingStoreError> {
        Ok(PgMappingStore::change(self, metadata, source, command).await?)
    }

    async fn unmapped_products(
        &self,
        metadata: &EventMetadata,
        source: &SourceKey,
        after: Option<UnmappedCursor>,
        limit: u16,
    ) -> Result<(Vec<UnmappedProduct>, i64), MappingStoreError> {
        let account = &metadata.account_id;
        Ok(PgMappingStore::unmapped_products(self, account, source, after, limit).await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use domain::sales_order::{Fingerprint, ImportedLine, ImportedOrder};
    use rust_decimal::Decimal;

    use super::*;

    fn line(id: i64, product: Option<i64>, kind: LineKind) -> ImportedLine {
        ImportedLine {
            source_line_id: id,
            kind,
            product: product.map(|id| ProductRef {
                id,
                name: format!("P{id}"),
                internal_reference: None,
                barcode: None,
            }),
            description: String::new(),
            quantity: Decimal::ONE,
            unit: None,
            product_unit: None,
            unit_factor: None,
            unit_price: Decimal::ONE,
            discount: Decimal::ZERO,
            subtotal: Decimal::ONE,
        }
    }

    fn order() -> Box<ImportedOrder> {
        Box::new(ImportedOrder {
            source_order_id: 1,
            number: "S1".into(),
            order_date: None,
            customer: None,
            customer_reference: None,
            status: OrderStatus::Confirmed,
            source_state: "sale".into(),
            locked: false,
            commitment_date: None,
            expected_date: None,
            currency: None,
            amount_untaxed: None,
            amount_total: Decimal::ONE,
            company: None,
            lines: vec![
                line(1, Some(7), LineKind::Product),
                line(2, None, LineKind::Note),
                line(3, Some(7), LineKind::Product),
                line(4, Some(8), LineKind::Product),
            ],
        })
    }

    fn held(status: OrderStatus, in_scope: bool) -> HeldOrder {
        HeldOrder {
            fingerprint: Fingerprint::from_stored("f".into()),
            status,
            in_scope,
            removed: false,
        }
    }

    fn counts(products: &HeldProducts) -> Vec<(i64, i32)> {
        products.products.iter().map(|(p, n)| (p.id, *n)).collect()
    }

    #[test]
    fn an_order_in_scope_counts_its_product_lines_per_product() {
        let change = OrderChange::Imported(order(), Fingerprint::from_stored("f".into()));
        let after = HeldProducts::after(1, &change, &held(OrderStatus::Confirmed, true));
        assert_eq!(counts(&after), [(7, 2), (8, 1)]);
    }

    #[test]
    fn cancelled_out_of_scope_and_removed_orders_count_nothing() {
        let fingerprint = || Fingerprint::from_stored("f".into());
        let cancelled = OrderChange::Cancelled(order(), fingerprint());
        let left = OrderChange::LeftScope(order(), fingerprint());
        let cases = [
            (cancelled, held(OrderStatus::Cancelled, true)),
            (left, held(OrderStatus::Confirmed, false)),
            (
                OrderChange::RemovedFromSource,
                HeldOrder {
                    removed: true,
                    ..held(OrderStatus::Confirmed, true)
                },
            ),
        ];
        for (change, state) in cases {
            assert!(HeldProducts::after(1, &change, &state).products.is_empty());
        }
    }
}
