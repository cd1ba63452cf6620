use super::*;

fn condition(field: &str, operator: Operator, value: DomainValue) -> Term {
    Term::Condition(Condition {
        field: field.into(),
        operator,
        value,
    })
}

fn sale() -> DomainValue {
    DomainValue::String("sale".into())
}

#[test]
fn the_json_form_parses_into_conditions() {
    let domain = Domain::parse(r#"[["state","in",["sale"]]]"#).unwrap();

    assert_eq!(
        domain.terms(),
        &[condition(
            "state",
            Operator::In,
            DomainValue::List(vec![sale()])
        )]
    );
}

#[test]
fn the_python_form_with_operators_and_constants_parses() {
    let text = concat!(
        "[('state','=','sale'), '|', (\"locked\", '=', False), ",
        "'!', ('client_order_ref', '=', None)]"
    );

    let domain = Domain::parse(text).unwrap();

    assert_eq!(
        domain.terms(),
        &[
            condition("state", Operator::Eq, sale()),
            Term::Or,
            condition("locked", Operator::Eq, DomainValue::Bool(false)),
            Term::Not,
            condition("client_order_ref", Operator::Eq, DomainValue::Null),
        ]
    );
}

#[test]
fn numbers_tuples_and_trailing_commas_are_python_literals() {
    let domain = Domain::parse("[('amount_total', '>=', 100.5), ('id', 'in', (1, -2,)),]").unwrap();

    assert_eq!(
        domain.terms(),
        &[
            condition("amount_total", Operator::Ge, DomainValue::Float(100.5)),
            condition(
                "id",
                Operator::In,
                DomainValue::List(vec![DomainValue::Int(1), DomainValue::Int(-2)])
            ),
        ]
    );
}

#[test]
fn a_blank_filter_is_the_empty_domain() {
    assert!(Domain::parse("  ").unwrap().is_empty());
    assert!(Domain::parse("[]").unwrap().is_empty());
}

#[test]
fn the_string_false_stays_a_string() {
    let domain = Domain::parse("[('name', '=', 'false')]").unwrap();

    assert_eq!(
        domain.conditions().next().unwrap().value,
        DomainValue::String("false".into())
    );
}

#[test]
fn escapes_in_strings_are_decoded() {
    let domain = Domain::parse(r#"[('name', 'ilike', 'it\'s \"x\" \u00e9')]"#).unwrap();

    assert_eq!(
        domain.conditions().next().unwrap().value,
        DomainValue::String("it's \"x\" é".into())
    );
}

#[test]
fn an_operator_missing_an_operand_is_reported_at_the_operator() {
    let error = Domain::parse("[('state','=','sale'), '|', ('locked','=',True)]").unwrap_err();

    assert_eq!(error.position, 24);
    assert!(error.message.contains("'|'"));
}

#[test]
fn a_condition_with_two_parts_is_refused_at_its_position() {
    let error = Domain::parse("[['state', '=']]").unwrap_err();

    assert_eq!(error.position, 2);
}

#[test]
fn an_unknown_operator_is_refused_at_its_position() {
    let error = Domain::parse("[('state', '~~', 'sale')]").unwrap_err();

    assert_eq!(
        (error.position, error.message.as_str()),
        (12, "unknown operator")
    );
}

#[test]
fn an_unterminated_string_is_reported_where_it_starts() {
    let error = Domain::parse("[('state', '=', 'sale)]").unwrap_err();

    assert_eq!(error.position, 17);
}

#[test]
fn positions_count_characters_not_bytes() {
    let error = Domain::parse("[('name', '=', 'é'), 7]").unwrap_err();

    assert_eq!(error.position, 22);
}

#[test]
fn python_expressions_are_not_evaluated() {
    let error = Domain::parse("[('user_id', '=', uid)]").unwrap_err();

    assert_eq!(error.position, 19);
}

#[test]
fn a_filter_that_is_not_a_list_is_refused() {
    assert_eq!(Domain::parse("'state'").unwrap_err().position, 1);
    assert_eq!(
        Domain::parse("('state', '=', 'sale')")
            .unwrap_err()
            .position,
        2
    );
    assert!(Domain::parse("[('state', '=', 'sale')] x").is_err());
}

#[test]
fn a_field_name_with_spaces_is_refused() {
    assert!(Domain::parse("[('sta te', '=', 1)]").is_err());
}

#[test]
fn deep_nesting_is_refused_without_overflowing() {
    let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));

    assert!(Domain::parse(&text).is_err());
}

#[test]
fn the_wire_value_is_a_list_of_operators_and_triples() {
    let domain = Domain::parse("['|', ('state','=','sale'), ('locked','=',True)]").unwrap();

    assert_eq!(
        domain.to_json(),
        r#"["|",["state","=","sale"],["locked","=",true]]"#
    );
}

#[test]
fn the_python_printout_parses_back_to_the_same_domain() {
    let domain = Domain::parse(r#"['!', ("name", "like", "a'b\\c"), ('x', '=', 1e20)]"#).unwrap();

    assert_eq!(Domain::parse(&domain.to_python()).unwrap(), domain);
}

#[test]
fn and_combines_two_domains_into_one_expression() {
    let user = Domain::parse("['|', ('a','=',1), ('b','=',2), ('c','=',3)]").unwrap();
    let cursor = Domain::parse("[('write_date','>=','2026-12-03 16:28:58')]").unwrap();

    let combined = user.and(&cursor);

    assert_eq!(combined.terms().len(), 7);
    assert_eq!(combined.terms()[..2], [Term::And, Term::And]);
    assert!(Domain::from_terms(combined.terms().to_vec()).is_ok());
}
