//! PrepStation items as this service keeps them, and the validation of an upsert.

use std::collections::HashMap;
use std::fmt;

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::validation::{required_text, FieldError, FieldErrors};

/// The most items one upsert may carry.
pub const MAX_ITEMS_PER_CALL: usize = 500;

/// A PrepStation item's id, as PrepStation assigns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(String);

impl ItemId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// Accepts 1 to 64 ASCII letters, digits, `.`, `_`, `:` and `-`; `field` names the input.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.chars().all(valid) {
            return Err(FieldError::new(
                field,
                "must be 1 to 64 letters, digits, '.', '_', ':' or '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An item: its id, name, optional SKU and the unit it is counted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// PrepStation's id.
    pub id: ItemId,
    /// Its name, 1 to 200 characters.
    pub name: String,
    /// Its stock-keeping unit, matched against Odoo's internal references and barcodes.
    pub sku: Option<String>,
    /// The unit it is counted in (`kg`, `piece`, ...), 1 to 32 characters.
    pub unit: String,
}

/// One item of an upsert, as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemInput {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The SKU; `None` for none.
    pub sku: Option<String>,
    /// The unit.
    pub unit: String,
}

impl Item {
    /// The longest name accepted.
    pub const MAX_NAME: usize = 200;
    /// The longest SKU accepted.
    pub const MAX_SKU: usize = 64;
    /// The longest unit accepted.
    pub const MAX_UNIT: usize = 32;
}

/// Validates an upsert: 1 to [`MAX_ITEMS_PER_CALL`] items, each field valid, no id or SKU
/// twice. Errors name the field (`items.name`) and the item's position from 1.
pub fn parse_items(inputs: &[ItemInput]) -> Result<Vec<Item>, FieldErrors> {
    if inputs.is_empty() || inputs.len() > MAX_ITEMS_PER_CALL {
        return Err(FieldError::new(
            "items",
            format!("must hold 1 to {MAX_ITEMS_PER_CALL} items; send more in several calls"),
        )
        .into());
    }
    let mut errors = FieldErrors::default();
    let mut items = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        if let Some(item) = parse_one(index + 1, input, &mut errors) {
            items.push(item);
        }
    }
    refuse_repeats(&items, &mut errors);
    errors.into_result().map(|()| items)
}

fn parse_one(position: usize, input: &ItemInput, errors: &mut FieldErrors) -> Option<Item> {
    let at = |e: FieldError| FieldError::new(e.field, format!("item {position}: {}", e.message));
    let id = errors.check(ItemId::parse("items.id", input.id.trim()).map_err(at));
    let name = errors.check(required_text("items.name", &input.name, Item::MAX_NAME).map_err(at));
    let sku = match &input.sku {
        Some(raw) => errors.check(sku(raw).map_err(at)).map(Some),
        None => Some(None),
    };
    let unit = errors.check(required_text("items.unit", &input.unit, Item::MAX_UNIT).map_err(at));
    Some(Item {
        id: id?,
        name: name?,
        sku: sku?,
        unit: unit?,
    })
}

/// An SKU: one line, compared exactly with Odoo's internal references and barcodes.
fn sku(raw: &str) -> Result<String, FieldError> {
    required_text("items.sku", raw, Item::MAX_SKU).map_err(|e| match raw.trim() {
        "" => FieldError::new(
            "items.sku",
            "must not be empty; leave it out (null) for none",
        ),
        _ => e,
    })
}

fn refuse_repeats(items: &[Item], errors: &mut FieldErrors) {
    let mut ids = HashMap::new();
    let mut skus = HashMap::new();
    for (index, item) in items.iter().enumerate() {
        if let Some(first) = ids.insert(item.id.as_str(), index + 1) {
            let message = format!("item {} repeats the id of item {first}", index + 1);
            errors.push(FieldError::new("items.id", message));
        }
        if let Some(first) = item.sku.as_deref().and_then(|s| skus.insert(s, index + 1)) {
            let message = format!("item {} repeats the SKU of item {first}", index + 1);
            errors.push(FieldError::new("items.sku", message));
        }
    }
}

/// An event of an item's stream (`item`, id `account:item_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ItemEvent {
    /// The item was created or changed; it holds the whole item as it now stands.
    ItemUpserted {
        /// The item.
        item: Item,
    },
}

impl DomainEvent for ItemEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ItemUpserted { .. } => "ItemUpserted".to_owned(),
        }
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
