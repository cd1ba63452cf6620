//! Decoding and classification of every recorded answer of a real Odoo 18.0 and 19.0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use odoo_client::answer::{interpret, interpret_json};
use odoo_client::models::{
    line_fields, order_fields, unit_fields, OrderLine, OrderStatus, Product, SalesOrder, Unit,
    UnitDefinition, PRODUCT_FIELDS,
};
use odoo_client::protocol::WireProtocol;
use odoo_client::record::{Many2One, Record};
use odoo_client::version::OdooVersion;
use odoo_client::{ErrorKind, OdooError, Value};
use rust_decimal::Decimal;
use support::Case;

fn outcome(case: &Case) -> Result<Value, OdooError> {
    match case.protocol.as_str() {
        "XML-RPC" => interpret(WireProtocol::XmlRpc, &case.answer),
        "JSON-RPC" | "JSON-RPC (web route)" => interpret(WireProtocol::JsonRpc, &case.answer),
        "JSON-2" => interpret(WireProtocol::Json2, &case.answer),
        _ => interpret_json(&case.answer),
    }
}

/// The kind each recorded failure must be classified as; every other case must succeed.
fn expected_failure(version: &str, number: u32) -> Option<ErrorKind> {
    use ErrorKind::*;
    match (version, number) {
        ("odoo-18.0", 11 | 12 | 19 | 20) => Some(DatabaseNotFound),
        ("odoo-18.0", 15..=18) => Some(AuthenticationFailed),
        ("odoo-18.0", 21 | 22 | 71..=80 | 83..=86 | 98) => Some(ServerError),
        ("odoo-18.0", 65 | 66 | 69 | 70 | 87 | 88) => Some(PermissionDenied),
        ("odoo-18.0", 93..=97) => Some(UnexpectedResponse),
        ("odoo-19.0", 26..=28 | 63 | 64) => Some(AuthenticationFailed),
        ("odoo-19.0", 25 | 30 | 40) => Some(PermissionDenied),
        ("odoo-19.0", 31..=39 | 41..=46 | 61 | 62) => Some(ServerError),
        ("odoo-19.0", 47) => Some(UnexpectedResponse),
        ("odoo-19.0", 48 | 49) => Some(DatabaseNotFound),
        _ => None,
    }
}

fn number(case: &Case) -> u32 {
    case.name[..2].parse().unwrap()
}

fn check_every_case(version: &str) {
    let cases = support::cases(version);
    assert!(cases.len() > 60, "transcripts of {version} not found");

    for case in &cases {
        let expected = expected_failure(version, number(case));
        match (outcome(case), expected) {
            (Ok(_), None) => {}
            (Err(error), Some(kind)) => assert_eq!(error.kind(), kind, "{}: {error}", case.name),
            (got, want) => panic!("{}: got {got:?}, expected {want:?}", case.name),
        }
    }
}

#[test]
fn every_recorded_odoo_18_answer_is_decoded_or_classified_as_expected() {
    check_every_case("odoo-18.0");
}

#[test]
fn every_recorded_odoo_19_answer_is_decoded_or_classified_as_expected() {
    check_every_case("odoo-19.0");
}

#[test]
fn xml_rpc_and_json_rpc_answers_of_the_same_call_decode_to_the_same_value() {
    let cases = support::cases("odoo-18.0");
    let mut compared = 0;
    for pair in cases.windows(2) {
        let (xml, json) = (&pair[0], &pair[1]);
        let same_call = xml.name.replacen("xmlrpc", "jsonrpc", 1)[3..] == json.name[3..];
        // 98/99: a method returning None faults over XML-RPC and has no result over JSON-RPC.
        if xml.protocol != "XML-RPC" || !same_call || xml.name.starts_with("98-") {
            continue;
        }
        match (outcome(xml), outcome(json)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", xml.name),
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{}", xml.name),
            (a, b) => panic!("{}: {a:?} vs {b:?}", xml.name),
        }
        compared += 1;
    }
    assert!(compared >= 40, "only {compared} pairs compared");
}

fn v18() -> OdooVersion {
    OdooVersion {
        major: 18,
        minor: 0,
        text: "18.0".into(),
    }
}

fn v19() -> OdooVersion {
    OdooVersion {
        major: 19,
        minor: 0,
        text: "19.0".into(),
    }
}

fn records(version: &str, prefix: &str) -> Vec<Record> {
    Record::list(outcome(&support::case(version, prefix)).unwrap()).unwrap()
}

#[test]
fn a_recorded_xml_rpc_page_of_orders_decodes_into_typed_orders() {
    let orders: Vec<SalesOrder> = records("odoo-18.0", "23-")
        .iter()
        .map(|r| SalesOrder::from_record(r, &v18()).unwrap())
        .collect();

    let first = &orders[0];
    assert_eq!(
        orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        [4, 6, 7, 8, 9]
    );
    assert_eq!(
        first.partner,
        Some(Many2One {
            id: 11,
            name: "Gemini Furniture".into()
        })
    );
    assert_eq!(first.amount_total, Decimal::new(2240, 0));
    assert_eq!(first.line_ids, [8, 9, 10, 11]);
    assert_eq!(first.commitment_date, None);
    assert_eq!(first.client_order_ref, None);
    assert_eq!(first.status, OrderStatus::Confirmed);
    assert_eq!(
        first.write_date.unwrap().to_rfc3339(),
        "2026-12-03T16:22:09+00:00"
    );
}

#[test]
fn locked_orders_of_18_are_confirmed_sales_with_locked_set() {
    let orders = records("odoo-18.0", "47-");
    let statuses: Vec<OrderStatus> = orders
        .iter()
        .map(|r| SalesOrder::from_record(r, &v18()).unwrap().status)
        .collect();

    assert!(statuses.contains(&OrderStatus::Locked));
}

#[test]
fn section_and_note_lines_have_no_product_and_no_unit() {
    let lines: Vec<OrderLine> = records("odoo-18.0", "45-")
        .iter()
        .map(|r| OrderLine::from_record(r, &v18()).unwrap())
        .collect();

    let section = lines
        .iter()
        .find(|l| l.display_type.as_deref() == Some("line_section"))
        .unwrap();
    assert_eq!(
        (section.product.as_ref(), section.unit.as_ref()),
        (None, None)
    );
    assert!(lines
        .iter()
        .any(|l| l.display_type.is_none() && l.unit.is_some()));
}

#[test]
fn lines_of_19_read_their_unit_from_product_uom_id() {
    let lines: Vec<OrderLine> = records("odoo-19.0", "10-")
        .iter()
        .map(|r| OrderLine::from_record(r, &v19()).unwrap())
        .collect();

    assert!(lines.iter().any(|l| l.unit.is_some()));
    assert!(lines
        .iter()
        .any(|l| l.display_type.as_deref() == Some("line_subsection")));
    assert!(line_fields(&v19()).contains(&"product_uom_id"));
    assert!(line_fields(&v18()).contains(&"product_uom"));
}

#[test]
fn json2_prices_keep_their_decimal_spelling() {
    let case = support::case("odoo-19.0", "16-");
    let text = String::from_utf8(case.answer.body.clone()).unwrap();
    assert!(text.contains("42.3522"));

    let record = Record::from_value(Value::Struct(
        [("price_unit".to_owned(), Value::Float(42.3522))].into(),
    ))
    .unwrap();
    assert_eq!(record.decimal("price_unit").unwrap().to_string(), "42.3522");
}

#[test]
fn products_decode_with_absent_reference_and_barcode() {
    let products: Vec<Product> = records("odoo-19.0", "13-")
        .iter()
        .map(|r| Product::from_record(r).unwrap())
        .collect();

    assert_eq!(products[0].default_code, None);
    assert_eq!(
        products[0].unit,
        Some(Many2One {
            id: 4,
            name: "Hours".into()
        })
    );
    assert_eq!(products[2].barcode.as_deref(), Some("40164785534112"));
    assert_eq!(PRODUCT_FIELDS.len(), 5);
}

#[test]
fn units_of_19_are_relative_to_another_unit() {
    let units: Vec<Unit> = records("odoo-19.0", "14-")
        .iter()
        .map(|r| Unit::from_record(r, &v19()).unwrap())
        .collect();

    let days = units.iter().find(|u| u.name == "Days").unwrap();
    let UnitDefinition::Relative {
        relative_factor,
        relative_to,
        ..
    } = &days.definition
    else {
        panic!("19 units are relative");
    };
    assert_eq!(*relative_factor, Decimal::new(8, 0));
    assert_eq!(relative_to.as_ref().map(|u| u.id), Some(4));
    assert!(unit_fields(&v19()).contains(&"relative_uom_id"));
}

#[test]
fn units_of_18_have_a_category_and_a_factor() {
    let path = support::shared_odoo().join("datasets/odoo-18.0-uoms.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let units: Vec<Unit> = Record::list(Value::from(json))
        .unwrap()
        .iter()
        .map(|r| Unit::from_record(r, &v18()).unwrap())
        .collect();

    let dozens = units.iter().find(|u| u.name == "Dozens").unwrap();
    let UnitDefinition::InCategory {
        category,
        factor,
        uom_type,
    } = &dozens.definition
    else {
        panic!("18 units have categories");
    };
    assert_eq!(category.as_ref().map(|c| c.name.as_str()), Some("Unit"));
    assert_eq!(uom_type.as_deref(), Some("bigger"));
    assert_eq!(factor.to_string(), "0.08333333333333333");
}

#[test]
fn the_version_answers_of_both_servers_are_read() {
    let legacy = outcome(&support::case("odoo-18.0", "01-")).unwrap();
    let web = outcome(&support::case("odoo-19.0", "01-")).unwrap();
    let info = web.as_struct().unwrap().get("version_info").unwrap();

    assert_eq!(OdooVersion::from_common_version(&legacy).unwrap().major, 18);
    assert_eq!(
        OdooVersion::from_info(info, None).unwrap(),
        OdooVersion {
            major: 19,
            minor: 0,
            text: "19.0".into()
        }
    );
}

#[test]
fn a_method_returning_none_over_json_rpc_is_nil() {
    assert_eq!(
        outcome(&support::case("odoo-18.0", "99-")).unwrap(),
        Value::Nil
    );
}

#[test]
fn a_missing_database_fault_names_the_psycopg2_exception() {
    let error = outcome(&support::case("odoo-18.0", "11-")).unwrap_err();

    assert_eq!(error.exception(), Some("psycopg2.OperationalError"));
    assert_eq!(error.code(), "ODOO_DATABASE_NOT_FOUND");
}

#[test]
fn the_login_redirect_of_an_18_json2_probe_is_not_an_api_answer() {
    let error = outcome(&support::case("odoo-18.0", "96-")).unwrap_err();

    assert_eq!(error.kind(), ErrorKind::UnexpectedResponse);
    assert!(error.detail().contains("login page"));
}

#[test]
fn the_order_fields_of_16_have_no_locked_field() {
    let v16 = OdooVersion {
        major: 16,
        minor: 0,
        text: "16.0".into(),
    };

    assert!(!order_fields(&v16).contains(&"locked"));
    assert!(order_fields(&v18()).contains(&"locked"));
}

fn dataset_orders(file: &str) -> Vec<serde_json::Value> {
    let path = support::shared_odoo().join("datasets").join(file);
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn decode_dataset(file: &str, version: &OdooVersion) -> (usize, usize, Vec<OrderStatus>) {
    let mut lines = 0;
    let mut statuses = Vec::new();
    let orders = dataset_orders(file);
    for mut order in orders.clone() {
        let order_lines = order["lines"].take();
        let record = Record::from_value(Value::from(order)).unwrap();
        statuses.push(SalesOrder::from_record(&record, version).unwrap().status);
        for line in Record::list(Value::from(order_lines)).unwrap() {
            OrderLine::from_record(&line, version).unwrap();
            lines += 1;
        }
    }
    (orders.len(), lines, statuses)
}

#[test]
fn every_order_and_line_of_the_18_data_set_decodes() {
    let (orders, lines, statuses) = decode_dataset("odoo-18.0-demo-orders.jsonl", &v18());

    assert_eq!((orders, lines), (3020, 14862));
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == OrderStatus::Locked)
            .count(),
        308
    );
}

#[test]
fn every_order_and_line_of_the_19_data_set_decodes() {
    let (orders, lines, statuses) = decode_dataset("odoo-19.0-orders.jsonl", &v19());

    assert_eq!((orders, lines), (1020, 3953));
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == OrderStatus::Locked)
            .count(),
        116
    );
}
