#![allow(clippy::unwrap_used, clippy::expect_used)]

use cqrs_es::test::TestFramework;
use rust_decimal::Decimal;

use super::*;

type Framework = TestFramework<ProductMapping>;

fn item(id: &str) -> ItemId {
    ItemId::parse("itemId", id).unwrap()
}

fn mapped(id: &str, factor: Factor, origin: MappingOrigin) -> ProductMappingEvent {
    ProductMappingEvent::ProductMapped {
        odoo_product_id: 7,
        connection_id: None,
        item_id: item(id),
        factor,
        origin,
    }
}

fn map(id: &str, factor: Factor) -> ProductMappingCommand {
    ProductMappingCommand::Map {
        odoo_product_id: 7,
        connection_id: None,
        item_id: item(id),
        factor,
    }
}

fn auto(id: &str) -> ProductMappingCommand {
    ProductMappingCommand::AutoMap {
        odoo_product_id: 7,
        item_id: item(id),
    }
}

fn unmapped() -> ProductMappingEvent {
    ProductMappingEvent::ProductUnmapped {
        odoo_product_id: 7,
        connection_id: None,
    }
}

fn input(id: &str, sku: Option<&str>) -> ItemInput {
    ItemInput {
        id: id.into(),
        name: format!("Item {id}"),
        sku: sku.map(Into::into),
        unit: "piece".into(),
    }
}

#[tokio::test]
async fn a_manual_mapping_overrides_one_made_by_sku() {
    Framework::with(())
        .given(vec![mapped("croissant", Factor::one(), MappingOrigin::Sku)])
        .when_async(map("bun", Factor::one()))
        .await
        .then_expect_events(vec![mapped("bun", Factor::one(), MappingOrigin::Manual)]);
}

#[tokio::test]
async fn mapping_again_to_the_same_item_and_factor_records_nothing() {
    Framework::with(())
        .given(vec![mapped("bun", Factor::one(), MappingOrigin::Manual)])
        .when_async(map("bun", Factor::one()))
        .await
        .then_expect_events(vec![]);
}

#[tokio::test]
async fn automatic_mapping_leaves_mapped_and_hand_unmapped_products_alone() {
    Framework::with(())
        .given(vec![mapped("bun", Factor::one(), MappingOrigin::Manual)])
        .when_async(auto("croissant"))
        .await
        .then_expect_events(vec![]);
    Framework::with(())
        .given(vec![
            mapped("bun", Factor::one(), MappingOrigin::Sku),
            unmapped(),
        ])
        .when_async(auto("bun"))
        .await
        .then_expect_events(vec![]);
    Framework::with(())
        .given_no_previous_events()
        .when_async(auto("bun"))
        .await
        .then_expect_events(vec![mapped("bun", Factor::one(), MappingOrigin::Sku)]);
}

#[tokio::test]
async fn a_product_unmapped_by_hand_can_be_mapped_by_hand_again() {
    let twelve = Factor::parse("factor", Decimal::from(12)).unwrap();
    Framework::with(())
        .given(vec![
            mapped("bun", Factor::one(), MappingOrigin::Manual),
            unmapped(),
        ])
        .when_async(map("bun", twelve))
        .await
        .then_expect_events(vec![mapped("bun", twelve, MappingOrigin::Manual)]);
}

#[tokio::test]
async fn unmapping_a_product_without_a_mapping_is_refused() {
    Framework::with(())
        .given_no_previous_events()
        .when_async(ProductMappingCommand::Unmap {
            odoo_product_id: 7,
            connection_id: None,
        })
        .await
        .then_expect_error(MappingError::NotMapped);
}

#[test]
fn factors_must_be_positive_bounded_and_not_too_precise() {
    for bad in ["0", "-1", "1000000.5", "0.0000001"] {
        let value: Decimal = bad.parse().unwrap();
        assert_eq!(
            Factor::parse("factor", value).unwrap_err().field,
            "factor",
            "{bad}"
        );
    }
    assert!(Factor::parse("factor", "0.5".parse().unwrap()).is_ok());
}

#[test]
fn an_upsert_names_each_bad_field_with_the_item_position() {
    let mut blank = input("a", Some("A-1"));
    blank.name = "  ".into();
    let mut long_unit = input("b", None);
    long_unit.unit = "u".repeat(33);
    let errors = parse_items(&[blank, long_unit, input("bad id", Some(""))]).unwrap_err();
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        ["items.name", "items.unit", "items.id", "items.sku"]
    );
    assert!(
        errors.errors()[1].message.starts_with("item 2:"),
        "{errors}"
    );
}

#[test]
fn an_upsert_refuses_repeated_ids_and_skus_and_too_many_items() {
    let errors = parse_items(&[
        input("a", Some("S")),
        input("a", Some("T")),
        input("c", Some("S")),
    ])
    .unwrap_err();
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field).collect();
    assert_eq!(fields, ["items.id", "items.sku"]);
    let many: Vec<ItemInput> = (0..=MAX_ITEMS_PER_CALL)
        .map(|i| input(&i.to_string(), None))
        .collect();
    assert_eq!(parse_items(&many).unwrap_err().errors()[0].field, "items");
    assert_eq!(parse_items(&[]).unwrap_err().errors()[0].field, "items");
}

#[test]
fn a_valid_upsert_is_trimmed() {
    let mut padded = input("a", Some(" A-1 "));
    padded.name = "  Croissant ".into();
    let items = parse_items(&[padded]).unwrap();
    assert_eq!(
        (items[0].name.as_str(), items[0].sku.as_deref()),
        ("Croissant", Some("A-1"))
    );
}
