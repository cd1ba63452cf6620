//! Property tests: the domain printer and parser agree, the decoders never panic, and the
//! XML-RPC writer and reader agree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use odoo_client::codec::{jsonrpc, xmlrpc, RpcOutcome};
use odoo_client::{Condition, Domain, DomainValue, Operator, Term, Value};
use proptest::prelude::*;

fn domain_value() -> impl Strategy<Value = DomainValue> {
    let leaf = prop_oneof![
        Just(DomainValue::Null),
        any::<bool>().prop_map(DomainValue::Bool),
        any::<i64>().prop_map(DomainValue::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(DomainValue::Float),
        any::<String>().prop_map(DomainValue::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(DomainValue::List)
    })
}

fn condition() -> impl Strategy<Value = Vec<Term>> {
    let field = "[a-z_][a-z0-9_]{0,10}(\\.[a-z_][a-z0-9_]{0,6})?";
    let operator = prop::sample::select(Operator::ALL.to_vec());
    (field, operator, domain_value()).prop_map(|(field, operator, value)| {
        vec![Term::Condition(Condition {
            field,
            operator,
            value,
        })]
    })
}

/// One complete prefix expression.
fn expression() -> impl Strategy<Value = Vec<Term>> {
    condition().prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| [vec![Term::Not], e].concat()),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| [vec![Term::And], a, b].concat()),
            (inner.clone(), inner).prop_map(|(a, b)| [vec![Term::Or], a, b].concat()),
        ]
    })
}

fn domain() -> impl Strategy<Value = Domain> {
    prop::collection::vec(expression(), 0..4)
        .prop_map(|parts| Domain::from_terms(parts.concat()).unwrap_or_default())
}

fn wire_value() -> impl Strategy<Value = Value> {
    let text = "[^\\u{0}-\\u{8}\\u{b}\\u{c}\\u{e}-\\u{1f}\\u{fffe}\\u{ffff}]{0,12}";
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text, inner, 0..4).prop_map(Value::Struct),
        ]
    })
}

const XML_LIKE: &str = "(<[a-zA-Z0-9.]{0,12}>|</[a-zA-Z0-9.]{0,12}>|[a-z0-9 &;<>/]){0,40}";

proptest! {
    #[test]
    fn a_printed_python_domain_parses_back_to_itself(domain in domain()) {
        prop_assert_eq!(Domain::parse(&domain.to_python()).unwrap(), domain);
    }

    #[test]
    fn a_printed_json_domain_parses_back_to_itself(domain in domain()) {
        prop_assert_eq!(Domain::parse(&domain.to_json()).unwrap(), domain);
    }

    #[test]
    fn arbitrary_filter_text_never_panics(text in any::<String>()) {
        let _ = Domain::parse(&text);
    }

    #[test]
    fn filter_like_text_never_panics(text in "[\\[\\]\\(\\), '\"|&!0-9a-zTFN.eE+\\-\\\\u]{0,80}") {
        if let Err(error) = Domain::parse(&text) {
            prop_assert!(error.position >= 1 && error.position <= text.chars().count() + 1);
        }
    }

    #[test]
    fn an_xml_rpc_answer_reads_back_as_the_value_written(value in wire_value()) {
        let decoded = xmlrpc::decode_response(&xmlrpc::encode_response(&value)).unwrap();

        prop_assert_eq!(decoded, RpcOutcome::Result(value));
    }

    #[test]
    fn arbitrary_xml_never_panics(text in any::<String>()) {
        let _ = xmlrpc::decode_response(&text);
    }

    #[test]
    fn xml_like_text_never_panics(text in XML_LIKE) {
        let wrapped = format!("<methodResponse>{text}</methodResponse>");
        let _ = xmlrpc::decode_response(&wrapped);
    }

    #[test]
    fn arbitrary_json_rpc_bodies_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = jsonrpc::decode_response(&bytes);
    }
}
