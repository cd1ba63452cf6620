//! Prints a domain in the Python-literal form users know from Odoo.

use super::{Domain, DomainValue, Term};

/// `[('state', 'in', ['sale']), '|', ...]`; parsing the output gives the same domain back.
pub(super) fn python(domain: &Domain) -> String {
    let terms: Vec<String> = domain.terms().iter().map(term).collect();
    format!("[{}]", terms.join(", "))
}

fn term(term: &Term) -> String {
    match term {
        Term::And => "'&'".to_owned(),
        Term::Or => "'|'".to_owned(),
        Term::Not => "'!'".to_owned(),
        Term::Condition(c) => format!(
            "({}, {}, {})",
            quoted(&c.field),
            quoted(c.operator.as_str()),
            value(&c.value)
        ),
    }
}

fn value(value: &DomainValue) -> String {
    match value {
        DomainValue::Null => "None".to_owned(),
        DomainValue::Bool(true) => "True".to_owned(),
        DomainValue::Bool(false) => "False".to_owned(),
        DomainValue::Int(number) => number.to_string(),
        DomainValue::Float(number) => float(*number),
        DomainValue::String(text) => quoted(text),
        DomainValue::List(items) => {
            let items: Vec<String> = items.iter().map(self::value).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

/// Always with a `.` or an exponent, so it reads back as a float.
fn float(number: f64) -> String {
    let text = format!("{number:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() && (c as u32) < 0x10000 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
