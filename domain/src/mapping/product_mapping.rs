//! The mapping of one Odoo product of a source to a PrepStation item, as an event-sourced
//! aggregate (`product_mapping`, id `account:source_digest:product_id`).

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::item::ItemId;
use crate::ids::ConnectionId;
use crate::validation::FieldError;

/// Item units per unit of the Odoo product's own unit of measure: more than 0, at most one
/// million, at most six decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Factor(Decimal);

impl Factor {
    /// The largest factor accepted.
    pub const MAX: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

    /// One item unit per product unit.
    pub fn one() -> Self {
        Self(Decimal::ONE)
    }

    /// Checks a factor given as `field`.
    pub fn parse(field: &'static str, value: Decimal) -> Result<Self, FieldError> {
        if value <= Decimal::ZERO || value > Self::MAX {
            return Err(FieldError::new(
                field,
                "must be more than 0 and at most 1000000 (item units per product unit)",
            ));
        }
        if value.normalize().scale() > 6 {
            return Err(FieldError::new(field, "must have at most 6 decimals"));
        }
        Ok(Self(value.normalize()))
    }

    /// The factor.
    pub fn value(&self) -> Decimal {
        self.0
    }
}

/// Why a product is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MappingOrigin {
    /// A person mapped it.
    Manual,
    /// Its internal reference or barcode equals the item's SKU.
    Sku,
}

impl MappingOrigin {
    /// The origin as stored (`MANUAL`, `SKU`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "MANUAL",
            Self::Sku => "SKU",
        }
    }
}

/// The item a product stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// The item.
    pub item_id: ItemId,
    /// Item units per product unit.
    pub factor: Factor,
    /// Why.
    pub origin: MappingOrigin,
}

/// What a product's mapping leaves behind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductMapping {
    /// The current mapping, if any.
    pub mapping: Option<Mapping>,
    /// Whether a person unmapped it and nobody mapped it since: automatic mapping leaves it
    /// alone.
    pub unmapped_by_hand: bool,
}

/// What can be asked of a product's mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductMappingCommand {
    /// A person maps the product; this overrides any mapping.
    Map {
        /// The product's id in its source.
        odoo_product_id: i64,
        /// The connection it was mapped through.
        connection_id: Option<ConnectionId>,
        /// The item.
        item_id: ItemId,
        /// Item units per product unit.
        factor: Factor,
    },
    /// A person unmaps it.
    Unmap {
        /// The product's id in its source.
        odoo_product_id: i64,
        /// The connection it was unmapped through.
        connection_id: Option<ConnectionId>,
    },
    /// Its internal reference or barcode equals an item's SKU: map it, unless it is mapped
    /// already or a person unmapped it.
    AutoMap {
        /// The product's id in its source.
        odoo_product_id: i64,
        /// The item whose SKU matched.
        item_id: ItemId,
    },
}

/// Why a mapping command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Unmapping a product that has no mapping.
    #[error("the product is not mapped")]
    NotMapped,
}

/// An event of a product's mapping stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ProductMappingEvent {
    /// The product now stands for an item.
    ProductMapped {
        /// The product's id in its source.
        odoo_product_id: i64,
        /// The connection it was mapped through; none for a mapping made by an item upsert.
        connection_id: Option<ConnectionId>,
        /// The item.
        item_id: ItemId,
        /// Item units per product unit.
        factor: Factor,
        /// By a person or by SKU.
        origin: MappingOrigin,
    },
    /// A person removed the product's mapping.
    ProductUnmapped {
        /// The product's id in its source.
        odoo_product_id: i64,
        /// The connection it was unmapped through.
        connection_id: Option<ConnectionId>,
    },
}

impl DomainEvent for ProductMappingEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::ProductMapped { .. } => "ProductMapped",
            Self::ProductUnmapped { .. } => "ProductUnmapped",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

impl Aggregate for ProductMapping {
    const TYPE: &'static str = "product_mapping";
    type Command = ProductMappingCommand;
    type Event = ProductMappingEvent;
    type Error = MappingError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ProductMappingEvent::ProductMapped {
                item_id,
                factor,
                origin,
                ..
            } => {
                self.mapping = Some(Mapping {
                    item_id,
                    factor,
                    origin,
                });
                self.unmapped_by_hand = false;
            }
            ProductMappingEvent::ProductUnmapped { .. } => {
                self.mapping = None;
                self.unmapped_by_hand = true;
            }
        }
    }
}

impl ProductMapping {
    /// The events a command produces (none when it changes nothing), or why it is refused.
    pub fn decide(
        &self,
        command: ProductMappingCommand,
    ) -> Result<Vec<ProductMappingEvent>, MappingError> {
        match command {
            ProductMappingCommand::Map {
                odoo_product_id,
                connection_id,
                item_id,
                factor,
            } => {
                let wanted = Mapping {
                    item_id,
                    factor,
                    origin: MappingOrigin::Manual,
                };
                Ok(self.map_to(odoo_product_id, connection_id, wanted))
            }
            ProductMappingCommand::Unmap {
                odoo_product_id,
                connection_id,
            } => match self.mapping {
                Some(_) => Ok(vec![ProductMappingEvent::ProductUnmapped {
                    odoo_product_id,
                    connection_id,
                }]),
                None => Err(MappingError::NotMapped),
            },
            ProductMappingCommand::AutoMap {
                odoo_product_id,
                item_id,
            } => {
                if self.mapping.is_some() || self.unmapped_by_hand {
                    return Ok(vec![]);
                }
                let wanted = Mapping {
                    item_id,
                    factor: Factor::one(),
                    origin: MappingOrigin::Sku,
                };
                Ok(self.map_to(odoo_product_id, None, wanted))
            }
        }
    }

    fn map_to(
        &self,
        odoo_product_id: i64,
        connection_id: Option<ConnectionId>,
        wanted: Mapping,
    ) -> Vec<ProductMappingEvent> {
        if self.mapping.as_ref() == Some(&wanted) {
            return vec![];
        }
        vec![ProductMappingEvent::ProductMapped {
            odoo_product_id,
            connection_id,
            item_id: wanted.item_id,
            factor: wanted.factor,
            origin: wanted.origin,
        }]
    }
}
