#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::*;

fn at(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(1_780_000_000 + seconds, 0)
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn a_product_line(quantity: &str) -> ImportedLine {
    ImportedLine {
        source_line_id: 71,
        kind: LineKind::Product,
        product: Some(ProductRef {
            id: 9,
            name: "Croissant".into(),
            internal_reference: Some("CR-01".into()),
            barcode: None,
        }),
        description: "Croissant, butter".into(),
        quantity: dec(quantity),
        unit: Some(SourceRef {
            id: 1,
            name: "Units".into(),
        }),
        product_unit: Some(SourceRef {
            id: 1,
            name: "Units".into(),
        }),
        unit_factor: Some(dec("1")),
        unit_price: dec("1.20"),
        discount: dec("0"),
        subtotal: dec("3.60"),
    }
}

fn a_confirmed_order() -> ImportedOrder {
    ImportedOrder {
        source_order_id: 42,
        number: "S00042".into(),
        order_date: at(0),
        customer: Some(SourceRef {
            id: 7,
            name: "Café Nord".into(),
        }),
        customer_reference: None,
        status: OrderStatus::Confirmed,
        source_state: "sale".into(),
        locked: false,
        commitment_date: at(86_400),
        expected_date: at(86_400),
        currency: Some("EUR".into()),
        amount_untaxed: Some(dec("3.60")),
        amount_total: dec("4.28"),
        company: Some(SourceRef {
            id: 1,
            name: "Bakery".into(),
        }),
        lines: vec![a_product_line("3")],
    }
}

fn read(order: ImportedOrder, in_scope: bool) -> Observation {
    Observation::Read {
        order: Box::new(order),
        in_scope,
    }
}

fn held(order: &ImportedOrder, in_scope: bool) -> HeldOrder {
    HeldOrder {
        fingerprint: order.fingerprint(),
        status: order.status,
        in_scope,
        removed: false,
    }
}

#[test]
fn an_order_first_seen_in_scope_is_imported() {
    let change = decide(None, read(a_confirmed_order(), true));
    assert!(matches!(change, Some(OrderChange::Imported(..))));
}

#[test]
fn an_order_first_seen_out_of_scope_is_not_held() {
    assert_eq!(decide(None, read(a_confirmed_order(), false)), None);
    assert_eq!(decide(None, Observation::Gone), None);
}

#[test]
fn re_reading_an_unchanged_order_records_nothing() {
    let order = a_confirmed_order();
    assert_eq!(decide(Some(&held(&order, true)), read(order, true)), None);
}

#[test]
fn float_noise_in_a_quantity_is_no_change() {
    let order = a_confirmed_order();
    let mut noisy = a_confirmed_order();
    noisy.lines[0].quantity = round_quantity(dec("3.0000000000000004"), Some(dec("0.01")));
    assert_eq!(decide(Some(&held(&order, true)), read(noisy, true)), None);
}

#[test]
fn trailing_zeros_do_not_change_a_fingerprint() {
    let mut padded = a_confirmed_order();
    padded.lines[0].quantity = dec("3.000");
    padded.amount_total = dec("4.280");
    assert_eq!(padded.fingerprint(), a_confirmed_order().fingerprint());
}

#[test]
fn a_changed_quantity_is_an_update() {
    let order = a_confirmed_order();
    let mut changed = a_confirmed_order();
    changed.lines[0].quantity = dec("4");
    let change = decide(Some(&held(&order, true)), read(changed, true));
    assert!(matches!(change, Some(OrderChange::Updated(..))));
}

#[test]
fn a_line_only_edit_is_an_update() {
    let order = a_confirmed_order();
    let mut changed = a_confirmed_order();
    changed.lines[0].description = "Croissant, butter, large".into();
    assert!(matches!(
        decide(Some(&held(&order, true)), read(changed, true)),
        Some(OrderChange::Updated(..))
    ));
}

#[test]
fn a_cancellation_is_recorded_as_such_even_when_it_leaves_the_scope() {
    let order = a_confirmed_order();
    let mut cancelled = a_confirmed_order();
    cancelled.status = OrderStatus::Cancelled;
    cancelled.source_state = "cancel".into();
    for in_scope in [true, false] {
        let change = decide(Some(&held(&order, true)), read(cancelled.clone(), in_scope));
        assert!(
            matches!(change, Some(OrderChange::Cancelled(..))),
            "{in_scope}"
        );
    }
    let already = held(&cancelled, true);
    assert_eq!(decide(Some(&already), read(cancelled, false)), None);
}

#[test]
fn an_order_leaving_and_reentering_the_scope_is_marked_not_deleted() {
    let order = a_confirmed_order();
    let mut redated = a_confirmed_order();
    redated.order_date = at(-400 * 86_400);
    let left = decide(Some(&held(&order, true)), read(redated.clone(), false)).unwrap();
    assert!(matches!(left, OrderChange::LeftScope(..)));
    let after = left.held_after(Some(&held(&order, true))).unwrap();
    assert!(!after.in_scope && !after.removed);

    assert_eq!(decide(Some(&after), read(redated.clone(), false)), None);
    assert!(matches!(
        decide(Some(&after), read(redated, true)),
        Some(OrderChange::ReturnedToScope(..))
    ));
}

#[test]
fn only_an_explicit_check_records_a_removal_and_only_once() {
    let order = a_confirmed_order();
    let change = decide(Some(&held(&order, true)), Observation::Gone).unwrap();
    assert_eq!(change, OrderChange::RemovedFromSource);
    let removed = change.held_after(Some(&held(&order, true))).unwrap();
    assert!(removed.removed);
    assert_eq!(decide(Some(&removed), Observation::Gone), None);
}

#[test]
fn a_quotations_expected_date_moving_with_the_clock_is_no_change() {
    let mut quotation = a_confirmed_order();
    quotation.status = OrderStatus::Quotation;
    quotation.source_state = "draft".into();
    let mut later = quotation.clone();
    later.expected_date = at(5 * 86_400);
    assert_eq!(
        decide(Some(&held(&quotation, true)), read(later, true)),
        None
    );

    let mut confirmed_later = a_confirmed_order();
    confirmed_later.expected_date = at(5 * 86_400);
    assert_ne!(
        confirmed_later.fingerprint(),
        a_confirmed_order().fingerprint()
    );
}

#[test]
fn quantities_round_to_their_units_precision() {
    assert_eq!(
        round_quantity(dec("2.999999999"), Some(dec("0.001"))),
        dec("3")
    );
    assert_eq!(round_quantity(dec("1.23456789"), None), dec("1.234568"));
    assert_eq!(round_quantity(dec("12"), Some(dec("1"))), dec("12"));
}

#[test]
fn a_fingerprint_is_the_one_earlier_versions_stored() {
    // Held orders keep their fingerprint: computing it differently would make every held
    // order look changed on the next sync.
    let stored = "e1b6ff6116d7119309a99c4d1c7f355e444ed632f4b5fdc20c85adcbd7c2a299";
    assert_eq!(a_confirmed_order().fingerprint().as_str(), stored);
}
