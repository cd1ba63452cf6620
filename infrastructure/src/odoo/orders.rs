//! Odoo's sales orders in PrepStation's terms: statuses with one meaning on every version,
//! lines as products, sections or notes, quantities rounded to their unit's precision, and the
//! factor between a line's unit and its product's unit as Odoo defines it at import.

use std::collections::HashMap;

use domain::sales_order::{
    round_quantity, ImportedLine, ImportedOrder, LineKind, OrderStatus, ProductRef, SourceRef,
};
use odoo_client::models::{
    OrderLine, OrderStatus as OdooStatus, Product, SalesOrder, Unit, UnitDefinition,
};
use odoo_client::record::Many2One;
use rust_decimal::Decimal;

/// The products and units the lines of a batch refer to.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Products by id.
    pub products: HashMap<i64, Product>,
    /// Units of measure by id.
    pub units: HashMap<i64, Unit>,
}

/// An order with its lines, in PrepStation's terms.
pub fn imported_order(
    order: &SalesOrder,
    lines: &[&OrderLine],
    catalog: &Catalog,
) -> ImportedOrder {
    ImportedOrder {
        source_order_id: order.id,
        number: order.name.clone(),
        order_date: order.date_order,
        customer: order.partner.as_ref().map(source_ref),
        customer_reference: order.client_order_ref.clone(),
        status: status(order.status),
        source_state: order.state.clone(),
        locked: order.locked,
        commitment_date: order.commitment_date,
        expected_date: order.expected_date,
        currency: order.currency.as_ref().map(|c| c.name.clone()),
        amount_untaxed: order.amount_untaxed,
        amount_total: order.amount_total,
        company: order.company.as_ref().map(source_ref),
        lines: lines
            .iter()
            .map(|line| imported_line(line, catalog))
            .collect(),
    }
}

fn imported_line(line: &OrderLine, catalog: &Catalog) -> ImportedLine {
    let product = line
        .product
        .as_ref()
        .map(|p| (p, catalog.products.get(&p.id)));
    let product_unit = product.and_then(|(_, known)| known.and_then(|p| p.unit.as_ref()));
    let line_unit = line.unit.as_ref();
    let rounding = line_unit
        .and_then(|u| catalog.units.get(&u.id))
        .map(|u| u.rounding);
    ImportedLine {
        source_line_id: line.id,
        kind: kind(line.display_type.as_deref()),
        product: product.map(|(reference, known)| product_ref(reference, known)),
        description: line.description.clone().unwrap_or_default(),
        quantity: round_quantity(line.quantity, rounding),
        unit: line_unit.map(source_ref),
        product_unit: product_unit.map(source_ref),
        unit_factor: line_unit
            .zip(product_unit)
            .and_then(|(from, to)| unit_factor(from.id, to.id, &catalog.units)),
        unit_price: line.price_unit,
        discount: line.discount,
        subtotal: line.price_subtotal,
    }
}

/// Product units per line unit. Up to 18, units convert within one category by their
/// factors (units per reference unit); from 19, a unit's factor is its size in its tree's
/// root unit, and units convert within one tree. `None` when they do not convert.
pub fn unit_factor(
    line_unit: i64,
    product_unit: i64,
    units: &HashMap<i64, Unit>,
) -> Option<Decimal> {
    if line_unit == product_unit {
        return Some(Decimal::ONE);
    }
    let (from, to) = (units.get(&line_unit)?, units.get(&product_unit)?);
    let factor = match (&from.definition, &to.definition) {
        (
            UnitDefinition::InCategory {
                category: Some(a),
                factor: from_factor,
                ..
            },
            UnitDefinition::InCategory {
                category: Some(b),
                factor: to_factor,
                ..
            },
        ) if a.id == b.id => to_factor.checked_div(*from_factor)?,
        (
            UnitDefinition::Relative {
                factor: from_factor,
                ..
            },
            UnitDefinition::Relative {
                factor: to_factor, ..
            },
        ) if root(from, units) == root(to, units) && root(from, units).is_some() => {
            from_factor.checked_div(*to_factor)?
        }
        _ => return None,
    };
    Some(factor.round_dp(9).normalize())
}

/// The root of a 19-style unit tree, following `relative_uom_id` (at most 16 steps).
fn root(unit: &Unit, units: &HashMap<i64, Unit>) -> Option<i64> {
    let mut current = unit;
    for _ in 0..16 {
        match &current.definition {
            UnitDefinition::Relative {
                relative_to: Some(parent),
                ..
            } if parent.id != current.id => {
                current = units.get(&parent.id)?;
            }
            _ => return Some(current.id),
        }
    }
    None
}

fn status(status: OdooStatus) -> OrderStatus {
    match status {
        OdooStatus::Quotation | OdooStatus::QuotationSent | OdooStatus::Other => {
            OrderStatus::Quotation
        }
        OdooStatus::Confirmed => OrderStatus::Confirmed,
        OdooStatus::Locked => OrderStatus::Done,
        OdooStatus::Cancelled => OrderStatus::Cancelled,
    }
}

fn kind(display_type: Option<&str>) -> LineKind {
    match display_type {
        Some("line_note") => LineKind::Note,
        Some(t) if t.starts_with("line_section") || t.starts_with("line_subsection") => {
            LineKind::Section
        }
        Some("") | None => LineKind::Product,
        Some(_) => LineKind::Note,
    }
}

fn source_ref(record: &Many2One) -> SourceRef {
    SourceRef {
        id: record.id,
        name: record.name.clone(),
    }
}

fn product_ref(reference: &Many2One, known: Option<&Product>) -> ProductRef {
    ProductRef {
        id: reference.id,
        name: known
            .map(|p| p.name.clone())
            .unwrap_or_else(|| reference.name.clone()),
        internal_reference: known.and_then(|p| p.default_code.clone()),
        barcode: known.and_then(|p| p.barcode.clone()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn many2one(id: i64, name: &str) -> Option<Many2One> {
        Some(Many2One {
            id,
            name: name.into(),
        })
    }

    fn in_category(id: i64, category: i64, factor: &str) -> Unit {
        Unit {
            id,
            name: format!("unit {id}"),
            rounding: "0.01".parse().unwrap(),
            active: true,
            definition: UnitDefinition::InCategory {
                category: many2one(category, "c"),
                factor: factor.parse().unwrap(),
                uom_type: None,
            },
        }
    }

    fn relative(id: i64, parent: Option<i64>, factor: &str) -> Unit {
        Unit {
            id,
            name: format!("unit {id}"),
            rounding: "0.01".parse().unwrap(),
            active: true,
            definition: UnitDefinition::Relative {
                relative_factor: factor.parse().unwrap(),
                relative_to: parent.and_then(|p| many2one(p, "parent")),
                factor: factor.parse().unwrap(),
            },
        }
    }

    fn table(units: Vec<Unit>) -> HashMap<i64, Unit> {
        units.into_iter().map(|u| (u.id, u)).collect()
    }

    #[test]
    fn a_dozen_is_twelve_units_on_18() {
        let units = table(vec![
            in_category(1, 1, "1.0"),
            in_category(2, 1, "0.08333333333333333"),
            in_category(12, 2, "1.0"),
        ]);
        assert_eq!(unit_factor(2, 1, &units), Some(Decimal::from(12)));
        assert_eq!(
            unit_factor(1, 2, &units).map(|f| f.round_dp(4)),
            Some("0.0833".parse().unwrap())
        );
        assert_eq!(
            unit_factor(2, 12, &units),
            None,
            "units of different categories do not convert"
        );
    }

    #[test]
    fn a_pack_of_six_is_six_units_on_19() {
        let units = table(vec![
            relative(1, None, "1"),
            relative(30, Some(1), "6"),
            relative(40, None, "1"),
        ]);
        assert_eq!(unit_factor(30, 1, &units), Some(Decimal::from(6)));
        assert_eq!(
            unit_factor(30, 40, &units),
            None,
            "units of different trees do not convert"
        );
        assert_eq!(
            unit_factor(30, 99, &units),
            None,
            "an unknown unit does not convert"
        );
    }

    #[test]
    fn display_types_become_line_kinds() {
        assert_eq!(kind(None), LineKind::Product);
        assert_eq!(kind(Some("line_section")), LineKind::Section);
        assert_eq!(kind(Some("line_subsection")), LineKind::Section);
        assert_eq!(kind(Some("line_note")), LineKind::Note);
    }
}
