//! Items and product mapping: upserting PrepStation items, mapping the Odoo products of a
//! connection's source to them (by hand, or automatically by SKU), and listing the products
//! still unmapped.
//!
//! A mapping belongs to the connection's source, not to the connection, so a connection
//! deleted and created again to the same Odoo keeps its mappings. Mapping the last unmapped
//! product of a finished run that needed resolution completes that run; unmapping never
//! reopens a run, but the next run counts the product again.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use domain::connection::{Connection, SourceKey};
use domain::ids::ConnectionId;
use domain::mapping::{
    parse_items, Factor, Item, ItemId, ItemInput, Mapping, MappingError, ProductMappingCommand,
};
use domain::metadata::EventMetadata;
use domain::validation::FieldError;
use rust_decimal::Decimal;
use tracing::instrument;

use crate::access::{Caller, Operation};
use crate::ports::AggregateStore;
use crate::AppError;

/// The longest search text accepted.
pub const MAX_SEARCH: usize = 200;

/// An Odoo product on imported lines in scope that has no item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmappedProduct {
    /// The product's id in its source.
    pub odoo_product_id: i64,
    /// Its name, as last synced.
    pub name: Option<String>,
    /// Its internal reference.
    pub internal_reference: Option<String>,
    /// Its barcode.
    pub barcode: Option<String>,
    /// Lines naming it.
    pub line_count: i64,
    /// Orders with such lines.
    pub order_count: i64,
}

/// Where a page of unmapped products continues: after this line count and product id, in
/// the order most lines first, then product id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnmappedCursor {
    /// The line count of the last product read.
    pub line_count: i64,
    /// Its id.
    pub odoo_product_id: i64,
}

/// Why the mapping store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum MappingStoreError {
    /// No item with this id in the account.
    #[error("item not found")]
    ItemNotFound,
    /// Another item of the account has this SKU.
    #[error("the SKU {sku} belongs to item {item_id}")]
    SkuTaken {
        /// The SKU.
        sku: String,
        /// The item holding it.
        item_id: String,
    },
    /// The mapping refused the command.
    #[error(transparent)]
    Rejected(#[from] MappingError),
    /// The store failed.
    #[error("mapping store failed")]
    Failed(#[source] anyhow::Error),
}

/// Where items and mappings are recorded, each change with its events in one transaction.
#[async_trait]
pub trait MappingStore: Send + Sync {
    /// Creates or changes items (unchanged ones record nothing), then maps by SKU the known
    /// products of every source of the account that match a changed item's SKU. Returns how
    /// many items changed.
    async fn upsert_items(
        &self,
        metadata: &EventMetadata,
        items: Vec<Item>,
    ) -> Result<usize, MappingStoreError>;
    /// Items of the account whose id, name or SKU contains `search`, by id, after `after`,
    /// and how many match.
    async fn items(
        &self,
        metadata: &EventMetadata,
        search: Option<&str>,
        after: Option<&ItemId>,
        limit: u16,
    ) -> Result<(Vec<Item>, i64), MappingStoreError>;
    /// Runs a mapping command on a product of a source; returns its mapping afterwards.
    async fn change(
        &self,
        metadata: &EventMetadata,
        source: &SourceKey,
        command: ProductMappingCommand,
    ) -> Result<Option<Mapping>, MappingStoreError>;
    /// Products on imported lines of records in scope of a source without a mapping, most
    /// lines first, after `after`, and how many there are.
    async fn unmapped_products(
        &self,
        metadata: &EventMetadata,
        source: &SourceKey,
        after: Option<UnmappedCursor>,
        limit: u16,
    ) -> Result<(Vec<UnmappedProduct>, i64), MappingStoreError>;
}

/// The item and mapping use cases.
#[derive(Clone)]
pub struct Mappings {
    connections: Arc<dyn AggregateStore<Connection>>,
    store: Arc<dyn MappingStore>,
}

impl std::fmt::Debug for Mappings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mappings").finish_non_exhaustive()
    }
}

impl Mappings {
    /// Wires the use cases to their ports.
    pub fn new(
        connections: Arc<dyn AggregateStore<Connection>>,
        store: Arc<dyn MappingStore>,
    ) -> Self {
        Self { connections, store }
    }

    /// Creates or changes up to [`domain::mapping::MAX_ITEMS_PER_CALL`] items at once; all or
    /// nothing. Returns the items as stored.
    #[instrument(skip_all, fields(account = %caller.account_id, items = inputs.len()))]
    pub async fn upsert_items(
        &self,
        caller: &Caller,
        inputs: Vec<ItemInput>,
    ) -> Result<Vec<Item>, AppError> {
        caller.require(Operation::WriteItems)?;
        let items = parse_items(&inputs)?;

        let changed = self
            .store
            .upsert_items(&metadata(caller), items.clone())
            .await
            .map_err(app_error)?;
        tracing::info!(changed, "items upserted");
        Ok(items)
    }

    /// Items of the caller's account, by id, optionally only those whose id, name or SKU
    /// contains `search` (ignoring case); at most `first` after the item `after`.
    pub async fn items(
        &self,
        caller: &Caller,
        search: Option<&str>,
        after: Option<&str>,
        first: u16,
    ) -> Result<(Vec<Item>, i64), AppError> {
        caller.require(Operation::ReadItems)?;
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        if search.is_some_and(|s| s.chars().count() > MAX_SEARCH) {
            return Err(FieldError::new("search", "must be at most 200 characters").into());
        }
        let after = after
            .map(|raw| ItemId::parse("after", raw))
            .transpose()
            .map_err(|_| FieldError::new("after", "is not a cursor of this list"))?;

        self.store
            .items(&metadata(caller), search, after.as_ref(), first)
            .await
            .map_err(app_error)
    }

    /// Maps a product of a connection's source to an item of the account, with `factor` item
    /// units per product unit (default 1). Overrides any mapping, manual or by SKU.
    #[instrument(
        skip_all,
        fields(account = %caller.account_id, connection = %connection_id, product = odoo_product_id)
    )]
    pub async fn map_product(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        odoo_product_id: i64,
        item_id: &str,
        factor: Option<Decimal>,
    ) -> Result<Option<Mapping>, AppError> {
        caller.require(Operation::MapProducts)?;
        let product = product_id(odoo_product_id);
        let item = ItemId::parse("itemId", item_id);
        let factor = factor.map_or(Ok(Factor::one()), |f| Factor::parse("factor", f));
        let (odoo_product_id, item_id, factor) = collect(product, item, factor)?;
        let source = self.source(caller, connection_id).await?;

        let command = ProductMappingCommand::Map {
            odoo_product_id,
            connection_id: Some(connection_id),
            item_id,
            factor,
        };
        self.store
            .change(&metadata(caller), &source, command)
            .await
            .map_err(app_error)
    }

    /// Removes a product's mapping; automatic mapping by SKU leaves it unmapped until a person
    /// maps it again.
    #[instrument(
        skip_all,
        fields(account = %caller.account_id, connection = %connection_id, product = odoo_product_id)
    )]
    pub async fn unmap_product(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        odoo_product_id: i64,
    ) -> Result<(), AppError> {
        caller.require(Operation::MapProducts)?;
        let odoo_product_id = product_id(odoo_product_id)?;
        let source = self.source(caller, connection_id).await?;

        let command = ProductMappingCommand::Unmap {
            odoo_product_id,
            connection_id: Some(connection_id),
        };
        self.store
            .change(&metadata(caller), &source, command)
            .await
            .map_err(app_error)?;
        Ok(())
    }

    /// Products on imported lines in scope of a connection's source that have no item, most
    /// lines first.
    pub async fn unmapped_products(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
        after: Option<UnmappedCursor>,
        first: u16,
    ) -> Result<(Vec<UnmappedProduct>, i64), AppError> {
        caller.require(Operation::ReadUnmappedProducts)?;
        let source = self.source(caller, connection_id).await?;

        self.store
            .unmapped_products(&metadata(caller), &source, after, first)
            .await
            .map_err(app_error)
    }

    /// The source of a live connection of the caller's account.
    async fn source(
        &self,
        caller: &Caller,
        connection_id: ConnectionId,
    ) -> Result<SourceKey, AppError> {
        let connection = self
            .connections
            .load(&connection_id.to_string())
            .await
            .map_err(AppError::internal)?;
        let view = connection
            .view_for(&caller.account_id)
            .ok_or(AppError::NotFound)?;
        Ok(view.settings.source())
    }
}

fn product_id(raw: i64) -> Result<i64, FieldError> {
    if raw <= 0 {
        return Err(FieldError::new(
            "odooProductId",
            "must be a positive Odoo product id",
        ));
    }
    Ok(raw)
}

/// Every field error of three checks at once.
fn collect<A, B, C>(
    a: Result<A, FieldError>,
    b: Result<B, FieldError>,
    c: Result<C, FieldError>,
) -> Result<(A, B, C), AppError> {
    let mut errors = domain::validation::FieldErrors::default();
    let (a, b, c) = (errors.check(a), errors.check(b), errors.check(c));
    match (a, b, c) {
        (Some(a), Some(b), Some(c)) => Ok((a, b, c)),
        _ => Err(AppError::Validation(errors)),
    }
}

fn metadata(caller: &Caller) -> EventMetadata {
    EventMetadata {
        account_id: caller.account_id.clone(),
        actor: caller.actor.clone(),
        correlation_id: caller.correlation_id,
        recorded_at: Utc::now(),
    }
}

fn app_error(error: MappingStoreError) -> AppError {
    match error {
        MappingStoreError::ItemNotFound => AppError::NotFound,
        MappingStoreError::SkuTaken { sku, item_id } => AppError::Conflict {
            field: Some("items.sku"),
            message: format!(
                "the SKU {sku:?} already belongs to item {item_id:?}; give each item its own SKU"
            ),
        },
        MappingStoreError::Rejected(MappingError::NotMapped) => AppError::NotFound,
        MappingStoreError::Failed(cause) => AppError::Internal(cause),
    }
}
