//! The protocol-neutral value every codec decodes into and encodes from.

use std::collections::BTreeMap;

/// A value as Odoo sends it, before typed decoding.
///
/// XML-RPC, JSON-RPC and JSON-2 all decode into this one shape, so typed decoding
/// ([`crate::record`]) is written once.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` / `<nil/>`, or a JSON-RPC answer without `result`.
    Nil,
    /// A boolean; Odoo also uses `false` for "no value".
    Bool(bool),
    /// An integer (ids, counts); always 64 bits.
    Int(i64),
    /// A floating-point number (quantities, amounts).
    Float(f64),
    /// A string.
    String(String),
    /// A list (`<array>`).
    Array(Vec<Value>),
    /// An object (`<struct>`), keys sorted.
    Struct(BTreeMap<String, Value>),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(number) => Some(*number),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn as_struct(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Struct(members) => Some(members),
            _ => None,
        }
    }

    /// Whether this is Odoo's "empty" marker `false` (or a null).
    pub fn is_empty_marker(&self) -> bool {
        matches!(self, Value::Bool(false) | Value::Nil)
    }

    /// A list of strings.
    pub fn strings<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Value::Array(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    /// A list of integers.
    pub fn ints<I: IntoIterator<Item = i64>>(items: I) -> Value {
        Value::Array(items.into_iter().map(Value::Int).collect())
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::String(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::String(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Int(number)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

/// Converts a decoded JSON value; numbers that fit `i64` become [`Value::Int`].
impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Self {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(flag) => Value::Bool(flag),
            serde_json::Value::Number(number) => number_value(&number),
            serde_json::Value::String(text) => Value::String(text),
            serde_json::Value::Array(items) => {
                Value::Array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(members) => Value::Struct(
                members
                    .into_iter()
                    .map(|(k, v)| (k, Value::from(v)))
                    .collect(),
            ),
        }
    }
}

fn number_value(number: &serde_json::Number) -> Value {
    match (number.as_i64(), number.as_f64()) {
        (Some(int), _) => Value::Int(int),
        (None, Some(float)) => Value::Float(float),
        (None, None) => Value::Nil,
    }
}

/// Converts to JSON for the JSON-RPC and JSON-2 bodies; non-finite floats become `null`.
impl From<&Value> for serde_json::Value {
    fn from(value: &Value) -> Self {
        match value {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(number) => serde_json::Value::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::String(text) => serde_json::Value::String(text.clone()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(serde_json::Value::from).collect())
            }
            Value::Struct(members) => serde_json::Value::Object(
                members.iter().map(|(k, v)| (k.clone(), v.into())).collect(),
            ),
        }
    }
}
