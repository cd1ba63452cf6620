//! Odoo domains: the typed filter a user writes, parsed from JSON or from the Python-literal
//! form copied out of Odoo, printed back, sent natively and checked against `fields_get`.
//!
//! A domain is Odoo's prefix notation: a list of conditions `(field, operator, value)` and
//! the logical operators `'&'` (and), `'|'` (or) and `'!'` (not); conditions that follow
//! each other without an operator are joined by "and".

mod check;
mod literal;
mod print;

use crate::error::{ErrorKind, OdooError};
use crate::value::Value;
use literal::{Literal, LiteralKind};

pub use check::check_fields;

/// A parsed, structurally valid Odoo domain. The empty domain matches every record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Domain {
    terms: Vec<Term>,
}

/// One item of a domain in prefix notation.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// `'&'`: both of the next two terms.
    And,
    /// `'|'`: either of the next two terms.
    Or,
    /// `'!'`: not the next term.
    Not,
    /// A condition `(field, operator, value)`.
    Condition(Condition),
}

/// A condition on one field (or a dotted path through relations).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The field name or dotted path, e.g. `state` or `partner_id.country_id`.
    pub field: String,
    /// The comparison.
    pub operator: Operator,
    /// The value compared with.
    pub value: DomainValue,
}

/// A value inside a condition. Lists and tuples are both [`DomainValue::List`].
#[derive(Debug, Clone, PartialEq)]
pub enum DomainValue {
    /// `None` / `null`.
    Null,
    /// `True`/`False`; `False` is also Odoo's "not set".
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A finite floating-point number.
    Float(f64),
    /// A string.
    String(String),
    /// A list or tuple (values of `in`, or a sub-domain of `any`).
    List(Vec<DomainValue>),
}

macro_rules! operators {
    ($($variant:ident => $text:literal),+ $(,)?) => {
        /// A comparison operator Odoo understands in a condition.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operator { $(#[doc = $text] $variant),+ }

        impl Operator {
            /// Every operator.
            pub const ALL: &'static [Operator] = &[$(Operator::$variant),+];

            /// The operator as Odoo spells it.
            pub fn as_str(self) -> &'static str {
                match self { $(Operator::$variant => $text),+ }
            }

            /// Parses Odoo's spelling (case-insensitive, as Odoo itself lowercases it).
            pub fn parse(text: &str) -> Option<Operator> {
                match text.to_ascii_lowercase().as_str() {
                    $($text => Some(Operator::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

operators! {
    Eq => "=", NotEq => "!=", Gt => ">", Ge => ">=", Lt => "<", Le => "<=",
    EqOrUnset => "=?", EqLike => "=like", EqIlike => "=ilike", Like => "like",
    NotLike => "not like", Ilike => "ilike", NotIlike => "not ilike", In => "in",
    NotIn => "not in", ChildOf => "child_of", ParentOf => "parent_of", Any => "any",
    NotAny => "not any",
}

/// Why a filter text is not a valid domain, with the 1-based character position of the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct DomainError {
    /// 1-based position of the offending character (counted in characters, not bytes).
    pub position: usize,
    /// What is wrong there.
    pub message: String,
}

impl DomainError {
    fn at_byte(input: &str, byte: usize, message: &str) -> DomainError {
        let before = input.get(..byte).unwrap_or(input);
        DomainError {
            position: before.chars().count() + 1,
            message: message.to_owned(),
        }
    }
}

impl From<DomainError> for OdooError {
    fn from(error: DomainError) -> Self {
        OdooError::new(ErrorKind::InvalidFilter, error.to_string())
    }
}

impl Domain {
    /// Parses a filter in the JSON form `[["state","in",["sale"]]]` or the Python form
    /// `[('state', '=', 'sale'), '|', ...]`. Blank text is the empty domain.
    pub fn parse(input: &str) -> Result<Domain, DomainError> {
        if input.trim().is_empty() {
            return Ok(Domain::default());
        }
        let literal = literal::parse(input)?;
        let terms = terms_of(input, literal)?;

        check_arity(input, &terms)?;
        Ok(Domain {
            terms: terms.into_iter().map(|(_, term)| term).collect(),
        })
    }

    /// Builds a domain from terms, checking that every operator has its operands.
    pub fn from_terms(terms: Vec<Term>) -> Result<Domain, DomainError> {
        let positioned: Vec<(usize, Term)> = terms.into_iter().map(|t| (0, t)).collect();
        check_arity("", &positioned)?;
        Ok(Domain {
            terms: positioned.into_iter().map(|(_, term)| term).collect(),
        })
    }

    /// The conditions joined by "and".
    pub fn all(conditions: Vec<Condition>) -> Domain {
        Domain {
            terms: conditions.into_iter().map(Term::Condition).collect(),
        }
    }

    /// The terms in prefix order.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Whether the domain has no term (matches everything).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The conditions, in order.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.terms.iter().filter_map(|term| match term {
            Term::Condition(condition) => Some(condition),
            _ => None,
        })
    }

    /// This domain and `other`, both required.
    pub fn and(&self, other: &Domain) -> Domain {
        match (self.is_empty(), other.is_empty()) {
            (true, _) => other.clone(),
            (_, true) => self.clone(),
            _ => {
                let mut terms = vec![Term::And];
                terms.extend(self.grouped());
                terms.extend(other.grouped());
                Domain { terms }
            }
        }
    }

    /// The terms as one prefix expression (implicit "and"s made explicit).
    fn grouped(&self) -> Vec<Term> {
        let roots = top_level_count(&self.terms);
        let mut terms = vec![Term::And; roots.saturating_sub(1)];
        terms.extend(self.terms.iter().cloned());
        terms
    }

    /// The wire value sent in every protocol: a list of operator strings and
    /// `[field, operator, value]` lists.
    pub fn to_value(&self) -> Value {
        Value::Array(self.terms.iter().map(term_value).collect())
    }

    /// Prints the Python-literal form, e.g. `[('state', 'in', ['sale'])]`.
    pub fn to_python(&self) -> String {
        print::python(self)
    }

    /// Prints the JSON form, e.g. `[["state","in",["sale"]]]`.
    pub fn to_json(&self) -> String {
        serde_json::Value::from(&self.to_value()).to_string()
    }
}

fn term_value(term: &Term) -> Value {
    match term {
        Term::And => Value::from("&"),
        Term::Or => Value::from("|"),
        Term::Not => Value::from("!"),
        Term::Condition(c) => Value::Array(vec![
            Value::from(c.field.as_str()),
            Value::from(c.operator.as_str()),
            c.value.to_value(),
        ]),
    }
}

impl DomainValue {
    /// The wire value of this domain value.
    pub fn to_value(&self) -> Value {
        match self {
            DomainValue::Null => Value::Nil,
            DomainValue::Bool(flag) => Value::Bool(*flag),
            DomainValue::Int(number) => Value::Int(*number),
            DomainValue::Float(number) => Value::Float(*number),
            DomainValue::String(text) => Value::String(text.clone()),
            DomainValue::List(items) => Value::Array(items.iter().map(Self::to_value).collect()),
        }
    }
}

impl From<&str> for DomainValue {
    fn from(text: &str) -> Self {
        DomainValue::String(text.to_owned())
    }
}

impl Condition {
    /// A condition `(field, operator, value)`.
    pub fn new(field: &str, operator: Operator, value: impl Into<DomainValue>) -> Condition {
        Condition {
            field: field.to_owned(),
            operator,
            value: value.into(),
        }
    }
}

impl From<i64> for DomainValue {
    fn from(number: i64) -> Self {
        DomainValue::Int(number)
    }
}

impl From<bool> for DomainValue {
    fn from(flag: bool) -> Self {
        DomainValue::Bool(flag)
    }
}

impl From<Vec<DomainValue>> for DomainValue {
    fn from(items: Vec<DomainValue>) -> Self {
        DomainValue::List(items)
    }
}

fn terms_of(input: &str, literal: Literal) -> Result<Vec<(usize, Term)>, DomainError> {
    let LiteralKind::List(items) = literal.kind else {
        return Err(DomainError::at_byte(
            input,
            literal.at,
            "a filter must be a list",
        ));
    };
    items
        .into_iter()
        .map(|item| Ok((item.at, term_of(input, item)?)))
        .collect()
}

fn term_of(input: &str, item: Literal) -> Result<Term, DomainError> {
    match item.kind {
        LiteralKind::Str(op) => match op.as_str() {
            "&" => Ok(Term::And),
            "|" => Ok(Term::Or),
            "!" => Ok(Term::Not),
            _ => Err(DomainError::at_byte(
                input,
                item.at,
                "expected a condition or one of '&', '|', '!'",
            )),
        },
        LiteralKind::List(parts) => condition_of(input, item.at, parts).map(Term::Condition),
        _ => Err(DomainError::at_byte(
            input,
            item.at,
            "expected a condition (field, operator, value) or one of '&', '|', '!'",
        )),
    }
}

fn condition_of(input: &str, at: usize, parts: Vec<Literal>) -> Result<Condition, DomainError> {
    let Ok([field, operator, value]) = <[Literal; 3]>::try_from(parts) else {
        return Err(DomainError::at_byte(
            input,
            at,
            "a condition needs three parts: field, operator, value",
        ));
    };
    Ok(Condition {
        field: field_of(input, field)?,
        operator: operator_of(input, operator)?,
        value: DomainValue::from_literal(value.kind),
    })
}

fn field_of(input: &str, literal: Literal) -> Result<String, DomainError> {
    match literal.kind {
        LiteralKind::Str(name) if is_field_path(&name) => Ok(name),
        _ => Err(DomainError::at_byte(
            input,
            literal.at,
            "expected a field name",
        )),
    }
}

/// Whether `name` looks like a field name or a dotted path of field names.
pub(crate) fn is_field_path(name: &str) -> bool {
    name.split('.').all(|part| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

fn operator_of(input: &str, literal: Literal) -> Result<Operator, DomainError> {
    match &literal.kind {
        LiteralKind::Str(text) => Operator::parse(text)
            .ok_or_else(|| DomainError::at_byte(input, literal.at, "unknown operator")),
        _ => Err(DomainError::at_byte(
            input,
            literal.at,
            "expected an operator string",
        )),
    }
}

impl DomainValue {
    fn from_literal(kind: LiteralKind) -> DomainValue {
        match kind {
            LiteralKind::Null => DomainValue::Null,
            LiteralKind::Bool(flag) => DomainValue::Bool(flag),
            LiteralKind::Int(number) => DomainValue::Int(number),
            LiteralKind::Float(number) => DomainValue::Float(number),
            LiteralKind::Str(text) => DomainValue::String(text),
            LiteralKind::List(items) => DomainValue::List(
                items
                    .into_iter()
                    .map(|l| Self::from_literal(l.kind))
                    .collect(),
            ),
        }
    }
}

/// Checks, right to left, that each operator is followed by enough complete expressions.
fn check_arity(input: &str, terms: &[(usize, Term)]) -> Result<(), DomainError> {
    let mut available = 0usize;
    for (at, term) in terms.iter().rev() {
        let needed = match term {
            Term::Condition(_) => 0,
            Term::Not => 1,
            Term::And | Term::Or => 2,
        };
        if available < needed {
            let message = format!("'{}' needs {needed} condition(s) after it", symbol(term));
            return Err(DomainError::at_byte(input, *at, &message));
        }
        available = available - needed + 1;
    }
    Ok(())
}

/// How many complete expressions the top level holds (they are implicitly and-ed).
fn top_level_count(terms: &[Term]) -> usize {
    terms
        .iter()
        .rev()
        .fold(0usize, |available, term| match term {
            Term::Condition(_) => available + 1,
            Term::Not => available,
            Term::And | Term::Or => available.saturating_sub(1),
        })
}

fn symbol(term: &Term) -> &'static str {
    match term {
        Term::And => "&",
        Term::Or => "|",
        Term::Not => "!",
        Term::Condition(_) => "condition",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
