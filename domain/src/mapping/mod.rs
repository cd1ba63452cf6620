//! PrepStation items (what a kitchen produces) and the mapping of a source's Odoo products to
//! them.
//!
//! A mapping belongs to the account and the Odoo source (not the connection), so a connection
//! deleted and created again to the same Odoo keeps its mappings. Each product of a source has
//! its own event stream, [`ProductMapping`]: mapped by a person, mapped automatically because
//! its internal reference or barcode equals an item's SKU, or unmapped by a person — which an
//! automatic mapping never undoes.

mod item;
mod product_mapping;

pub use item::{parse_items, Item, ItemEvent, ItemId, ItemInput, MAX_ITEMS_PER_CALL};
pub use product_mapping::{
    Factor, Mapping, MappingError, MappingOrigin, ProductMapping, ProductMappingCommand,
    ProductMappingEvent,
};

#[cfg(test)]
mod tests;
