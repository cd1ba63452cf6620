//! Odoo domains: parsing the prefix notation (`&`, `|`, `!` and `[field, operator, value]`
//! leaves), checking them against a model with the errors each version raises, evaluating them
//! on records, and sorting by an `order` string.
//!
//! Datetimes compare as the version does: 18 and older against the stored microseconds, 19 to
//! the whole second. A non-stored field in a domain is ignored by 18 and refused by 19.
//! `child_of` and `parent_of` compare like `in` (no hierarchies are modelled); `any` is not
//! supported.

use std::cmp::Ordering;

use chrono::{NaiveDateTime, Timelike};
use serde_json::Value;

use crate::config::Profile;
use crate::error::OdooError;
use crate::schema::{Field, Model};
use crate::store::{parse_datetime, Record, Scan};

const OPERATORS: [&str; 19] = [
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "=?",
    "in",
    "not in",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "=like",
    "=ilike",
    "child_of",
    "parent_of",
    "any",
];

/// A parsed, checked domain.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// Matches everything (an empty domain, or a leaf 18 ignores).
    True,
    /// Matches nothing.
    False,
    /// All parts match.
    And(Vec<Domain>),
    /// Any part matches.
    Or(Vec<Domain>),
    /// The part does not match.
    Not(Box<Domain>),
    /// One condition.
    Leaf(Leaf),
}

/// One `[field, operator, value]` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// The field name.
    pub field: String,
    /// The operator, lowercase.
    pub operator: String,
    /// The value as sent.
    pub value: Value,
}

/// How a domain is checked and evaluated.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The model searched.
    pub model: &'a Model,
    /// The server version.
    pub profile: Profile,
}

impl Domain {
    /// Parses and checks a domain sent by a client (`false`/`null` mean "no domain").
    pub fn parse(raw: &Value, ctx: Context) -> Result<Domain, OdooError> {
        let tokens = match raw {
            Value::Array(tokens) => tokens.as_slice(),
            Value::Null | Value::Bool(false) => &[],
            other => {
                return Err(OdooError::ValueError(format!(
                    "Invalid domain {}",
                    python_repr(other)
                )))
            }
        };
        check_arity(raw, tokens, ctx.profile)?;
        let mut position = 0;
        let mut parts = Vec::new();
        while position < tokens.len() {
            parts.push(parse_term(tokens, &mut position, ctx)?);
        }
        Ok(Domain::And(parts))
    }

    /// Whether a leaf of the domain is on this field.
    pub fn mentions(&self, field: &str) -> bool {
        match self {
            Domain::True | Domain::False => false,
            Domain::And(parts) | Domain::Or(parts) => parts.iter().any(|p| p.mentions(field)),
            Domain::Not(part) => part.mentions(field),
            Domain::Leaf(leaf) => first_segment(&leaf.field) == field,
        }
    }

    /// Whether a record matches.
    pub fn matches(&self, record: &Record, ctx: Context) -> bool {
        match self {
            Domain::True => true,
            Domain::False => false,
            Domain::And(parts) => parts.iter().all(|p| p.matches(record, ctx)),
            Domain::Or(parts) => parts.iter().any(|p| p.matches(record, ctx)),
            Domain::Not(part) => !part.matches(record, ctx),
            Domain::Leaf(leaf) => leaf.matches(record, ctx),
        }
    }
}

fn check_arity(raw: &Value, tokens: &[Value], profile: Profile) -> Result<(), OdooError> {
    let mut expected: i64 = 1;
    for token in tokens {
        if expected == 0 {
            expected = 1;
        }
        expected += match token.as_str() {
            Some("&") | Some("|") => 1,
            Some("!") => 0,
            _ => -1,
        };
    }
    if expected == 0 || tokens.is_empty() {
        return Ok(());
    }
    let message = if profile.version >= 19 {
        format!("Domain() malformed domain {}", python_repr(raw))
    } else {
        format!("Domain {} is syntactically not correct.", python_repr(raw))
    };
    Err(OdooError::ValueError(message))
}

fn parse_term(tokens: &[Value], position: &mut usize, ctx: Context) -> Result<Domain, OdooError> {
    let token = tokens
        .get(*position)
        .ok_or_else(|| OdooError::ValueError("Domain ended early".into()))?;
    *position += 1;
    match token.as_str() {
        Some("&") => Ok(Domain::And(vec![
            parse_term(tokens, position, ctx)?,
            parse_term(tokens, position, ctx)?,
        ])),
        Some("|") => Ok(Domain::Or(vec![
            parse_term(tokens, position, ctx)?,
            parse_term(tokens, position, ctx)?,
        ])),
        Some("!") => Ok(Domain::Not(Box::new(parse_term(tokens, position, ctx)?))),
        _ => parse_leaf(token, ctx),
    }
}

fn parse_leaf(token: &Value, ctx: Context) -> Result<Domain, OdooError> {
    let items = token
        .as_array()
        .filter(|items| items.len() == 3)
        .ok_or_else(|| bad_item(token, ctx.profile))?;
    let operator = items[1].as_str().map(str::to_lowercase).unwrap_or_default();
    if let Some(constant) = constant_leaf(items) {
        return Ok(constant);
    }
    if !OPERATORS.contains(&operator.as_str()) {
        return Err(bad_operator(items, ctx.profile));
    }
    let field_name = items[0].as_str().unwrap_or_default().to_owned();
    let Some(field) = ctx.model.fields.get(first_segment(&field_name)) else {
        return Err(unknown_field(items, ctx));
    };
    if operator == "any" {
        return Err(OdooError::ValueError(
            "the sandbox does not support the operator 'any'".into(),
        ));
    }
    if !field.stored() && field_name != "display_name" {
        return not_stored(&field_name, ctx);
    }
    check_path(&field_name, field)?;
    Ok(Domain::Leaf(Leaf {
        field: field_name,
        operator,
        value: items[2].clone(),
    }))
}

/// A dotted path is followed only to the id or the name of a related record.
fn check_path(path: &str, field: &Field) -> Result<(), OdooError> {
    let Some((_, rest)) = path.split_once('.') else {
        return Ok(());
    };
    let relational = matches!(field.kind(), "many2one" | "one2many" | "many2many");
    if relational && matches!(rest, "id" | "name" | "display_name") {
        return Ok(());
    }
    Err(OdooError::ValueError(format!(
        "the sandbox cannot search through {path}"
    )))
}

fn first_segment(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

fn constant_leaf(items: &[Value]) -> Option<Domain> {
    let left = items[0].as_i64()?;
    match (left, items[1].as_str(), items[2].as_i64()) {
        (1, Some("="), Some(1)) => Some(Domain::True),
        (0, Some("="), Some(1)) => Some(Domain::False),
        _ => None,
    }
}

fn bad_item(token: &Value, profile: Profile) -> OdooError {
    if profile.version >= 19 {
        return OdooError::ValueError(format!(
            "Domain() invalid item in domain: {}",
            python_repr(token)
        ));
    }
    match token.as_array().map(Vec::len) {
        Some(n) if n < 3 => {
            OdooError::ValueError(format!("not enough values to unpack (expected 3, got {n})"))
        }
        Some(_) => OdooError::ValueError("too many values to unpack (expected 3)".into()),
        None => OdooError::ValueError(format!("Invalid leaf {}", python_repr(token))),
    }
}

fn bad_operator(items: &[Value], profile: Profile) -> OdooError {
    if profile.version >= 19 {
        OdooError::ValueError(format!(
            "Invalid operator in condition {}",
            python_tuple(items)
        ))
    } else {
        OdooError::ValueError(format!("Invalid leaf {}", python_tuple(items)))
    }
}

fn unknown_field(items: &[Value], ctx: Context) -> OdooError {
    let name = items[0]
        .as_str()
        .map_or_else(|| python_repr(&items[0]), str::to_owned);
    let word = if ctx.profile.version >= 19 {
        "condition"
    } else {
        "leaf"
    };
    OdooError::ValueError(format!(
        "Invalid field {}.{} in {} {}",
        ctx.model.name,
        name,
        word,
        python_tuple(items)
    ))
}

fn not_stored(field: &str, ctx: Context) -> Result<Domain, OdooError> {
    if ctx.profile.non_stored_search_fails() {
        let message = format!(
            "Cannot convert {}.{} to SQL because it is not stored",
            ctx.model.name, field
        );
        return Err(OdooError::ValueError(message));
    }
    Ok(Domain::True)
}

/// A value as Python's `repr` prints it (`['|', ['state', '=', 'sale']]`).
pub fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.as_i64().map_or_else(
            || crate::xmlrpc::python_float(n.as_f64().unwrap_or_default()),
            |i| i.to_string(),
        ),
        Value::String(s) => python_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", python_str(k), python_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// A leaf as the Python tuple Odoo prints in its messages (`('state', '~~', 'sale')`).
pub fn python_tuple(items: &[Value]) -> String {
    format!(
        "({})",
        items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
    )
}

fn python_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Operand {
    Null,
    Bool(bool),
    Num(f64),
    Time(NaiveDateTime),
    Str(String),
    Ids(Vec<i64>),
}

impl Leaf {
    fn matches(&self, record: &Record, ctx: Context) -> bool {
        let Some(field) = ctx.model.fields.get(first_segment(&self.field)) else {
            return false;
        };
        let (left, kind) = match self.by_name(field) {
            true => (
                name_operand(record, ctx, first_segment(&self.field)),
                "char",
            ),
            false => (
                record_operand(record, ctx, first_segment(&self.field), field),
                field.kind(),
            ),
        };
        match self.operator.as_str() {
            "=" | "child_of" | "parent_of" => equals(&left, &self.value, kind, ctx),
            "!=" | "<>" => !equals(&left, &self.value, kind, ctx),
            "=?" => is_empty_value(&self.value) || equals(&left, &self.value, kind, ctx),
            "in" => one_of(&left, &self.value, kind, ctx),
            "not in" => !one_of(&left, &self.value, kind, ctx),
            "<" | "<=" | ">" | ">=" => ordered(&left, &self.operator, &self.value, kind, ctx),
            op => like(&left, op, &self.value),
        }
    }
}

impl Leaf {
    /// Whether a relational field is compared by its related record's name: through a
    /// `.name` path, or with text values (`('partner_id', 'ilike', 'Deco')`).
    fn by_name(&self, field: &Field) -> bool {
        if field.kind() != "many2one" {
            return false;
        }
        let texts = match &self.value {
            Value::String(_) => true,
            Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_string),
            _ => false,
        };
        let path = self.field.split_once('.').map(|(_, rest)| rest);
        matches!(path, Some("name") | Some("display_name")) || (path.is_none() && texts)
    }
}

fn name_operand(record: &Record, ctx: Context, name: &str) -> Operand {
    let value = record.read_value(ctx.model, name);
    match value.get(1).and_then(Value::as_str) {
        Some(text) => Operand::Str(text.to_owned()),
        None => Operand::Null,
    }
}

fn record_operand(record: &Record, ctx: Context, name: &str, field: &Field) -> Operand {
    match name {
        "write_date" => return time_operand(record.write_date, ctx),
        "create_date" => return time_operand(record.create_date, ctx),
        _ => {}
    }
    let value = record.read_value(ctx.model, name);
    match field.kind() {
        "many2one" => match value.as_array().and_then(|v| v.first()?.as_i64()) {
            Some(id) => Operand::Ids(vec![id]),
            None => Operand::Null,
        },
        "one2many" | "many2many" => Operand::Ids(
            value
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default(),
        ),
        kind => scalar_operand(&value, kind, ctx),
    }
}

fn time_operand(stamp: NaiveDateTime, ctx: Context) -> Operand {
    if ctx.profile.whole_second_datetimes() {
        Operand::Time(stamp.with_nanosecond(0).unwrap_or(stamp))
    } else {
        Operand::Time(stamp)
    }
}

fn scalar_operand(value: &Value, kind: &str, ctx: Context) -> Operand {
    match (value, kind) {
        (Value::Bool(b), "boolean") => Operand::Bool(*b),
        (Value::Bool(false) | Value::Null, _) => Operand::Null,
        (Value::Bool(b), _) => Operand::Bool(*b),
        (Value::Number(n), _) => Operand::Num(n.as_f64().unwrap_or_default()),
        (Value::String(s), "datetime") => {
            parse_datetime(s).map_or(Operand::Str(s.clone()), |t| time_operand(t, ctx))
        }
        (Value::String(s), _) => Operand::Str(s.clone()),
        _ => Operand::Null,
    }
}

fn is_empty_value(value: &Value) -> bool {
    matches!(value, Value::Null | Value::Bool(false))
}

fn value_operand(value: &Value, kind: &str, ctx: Context) -> Operand {
    match kind {
        "many2one" | "one2many" | "many2many" if value.is_i64() => {
            Operand::Ids(value.as_i64().into_iter().collect())
        }
        "boolean" => Operand::Bool(value.as_bool().unwrap_or(value.as_i64().unwrap_or(0) != 0)),
        _ => scalar_operand(value, kind, ctx),
    }
}

fn equals(left: &Operand, value: &Value, kind: &str, ctx: Context) -> bool {
    if is_empty_value(value) && kind != "boolean" {
        return matches!(left, Operand::Null)
            || matches!(left, Operand::Ids(ids) if ids.is_empty());
    }
    let right = value_operand(value, kind, ctx);
    match (left, &right) {
        (Operand::Ids(ids), Operand::Ids(want)) => want.iter().any(|w| ids.contains(w)),
        (Operand::Ids(_), Operand::Str(_)) => false,
        (Operand::Null, _) => false,
        (left, right) => compare(left, right) == Some(Ordering::Equal),
    }
}

fn one_of(left: &Operand, value: &Value, kind: &str, ctx: Context) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| equals(left, item, kind, ctx)),
        single => equals(left, single, kind, ctx),
    }
}

fn ordered(left: &Operand, operator: &str, value: &Value, kind: &str, ctx: Context) -> bool {
    let right = value_operand(value, kind, ctx);
    let Some(order) = compare(left, &right) else {
        return false;
    };
    match operator {
        "<" => order == Ordering::Less,
        "<=" => order != Ordering::Greater,
        ">" => order == Ordering::Greater,
        _ => order != Ordering::Less,
    }
}

fn compare(left: &Operand, right: &Operand) -> Option<Ordering> {
    match (left, right) {
        (Operand::Num(a), Operand::Num(b)) => a.partial_cmp(b),
        (Operand::Time(a), Operand::Time(b)) => Some(a.cmp(b)),
        (Operand::Str(a), Operand::Str(b)) => Some(a.cmp(b)),
        (Operand::Bool(a), Operand::Bool(b)) => Some(a.cmp(b)),
        (Operand::Ids(a), Operand::Ids(b)) => Some(a.cmp(b)),
        (Operand::Time(a), Operand::Str(b)) => {
            Some(a.format(crate::store::DATETIME_FORMAT).to_string().cmp(b))
        }
        _ => None,
    }
}

fn like(left: &Operand, operator: &str, value: &Value) -> bool {
    let negated = operator.starts_with("not ");
    let text = match left {
        Operand::Str(s) => s.clone(),
        Operand::Num(n) => n.to_string(),
        _ => return negated,
    };
    let pattern = value
        .as_str()
        .map_or_else(|| python_repr(value), str::to_owned);
    let insensitive = operator.contains("ilike");
    let found = if operator.starts_with('=') {
        sql_like(&text, &pattern, insensitive)
    } else {
        sql_like(&text, &format!("%{pattern}%"), insensitive)
    };
    found != negated
}

/// SQL `LIKE`: `%` is any run of characters, `_` one character.
fn sql_like(text: &str, pattern: &str, insensitive: bool) -> bool {
    let fold = |s: &str| {
        if insensitive {
            s.to_lowercase()
        } else {
            s.to_owned()
        }
    };
    let text: Vec<char> = fold(text).chars().collect();
    let pattern: Vec<char> = fold(pattern).chars().collect();
    like_from(&text, &pattern)
}

fn like_from(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|skip| like_from(&text[skip..], rest)),
        Some(('_', rest)) => !text.is_empty() && like_from(&text[1..], rest),
        Some((c, rest)) => text.first() == Some(c) && like_from(&text[1..], rest),
    }
}

/// One `field [asc|desc]` part of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTerm {
    /// The field sorted on.
    pub field: String,
    /// Descending instead of ascending.
    pub descending: bool,
}

/// Parses an `order` string such as `"write_date asc, id asc"`.
pub fn parse_order(
    text: &str,
    model: &Model,
    profile: Profile,
) -> Result<Vec<OrderTerm>, OdooError> {
    let mut terms = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let field = words
            .next()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        let direction = words.next().map(str::to_lowercase);
        if !model.fields.contains_key(&field)
            || !matches!(direction.as_deref(), None | Some("asc") | Some("desc"))
        {
            let on = if profile.version >= 19 { "" } else { "model " };
            return Err(OdooError::ValueError(
                format!("Invalid field {field:?} on {on}{:?}", model.name).replace('"', "'"),
            ));
        }
        terms.push(OrderTerm {
            field,
            descending: direction.as_deref() == Some("desc"),
        });
    }
    Ok(terms)
}

/// The index walk that visits a table's rows already in the order `terms` sort them and skips
/// rows a top-level `write_date` or `id` bound of the domain excludes; `None` when the order
/// follows no index. The walk may visit rows the domain refuses (it is a superset, checked by
/// [`Domain::matches`]), never leaves out one it accepts: `write_date` bounds are widened to
/// whole seconds, which holds for both ways versions compare datetimes.
pub fn index_scan(domain: &Domain, terms: &[OrderTerm]) -> Option<Scan> {
    let mut leaves = Vec::new();
    domain.conjunction(&mut leaves);
    let directions: Vec<(&str, bool)> = terms
        .iter()
        .map(|t| (t.field.as_str(), t.descending))
        .collect();
    match directions.as_slice() {
        [] | [("id", false)] => Some(id_scan(&leaves, false)),
        [("id", true)] => Some(id_scan(&leaves, true)),
        [("write_date", false)] | [("write_date", false), ("id", false)] => {
            Some(write_date_scan(&leaves, false))
        }
        [("write_date", true), ("id", true)] => Some(write_date_scan(&leaves, true)),
        _ => None,
    }
}

/// The rows to check when they are sorted afterwards: those within the domain's top-level
/// `write_date` range when it is bounded on both sides (one second of a sync's paging), else
/// those within its top-level `id` bounds.
pub fn candidate_scan(domain: &Domain) -> Scan {
    let mut leaves = Vec::new();
    domain.conjunction(&mut leaves);
    let dates = write_date_scan(&leaves, false);
    if is_bounded(&dates) {
        dates
    } else {
        id_scan(&leaves, false)
    }
}

/// Whether a scan walks a `write_date` range closed on both sides.
pub fn is_bounded(scan: &Scan) -> bool {
    matches!(scan, Scan::WriteDate { from, until, .. }
        if *from != NaiveDateTime::MIN && *until != NaiveDateTime::MAX)
}

impl Domain {
    /// The leaves every matching record must satisfy (those under `And` only).
    fn conjunction<'a>(&'a self, leaves: &mut Vec<&'a Leaf>) {
        match self {
            Domain::And(parts) => parts.iter().for_each(|p| p.conjunction(leaves)),
            Domain::Leaf(leaf) => leaves.push(leaf),
            _ => {}
        }
    }
}

fn id_scan(leaves: &[&Leaf], descending: bool) -> Scan {
    let (mut from, mut until) = (i64::MIN, i64::MAX);
    let mut listed: Option<Vec<i64>> = None;
    for leaf in leaves.iter().filter(|l| l.field == "id") {
        if let Some(ids) = listed_ids(leaf) {
            listed = Some(match listed {
                Some(before) => before.into_iter().filter(|id| ids.contains(id)).collect(),
                None => ids,
            });
            continue;
        }
        let Some(value) = leaf.value.as_i64() else {
            continue;
        };
        let (low, high) = match leaf.operator.as_str() {
            "=" => (value, value.saturating_add(1)),
            ">" => (value.saturating_add(1), i64::MAX),
            ">=" => (value, i64::MAX),
            "<" => (i64::MIN, value),
            "<=" => (i64::MIN, value.saturating_add(1)),
            _ => (i64::MIN, i64::MAX),
        };
        (from, until) = (from.max(low), until.min(high));
    }
    match listed {
        Some(ids) => Scan::Ids {
            ids: ids
                .into_iter()
                .filter(|id| (from..until).contains(id))
                .collect(),
            descending,
        },
        None => Scan::Id {
            from,
            until: until.max(from),
            descending,
        },
    }
}

/// The ids an `id in [...]` leaf confines a search to, ascending and without repeats; `None`
/// for any other leaf, or a list holding anything but ids, which the full walk then checks.
fn listed_ids(leaf: &Leaf) -> Option<Vec<i64>> {
    if leaf.operator != "in" {
        return None;
    }
    let ids: Option<std::collections::BTreeSet<i64>> =
        leaf.value.as_array()?.iter().map(Value::as_i64).collect();
    Some(ids?.into_iter().collect())
}

fn write_date_scan(leaves: &[&Leaf], descending: bool) -> Scan {
    let (mut from, mut until) = (NaiveDateTime::MIN, NaiveDateTime::MAX);
    for leaf in leaves.iter().filter(|l| l.field == "write_date") {
        let Some(second) = leaf
            .value
            .as_str()
            .and_then(parse_datetime)
            .map(whole_second)
        else {
            continue;
        };
        let next = second
            .checked_add_signed(chrono::Duration::seconds(1))
            .unwrap_or(NaiveDateTime::MAX);
        let (low, high) = match leaf.operator.as_str() {
            "=" => (second, next),
            ">" | ">=" => (second, NaiveDateTime::MAX),
            "<" | "<=" => (NaiveDateTime::MIN, next),
            _ => (NaiveDateTime::MIN, NaiveDateTime::MAX),
        };
        (from, until) = (from.max(low), until.min(high));
    }
    Scan::WriteDate {
        from,
        until: until.max(from),
        descending,
    }
}

fn whole_second(stamp: NaiveDateTime) -> NaiveDateTime {
    stamp.with_nanosecond(0).unwrap_or(stamp)
}

/// Sorts records by an order; nulls sort last ascending and first descending, as in PostgreSQL.
pub fn sort(records: &mut [&Record], terms: &[OrderTerm], ctx: Context) {
    records.sort_by(|a, b| {
        for term in terms {
            let order = order_key(a, &term.field, ctx).sort_cmp(&order_key(b, &term.field, ctx));
            let order = if term.descending {
                order.reverse()
            } else {
                order
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        a.id.cmp(&b.id)
    });
}

fn order_key(record: &Record, field: &str, ctx: Context) -> Operand {
    match field {
        "id" => return Operand::Num(record.id as f64),
        "write_date" => return Operand::Time(record.write_date),
        "create_date" => return Operand::Time(record.create_date),
        _ => {}
    }
    let value = record.read_value(ctx.model, field);
    match value.as_array().and_then(|v| v.get(1)?.as_str()) {
        Some(name) => Operand::Str(name.to_owned()),
        None => scalar_operand(
            &value,
            ctx.model.fields.get(field).map_or("char", Field::kind),
            ctx,
        ),
    }
}

impl Operand {
    fn sort_cmp(&self, other: &Operand) -> Ordering {
        match (self, other) {
            (Operand::Null, Operand::Null) => Ordering::Equal,
            (Operand::Null, _) => Ordering::Greater,
            (_, Operand::Null) => Ordering::Less,
            (a, b) => compare(a, b).unwrap_or(Ordering::Equal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use chrono::NaiveDate;
    use serde_json::json;

    fn schema(version: u8) -> Schema {
        Schema::for_profile(Profile { version })
    }

    fn order(state: &str, write: NaiveDateTime) -> Record {
        let values =
            json!({"state": state, "name": "S00001", "partner_id": [11, "Gemini Furniture"]});
        Record::new(1, values.as_object().unwrap().clone(), write)
    }

    fn at(h: u32, m: u32, s: u32, micro: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .and_hms_micro_opt(h, m, s, micro)
            .unwrap()
    }

    fn check(version: u8, domain: Value, record: &Record) -> Result<bool, OdooError> {
        let schema = schema(version);
        let ctx = Context {
            model: schema.model("sale.order").unwrap(),
            profile: Profile { version },
        };
        Ok(Domain::parse(&domain, ctx)?.matches(record, ctx))
    }

    #[test]
    fn a_missing_operand_is_syntactically_not_correct_on_18() {
        let error = check(
            18,
            json!(["|", ["state", "=", "sale"]]),
            &order("sale", at(1, 0, 0, 0)),
        )
        .unwrap_err();

        assert_eq!(
            error,
            OdooError::ValueError(
                "Domain ['|', ['state', '=', 'sale']] is syntactically not correct.".into()
            )
        );
    }

    #[test]
    fn a_two_element_leaf_is_an_invalid_item_on_19() {
        let error = check(19, json!([["state", "="]]), &order("sale", at(1, 0, 0, 0))).unwrap_err();

        assert_eq!(
            error,
            OdooError::ValueError("Domain() invalid item in domain: ['state', '=']".into())
        );
    }

    #[test]
    fn an_unknown_field_names_the_leaf_as_a_tuple() {
        let error = check(
            18,
            json!([["no_such_field", "=", 1]]),
            &order("sale", at(1, 0, 0, 0)),
        )
        .unwrap_err();

        assert_eq!(
            error,
            OdooError::ValueError(
                "Invalid field sale.order.no_such_field in leaf ('no_such_field', '=', 1)".into()
            )
        );
    }

    #[test]
    fn a_non_stored_field_is_ignored_on_18_and_refused_on_19() {
        let record = order("sale", at(1, 0, 0, 0));
        let domain = json!([["expected_date", ">", "2030-01-01 00:00:00"]]);

        assert_eq!(check(18, domain.clone(), &record), Ok(true));
        assert!(check(19, domain, &record).is_err());
    }

    #[test]
    fn equal_to_a_printed_second_matches_nothing_on_18_and_the_whole_second_on_19() {
        let record = order("sale", at(16, 28, 56, 120_000));
        let domain = json!([["write_date", "=", "2026-12-03 16:28:56"]]);

        assert_eq!(check(18, domain.clone(), &record), Ok(false));
        assert_eq!(check(19, domain, &record), Ok(true));
    }

    #[test]
    fn greater_than_a_printed_second_keeps_its_rows_on_18_only() {
        let record = order("sale", at(16, 28, 56, 120_000));
        let domain = json!([["write_date", ">", "2026-12-03 16:28:56"]]);

        assert_eq!(check(18, domain.clone(), &record), Ok(true));
        assert_eq!(check(19, domain, &record), Ok(false));
    }

    #[test]
    fn or_and_not_combine_leaves() {
        let record = order("sale", at(1, 0, 0, 0));
        let domain = json!(["|", ["state", "=", "draft"], "!", ["partner_id", "=", 10]]);

        assert_eq!(check(18, domain, &record), Ok(true));
    }

    #[test]
    fn ilike_is_a_case_insensitive_substring_and_eq_ilike_a_pattern() {
        let record = order("sale", at(1, 0, 0, 0));

        assert_eq!(
            check(18, json!([["name", "ilike", "s0000"]]), &record),
            Ok(true)
        );
        assert_eq!(
            check(18, json!([["name", "=ilike", "s0000_"]]), &record),
            Ok(true)
        );
        assert_eq!(
            check(18, json!([["name", "=like", "s0000_"]]), &record),
            Ok(false)
        );
    }

    #[test]
    fn a_many2one_compares_by_name_with_text_and_by_id_with_numbers() {
        let record = order("sale", at(1, 0, 0, 0));

        assert_eq!(
            check(18, json!([["partner_id", "ilike", "gemini"]]), &record),
            Ok(true)
        );
        assert_eq!(
            check(
                18,
                json!([["partner_id.name", "=", "Gemini Furniture"]]),
                &record
            ),
            Ok(true)
        );
        assert_eq!(
            check(18, json!([["partner_id", "in", [10, 11]]]), &record),
            Ok(true)
        );
        assert_eq!(
            check(18, json!([["partner_id.id", "=", 10]]), &record),
            Ok(false)
        );
        assert!(check(18, json!([["partner_id.country_id", "=", 1]]), &record).is_err());
    }

    #[test]
    fn an_order_sorts_on_several_fields_with_nulls_last() {
        let schema = schema(18);
        let ctx = Context {
            model: schema.model("sale.order").unwrap(),
            profile: Profile { version: 18 },
        };
        let mut a = order("sale", at(1, 0, 0, 0));
        a.id = 1;
        a.values.insert("client_order_ref".into(), json!(false));
        let mut b = order("sale", at(1, 0, 0, 0));
        b.id = 2;
        b.values.insert("client_order_ref".into(), json!("PO-1"));
        let mut records = vec![&a, &b];

        sort(
            &mut records,
            &parse_order("client_order_ref asc, id desc", ctx.model, ctx.profile).unwrap(),
            ctx,
        );

        assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 1]);
        assert!(parse_order("no_such_field", ctx.model, ctx.profile).is_err());
    }

    #[test]
    fn in_with_false_matches_empty_values() {
        let record = order("sale", at(1, 0, 0, 0));

        assert_eq!(
            check(
                18,
                json!([["client_order_ref", "in", [false, "PO-1"]]]),
                &record
            ),
            Ok(true)
        );
        assert_eq!(
            check(18, json!([["client_order_ref", "!=", false]]), &record),
            Ok(false)
        );
    }
}
