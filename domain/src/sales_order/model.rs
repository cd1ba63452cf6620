//! A sales order as imported from its source, normalised so that equal content has equal
//! fingerprints.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An order's status, with one meaning on every Odoo version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Draft or sent; imported only when the user's filter asks for quotations.
    Quotation,
    /// Confirmed and still open.
    Confirmed,
    /// Confirmed and locked (done).
    Done,
    /// Cancelled in the source.
    Cancelled,
}

/// What a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineKind {
    /// A product sold.
    Product,
    /// A section heading (Odoo's sections and subsections).
    Section,
    /// A free-text note.
    Note,
}

/// A record of the source named by its id there, with its display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    /// The id in the source.
    pub id: i64,
    /// Its display name at import.
    pub name: String,
}

/// The product on a line, as the source describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProductRef {
    /// The product's id in the source.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its internal reference (Odoo's `default_code`).
    pub internal_reference: Option<String>,
    /// Its barcode.
    pub barcode: Option<String>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImportedLine {
    /// The line's id in the source.
    pub source_line_id: i64,
    /// Product, section or note.
    pub kind: LineKind,
    /// The product, on product lines.
    pub product: Option<ProductRef>,
    /// The line's description.
    pub description: String,
    /// Quantity in the line's unit, rounded to that unit's precision.
    pub quantity: Decimal,
    /// The line's unit of measure.
    pub unit: Option<SourceRef>,
    /// The product's own unit of measure.
    pub product_unit: Option<SourceRef>,
    /// Product units per line unit, as the source defines it at import; `None` when the
    /// units cannot be converted.
    pub unit_factor: Option<Decimal>,
    /// Price per line unit.
    pub unit_price: Decimal,
    /// Discount in percent.
    pub discount: Decimal,
    /// Line total without taxes.
    pub subtotal: Decimal,
}

/// One order with its lines, as imported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImportedOrder {
    /// The order's id in the source.
    pub source_order_id: i64,
    /// The order number, e.g. `S00042`.
    pub number: String,
    /// When it was ordered (Odoo overwrites this on confirmation).
    pub order_date: Option<DateTime<Utc>>,
    /// The customer.
    pub customer: Option<SourceRef>,
    /// The customer's own reference.
    pub customer_reference: Option<String>,
    /// The status, one meaning on every version.
    pub status: OrderStatus,
    /// The source's raw state, e.g. `sale`.
    pub source_state: String,
    /// Whether the source marks it locked.
    pub locked: bool,
    /// The delivery date promised to the customer.
    pub commitment_date: Option<DateTime<Utc>>,
    /// The delivery date the source expects.
    pub expected_date: Option<DateTime<Utc>>,
    /// The currency code.
    pub currency: Option<String>,
    /// Total without taxes, where the source sends it.
    pub amount_untaxed: Option<Decimal>,
    /// Total with taxes.
    pub amount_total: Decimal,
    /// The selling company.
    pub company: Option<SourceRef>,
    /// The lines, in the source's order.
    pub lines: Vec<ImportedLine>,
}

/// A digest of an order's content: equal content, equal fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The digest as hexadecimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A fingerprint read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }
}

impl ImportedOrder {
    /// The fingerprint of this order's content. Decimals count by value (`3.0` equals `3`).
    /// A quotation's expected date is left out: Odoo computes it from the time it is read.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut content = self.clone();
        content.normalise_decimals();
        if content.status == OrderStatus::Quotation {
            content.expected_date = None;
        }
        let mut hasher = Sha256::new();
        // Writing into a digest cannot fail; a value that cannot be written hashes as empty.
        if serde_json::to_writer(&mut hasher, &content).is_err() {
            hasher = Sha256::new();
        }
        Fingerprint(hex(&hasher.finalize()))
    }

    fn normalise_decimals(&mut self) {
        self.amount_total = self.amount_total.normalize();
        self.amount_untaxed = self.amount_untaxed.map(|a| a.normalize());
        for line in &mut self.lines {
            line.quantity = line.quantity.normalize();
            line.unit_factor = line.unit_factor.map(|f| f.normalize());
            line.unit_price = line.unit_price.normalize();
            line.discount = line.discount.normalize();
            line.subtotal = line.subtotal.normalize();
        }
    }
}

/// Bytes as lowercase hexadecimal text.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// Rounds a quantity to a unit's rounding step (Odoo's `rounding`, e.g. `0.01`), which removes
/// floating-point noise such as `3.0000000000000004`. Without a known step, six decimals.
pub fn round_quantity(quantity: Decimal, rounding: Option<Decimal>) -> Decimal {
    let places = rounding
        .filter(|step| *step > Decimal::ZERO)
        .map(|step| step.normalize().scale())
        .unwrap_or(6);
    quantity.round_dp(places).normalize()
}
