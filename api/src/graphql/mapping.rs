//! Items and product mapping: `upsertItems`, `items`, `mapProduct`, `unmapProduct` and
//! `unmappedProducts`.

use application::access::Operation;
use application::mapping::{UnmappedCursor, UnmappedProduct as UnmappedView};
use async_graphql::connection::{Connection as Page, Edge, EmptyFields};
use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::mapping::{Item as ItemValue, ItemInput as ItemValueInput, Mapping, MappingOrigin};
use rust_decimal::Decimal;

use super::errors::{invalid, GqlResult};
use super::query::{caller, connection_id, page_size, use_cases};
use super::types::TotalCount;

/// A PrepStation item: what a kitchen produces.
#[derive(Debug, Clone, SimpleObject)]
pub struct Item {
    /// PrepStation's id.
    pub id: ID,
    /// Its name.
    pub name: String,
    /// Its stock-keeping unit; Odoo products whose internal reference or barcode equals it
    /// are mapped to it automatically.
    pub sku: Option<String>,
    /// The unit it is counted in.
    pub unit: String,
}

impl From<ItemValue> for Item {
    fn from(item: ItemValue) -> Self {
        Self {
            id: ID(item.id.to_string()),
            name: item.name,
            sku: item.sku,
            unit: item.unit,
        }
    }
}

/// An item to create or change, whole.
#[derive(Debug, Clone, InputObject)]
pub struct ItemInput {
    /// PrepStation's id: 1 to 64 letters, digits, `.`, `_`, `:` or `-`.
    pub id: ID,
    /// 1 to 200 characters.
    pub name: String,
    /// Up to 64 characters on one line; null for none.
    pub sku: Option<String>,
    /// 1 to 32 characters, e.g. `kg` or `piece`.
    pub unit: String,
}

/// Why a product is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ProductMappingOrigin {
    /// A person mapped it.
    Manual,
    /// Its internal reference or barcode equals the item's SKU.
    Sku,
}

/// The item an Odoo product stands for.
#[derive(Debug, Clone, SimpleObject)]
pub struct ProductMapping {
    /// The product's id in Odoo.
    pub odoo_product_id: i64,
    /// The item's id.
    pub item_id: ID,
    /// Item units per unit of the product's own unit of measure.
    pub factor: Decimal,
    /// By a person or by SKU.
    pub origin: ProductMappingOrigin,
}

impl ProductMapping {
    fn of(odoo_product_id: i64, mapping: Mapping) -> Self {
        Self {
            odoo_product_id,
            item_id: ID(mapping.item_id.to_string()),
            factor: mapping.factor.value(),
            origin: match mapping.origin {
                MappingOrigin::Manual => ProductMappingOrigin::Manual,
                MappingOrigin::Sku => ProductMappingOrigin::Sku,
            },
        }
    }
}

/// An Odoo product on imported lines in scope without an item.
#[derive(Debug, Clone, SimpleObject)]
pub struct UnmappedProduct {
    /// The product's id in Odoo.
    pub odoo_product_id: i64,
    /// Its name, as last imported.
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

impl From<UnmappedView> for UnmappedProduct {
    fn from(view: UnmappedView) -> Self {
        Self {
            odoo_product_id: view.odoo_product_id,
            name: view.name,
            internal_reference: view.internal_reference,
            barcode: view.barcode,
            line_count: view.line_count,
            order_count: view.order_count,
        }
    }
}

/// Queries on items and unmapped products.
#[derive(Debug, Default)]
pub struct MappingQuery;

#[Object]
impl MappingQuery {
    /// The account's items by id, as a Relay connection with `totalCount`; `search` keeps
    /// those whose id, name or SKU contains it (ignoring case). `first` is at most 500
    /// (default 20).
    #[graphql(complexity = 100)]
    async fn items(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<String, Item, TotalCount, EmptyFields>> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadItems).gql()?;
        let first = page_size(first)?;
        let after = after.as_deref().map(decode_item_cursor).transpose()?;

        let mappings = &use_cases(ctx)?.mappings;
        let (items, total) = mappings
            .items(caller, search.as_deref(), after.as_deref(), first + 1)
            .await
            .gql()?;
        let has_next = items.len() > usize::from(first);
        let mut page = Page::with_additional_fields(
            after.is_some(),
            has_next,
            TotalCount { total_count: total },
        );
        for item in items.into_iter().take(usize::from(first)) {
            let cursor = URL_SAFE_NO_PAD.encode(item.id.as_str());
            page.edges.push(Edge::new(cursor, item.into()));
        }
        Ok(page)
    }

    /// Odoo products on imported lines of a connection's records in scope that have no item,
    /// most lines first, as a Relay connection with `totalCount`. `first` is at most 500
    /// (default 20).
    #[graphql(complexity = 200)]
    async fn unmapped_products(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<String, UnmappedProduct, TotalCount, EmptyFields>> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadUnmappedProducts).gql()?;
        let first = page_size(first)?;
        let after = after.as_deref().map(decode_unmapped_cursor).transpose()?;
        let id = self::connection_id(&connection_id)?;

        let mappings = &use_cases(ctx)?.mappings;
        let (products, total) = mappings
            .unmapped_products(caller, id, after, first + 1)
            .await
            .gql()?;
        let has_next = products.len() > usize::from(first);
        let mut page = Page::with_additional_fields(
            after.is_some(),
            has_next,
            TotalCount { total_count: total },
        );
        for product in products.into_iter().take(usize::from(first)) {
            let cursor = encode_unmapped_cursor(&product);
            page.edges.push(Edge::new(cursor, product.into()));
        }
        Ok(page)
    }
}

/// Mutations of items and product mappings.
#[derive(Debug, Default)]
pub struct MappingMutation;

#[Object]
impl MappingMutation {
    /// Creates or changes up to 500 items at once, all or nothing, and maps automatically
    /// the Odoo products whose internal reference or barcode equals a changed item's SKU
    /// (unless they are mapped, or were unmapped by hand). Members and admins.
    #[graphql(complexity = 200)]
    async fn upsert_items(&self, ctx: &Context<'_>, items: Vec<ItemInput>) -> Result<Vec<Item>> {
        let caller = caller(ctx)?;
        caller.require(Operation::WriteItems).gql()?;
        let inputs = items
            .into_iter()
            .map(|item| ItemValueInput {
                id: item.id.0,
                name: item.name,
                sku: item.sku,
                unit: item.unit,
            })
            .collect();

        let stored = use_cases(ctx)?
            .mappings
            .upsert_items(caller, inputs)
            .await
            .gql()?;
        Ok(stored.into_iter().map(Item::from).collect())
    }

    /// Maps an Odoo product of a connection's source to an item, with `factor` item units
    /// per unit of the product's own unit of measure (default 1). Overrides any mapping; the
    /// mapping stays with the source when the connection is deleted and created again.
    /// Mapping the last unmapped product of a run that needed resolution completes it.
    #[graphql(complexity = 100)]
    async fn map_product(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        odoo_product_id: i64,
        item_id: ID,
        factor: Option<Decimal>,
    ) -> Result<ProductMapping> {
        let caller = caller(ctx)?;
        caller.require(Operation::MapProducts).gql()?;
        let id = self::connection_id(&connection_id)?;

        let mapping = use_cases(ctx)?
            .mappings
            .map_product(caller, id, odoo_product_id, item_id.as_str(), factor)
            .await
            .gql()?;
        let mapping = mapping.ok_or_else(|| invalid("odooProductId", "was not mapped"))?;
        Ok(ProductMapping::of(odoo_product_id, mapping))
    }

    /// Removes an Odoo product's mapping. Automatic mapping by SKU leaves the product
    /// unmapped until a person maps it again; finished runs stay as they are, the next run
    /// counts the product's lines again. `NOT_FOUND` when the product is not mapped.
    #[graphql(complexity = 100)]
    async fn unmap_product(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        odoo_product_id: i64,
    ) -> Result<bool> {
        let caller = caller(ctx)?;
        caller.require(Operation::MapProducts).gql()?;
        let id = self::connection_id(&connection_id)?;

        use_cases(ctx)?
            .mappings
            .unmap_product(caller, id, odoo_product_id)
            .await
            .gql()?;
        Ok(true)
    }
}

fn bad_cursor() -> async_graphql::Error {
    invalid(
        "after",
        "is not a cursor of this list; use an endCursor it returned",
    )
}

fn decode_item_cursor(cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(bad_cursor)
}

fn encode_unmapped_cursor(product: &UnmappedView) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        product.line_count, product.odoo_product_id
    ))
}

fn decode_unmapped_cursor(cursor: &str) -> Result<UnmappedCursor> {
    let text = decode_item_cursor(cursor)?;
    let (lines, product) = text.split_once('|').ok_or_else(bad_cursor)?;
    Ok(UnmappedCursor {
        line_count: lines.parse().map_err(|_| bad_cursor())?,
        odoo_product_id: product.parse().map_err(|_| bad_cursor())?,
    })
}
