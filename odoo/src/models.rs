//! Typed records of the models the sync reads: sales orders and lines, products, units and
//! the connecting user. Field names here are Odoo's; version differences come from
//! [`OdooVersion`].

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::OdooError;
use crate::record::{Many2One, Record};
use crate::value::Value;
use crate::version::{OdooVersion, UomScheme};

/// Where a sales order stands, whatever the version spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// `draft`.
    Quotation,
    /// `sent`.
    QuotationSent,
    /// `sale`, not locked.
    Confirmed,
    /// `sale` with `locked` (17+) or `done` (16 and older).
    Locked,
    /// `cancel`.
    Cancelled,
    /// A state this client does not know (e.g. added by a module).
    Other,
}

impl OrderStatus {
    /// Maps `state` and `locked` (absent before 17) to a status.
    pub fn from_odoo(state: &str, locked: bool) -> OrderStatus {
        match (state, locked) {
            ("draft", _) => OrderStatus::Quotation,
            ("sent", _) => OrderStatus::QuotationSent,
            ("sale", true) | ("done", _) => OrderStatus::Locked,
            ("sale", false) => OrderStatus::Confirmed,
            ("cancel", _) => OrderStatus::Cancelled,
            _ => OrderStatus::Other,
        }
    }
}

/// A `sale.order` with the fields a sync reads.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesOrder {
    /// Record id.
    pub id: i64,
    /// Order reference, e.g. `S00004`.
    pub name: String,
    /// Creation date of quotations, confirmation date of confirmed orders.
    pub date_order: Option<DateTime<Utc>>,
    /// The customer.
    pub partner: Option<Many2One>,
    /// Odoo's `state`.
    pub state: String,
    /// The status across versions.
    pub status: OrderStatus,
    /// Odoo's `locked` flag (17 and later; always false before).
    pub locked: bool,
    /// Promised delivery date.
    pub commitment_date: Option<DateTime<Utc>>,
    /// The delivery date Odoo expects (computed when read).
    pub expected_date: Option<DateTime<Utc>>,
    /// Total without taxes, where the server sends it.
    pub amount_untaxed: Option<Decimal>,
    /// Currency.
    pub currency: Option<Many2One>,
    /// Total including taxes.
    pub amount_total: Decimal,
    /// Ids of the lines, in order.
    pub line_ids: Vec<i64>,
    /// Last modification (truncated to the second).
    pub write_date: Option<DateTime<Utc>>,
    /// Company.
    pub company: Option<Many2One>,
    /// The customer's reference.
    pub client_order_ref: Option<String>,
}

/// The `sale.order` fields [`SalesOrder`] needs on `version`.
pub fn order_fields(version: &OdooVersion) -> Vec<&'static str> {
    let mut fields = vec![
        "name",
        "date_order",
        "partner_id",
        "state",
        "commitment_date",
        "expected_date",
        "currency_id",
        "amount_untaxed",
        "amount_total",
        "order_line",
        "write_date",
        "company_id",
        "client_order_ref",
    ];
    if version.has_locked_field() {
        fields.push("locked");
    }
    fields
}

impl SalesOrder {
    /// Decodes a record read with [`order_fields`].
    pub fn from_record(record: &Record, version: &OdooVersion) -> Result<SalesOrder, OdooError> {
        let state = record.text("state")?.unwrap_or_default();
        let locked = version.has_locked_field() && record.boolean("locked")?;

        Ok(SalesOrder {
            id: record.id()?,
            name: record.text("name")?.unwrap_or_default(),
            date_order: record.datetime("date_order")?,
            partner: record.many2one("partner_id")?,
            status: OrderStatus::from_odoo(&state, locked),
            state,
            locked,
            commitment_date: record.datetime("commitment_date")?,
            expected_date: record.datetime("expected_date")?,
            amount_untaxed: optional_decimal(record, "amount_untaxed")?,
            currency: record.many2one("currency_id")?,
            amount_total: record.decimal("amount_total")?,
            line_ids: record.ids("order_line")?,
            write_date: record.datetime("write_date")?,
            company: record.many2one("company_id")?,
            client_order_ref: record.text("client_order_ref")?,
        })
    }
}

/// A `sale.order.line` with the fields a sync reads.
/// A number field that may be missing or `false` (as in exports without it).
fn optional_decimal(record: &Record, field: &str) -> Result<Option<Decimal>, OdooError> {
    match record.raw(field) {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(_) => record.decimal(field).map(Some),
    }
}

/// One sales order line.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    /// Record id.
    pub id: i64,
    /// The order.
    pub order: Option<Many2One>,
    /// The product; `None` on section and note lines.
    pub product: Option<Many2One>,
    /// Description (may span lines).
    pub description: Option<String>,
    /// Ordered quantity, in [`OrderLine::unit`].
    pub quantity: Decimal,
    /// The line's unit (`product_uom` up to 18, `product_uom_id` from 19).
    pub unit: Option<Many2One>,
    /// Unit price.
    pub price_unit: Decimal,
    /// Discount in percent.
    pub discount: Decimal,
    /// Subtotal without taxes.
    pub price_subtotal: Decimal,
    /// `line_section`, `line_subsection` (19), `line_note`, or `None` for product lines.
    pub display_type: Option<String>,
    /// Delivered quantity.
    pub qty_delivered: Decimal,
    /// Last modification of the line.
    pub write_date: Option<DateTime<Utc>>,
}

/// The `sale.order.line` fields [`OrderLine`] needs on `version`.
pub fn line_fields(version: &OdooVersion) -> Vec<&'static str> {
    vec![
        "order_id",
        "product_id",
        "name",
        "product_uom_qty",
        version.line_uom_field(),
        "price_unit",
        "discount",
        "price_subtotal",
        "display_type",
        "qty_delivered",
        "write_date",
    ]
}

impl OrderLine {
    /// Decodes a record read with [`line_fields`].
    pub fn from_record(record: &Record, version: &OdooVersion) -> Result<OrderLine, OdooError> {
        Ok(OrderLine {
            id: record.id()?,
            order: record.many2one("order_id")?,
            product: record.many2one("product_id")?,
            description: record.text("name")?,
            quantity: record.decimal("product_uom_qty")?,
            unit: record.many2one(version.line_uom_field())?,
            price_unit: record.decimal("price_unit")?,
            discount: record.decimal("discount")?,
            price_subtotal: record.decimal("price_subtotal")?,
            display_type: record.text("display_type")?,
            qty_delivered: record.decimal("qty_delivered")?,
            write_date: record.datetime("write_date")?,
        })
    }
}

/// A `product.product`: internal reference, barcode and unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// Record id.
    pub id: i64,
    /// Internal reference (`default_code`).
    pub default_code: Option<String>,
    /// Name.
    pub name: String,
    /// Barcode.
    pub barcode: Option<String>,
    /// The product's own unit (`uom_id`).
    pub unit: Option<Many2One>,
    /// Whether the product is active.
    pub active: bool,
}

/// The `product.product` fields [`Product`] needs.
pub const PRODUCT_FIELDS: [&str; 5] = ["default_code", "name", "barcode", "uom_id", "active"];

impl Product {
    /// Decodes a record read with [`PRODUCT_FIELDS`].
    pub fn from_record(record: &Record) -> Result<Product, OdooError> {
        Ok(Product {
            id: record.id()?,
            default_code: record.text("default_code")?,
            name: record.text("name")?.unwrap_or_default(),
            barcode: record.text("barcode")?,
            unit: record.many2one("uom_id")?,
            active: record.boolean("active")?,
        })
    }
}

/// A `uom.uom`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Record id.
    pub id: i64,
    /// Name, e.g. `Dozens`.
    pub name: String,
    /// Rounding precision.
    pub rounding: Decimal,
    /// Whether the unit is active.
    pub active: bool,
    /// How the unit relates to others.
    pub definition: UnitDefinition,
}

/// How a unit relates to other units.
#[derive(Debug, Clone, PartialEq)]
pub enum UnitDefinition {
    /// Up to 18: `q` in unit `a` is `q / a.factor * b.factor` in unit `b` of the same category.
    InCategory {
        /// The category (`Unit`, `Working Time`…).
        category: Option<Many2One>,
        /// Units of the reference per this unit, inverted (`Dozens`: 1/12).
        factor: Decimal,
        /// `reference`, `bigger` or `smaller`.
        uom_type: Option<String>,
    },
    /// From 19: this unit is `relative_factor` times `relative_to` (Days = 8 × Hours).
    Relative {
        /// The multiplier.
        relative_factor: Decimal,
        /// The unit it is defined from; `None` for a base unit.
        relative_to: Option<Many2One>,
        /// The stored absolute quantity.
        factor: Decimal,
    },
}

/// The `uom.uom` fields [`Unit`] needs on `version`.
pub fn unit_fields(version: &OdooVersion) -> Vec<&'static str> {
    match version.uom_scheme() {
        UomScheme::Categories => {
            vec![
                "name",
                "category_id",
                "factor",
                "uom_type",
                "rounding",
                "active",
            ]
        }
        UomScheme::Relative => {
            vec![
                "name",
                "relative_factor",
                "relative_uom_id",
                "factor",
                "rounding",
                "active",
            ]
        }
    }
}

impl Unit {
    /// Decodes a record read with [`unit_fields`].
    pub fn from_record(record: &Record, version: &OdooVersion) -> Result<Unit, OdooError> {
        let definition = match version.uom_scheme() {
            UomScheme::Categories => UnitDefinition::InCategory {
                category: record.many2one("category_id")?,
                factor: record.decimal("factor")?,
                uom_type: record.text("uom_type")?,
            },
            UomScheme::Relative => UnitDefinition::Relative {
                relative_factor: record.decimal("relative_factor")?,
                relative_to: record.many2one("relative_uom_id")?,
                factor: record.decimal("factor")?,
            },
        };
        Ok(Unit {
            id: record.id()?,
            name: record.text("name")?.unwrap_or_default(),
            rounding: record.decimal("rounding")?,
            active: record.boolean("active")?,
            definition,
        })
    }
}

/// Which sales orders a user can read, from its Sales groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesScope {
    /// "Sales / User: All Documents" or more: every order.
    AllDocuments,
    /// "Sales / User: Own Documents Only": a sync would silently miss other users' orders.
    OwnDocumentsOnly,
    /// No Sales group.
    NoAccess,
}

/// The group giving read access to every sales order.
pub const GROUP_SALES_ALL: &str = "sales_team.group_sale_salesman_all_leads";

/// The group giving read access to the user's own sales orders only.
pub const GROUP_SALES_OWN: &str = "sales_team.group_sale_salesman";

/// The connecting user's own `res.users` record.
#[derive(Debug, Clone, PartialEq)]
pub struct OdooUser {
    /// The uid.
    pub id: i64,
    /// The login (usually an e-mail address: never log it).
    pub login: String,
    /// Ids of the user's groups.
    pub group_ids: Vec<i64>,
}

impl OdooUser {
    /// Decodes a `res.users` record read with `login` and the version's groups field.
    pub fn from_record(record: &Record, version: &OdooVersion) -> Result<OdooUser, OdooError> {
        Ok(OdooUser {
            id: record.id()?,
            login: record.text("login")?.unwrap_or_default(),
            group_ids: record.ids(version.user_groups_field())?,
        })
    }
}
