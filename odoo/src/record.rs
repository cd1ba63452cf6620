//! Typed reading of records as `read`/`search_read` return them.
//!
//! Odoo sends `false` for "no value" in every field type except booleans. The getters here
//! turn that `false` into `None` according to the type asked for, so a boolean stays a
//! boolean and a literal string `"false"` stays a string.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use crate::error::{ErrorKind, OdooError};
use crate::value::Value;

/// Odoo's datetime format on the wire: UTC, no zone, no fraction.
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A many2one value `[id, "display name"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Many2One {
    /// The related record's id.
    pub id: i64,
    /// Its display name at the time of reading.
    pub name: String,
}

/// One record: field name to raw value, with typed getters.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    fields: BTreeMap<String, Value>,
}

impl Record {
    /// Wraps an object value.
    pub fn from_value(value: Value) -> Result<Record, OdooError> {
        match value {
            Value::Struct(fields) => Ok(Record { fields }),
            _ => Err(malformed("a record is not an object")),
        }
    }

    /// Decodes a list of records.
    pub fn list(value: Value) -> Result<Vec<Record>, OdooError> {
        match value {
            Value::Array(items) => items.into_iter().map(Record::from_value).collect(),
            _ => Err(malformed("expected a list of records")),
        }
    }

    /// The raw value of a field, if present.
    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    /// The record id.
    pub fn id(&self) -> Result<i64, OdooError> {
        self.integer("id")
    }

    /// An integer field (`false` is refused: integers are 0 when unset).
    pub fn integer(&self, field: &str) -> Result<i64, OdooError> {
        self.get(field)?
            .as_i64()
            .ok_or_else(|| wrong_type(field, "an integer"))
    }

    /// A boolean field.
    pub fn boolean(&self, field: &str) -> Result<bool, OdooError> {
        self.get(field)?
            .as_bool()
            .ok_or_else(|| wrong_type(field, "a boolean"))
    }

    /// A char, text or selection field; `false` is `None`, any string (even `"false"`) is kept.
    pub fn text(&self, field: &str) -> Result<Option<String>, OdooError> {
        match self.get(field)? {
            Value::String(text) => Ok(Some(text.clone())),
            value if value.is_empty_marker() => Ok(None),
            _ => Err(wrong_type(field, "a string or false")),
        }
    }

    /// A float or monetary field as a decimal, read from its shortest decimal spelling.
    pub fn decimal(&self, field: &str) -> Result<Decimal, OdooError> {
        match self.get(field)? {
            Value::Float(number) => {
                float_to_decimal(*number).ok_or_else(|| wrong_type(field, "a number"))
            }
            Value::Int(number) => Ok(Decimal::from(*number)),
            _ => Err(wrong_type(field, "a number")),
        }
    }

    /// A datetime field (UTC); `false` is `None`.
    pub fn datetime(&self, field: &str) -> Result<Option<DateTime<Utc>>, OdooError> {
        let Some(text) = self.text(field)? else {
            return Ok(None);
        };
        parse_datetime(&text)
            .map(Some)
            .ok_or_else(|| wrong_type(field, "a datetime"))
    }

    /// A date field; `false` is `None`.
    pub fn date(&self, field: &str) -> Result<Option<NaiveDate>, OdooError> {
        let Some(text) = self.text(field)? else {
            return Ok(None);
        };
        let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d");
        date.map(Some).map_err(|_| wrong_type(field, "a date"))
    }

    /// A many2one field; `false` is `None`.
    pub fn many2one(&self, field: &str) -> Result<Option<Many2One>, OdooError> {
        match self.get(field)? {
            Value::Array(pair) => many2one_of(pair)
                .map(Some)
                .ok_or_else(|| wrong_type(field, "[id, name]")),
            value if value.is_empty_marker() => Ok(None),
            _ => Err(wrong_type(field, "[id, name] or false")),
        }
    }

    /// A one2many or many2many field: the list of ids.
    pub fn ids(&self, field: &str) -> Result<Vec<i64>, OdooError> {
        let items = self
            .get(field)?
            .as_array()
            .ok_or_else(|| wrong_type(field, "a list of ids"))?;
        items
            .iter()
            .map(|item| {
                item.as_i64()
                    .ok_or_else(|| wrong_type(field, "a list of ids"))
            })
            .collect()
    }

    fn get(&self, field: &str) -> Result<&Value, OdooError> {
        self.fields
            .get(field)
            .ok_or_else(|| malformed(&format!("field '{field}' missing from the answer")))
    }
}

/// Parses Odoo's `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, DATETIME_FORMAT)
        .ok()
        .map(|naive| naive.and_utc())
}

/// Formats a UTC time the way Odoo expects it in a domain.
pub fn format_datetime(time: DateTime<Utc>) -> String {
    time.format(DATETIME_FORMAT).to_string()
}

/// The decimal Odoo meant: the shortest spelling that reads back as the same float
/// (`42.3522`, not `42.352199999999996`).
pub fn float_to_decimal(number: f64) -> Option<Decimal> {
    if !number.is_finite() {
        return None;
    }
    Decimal::from_str(&number.to_string()).ok()
}

fn many2one_of(pair: &[Value]) -> Option<Many2One> {
    match pair {
        [Value::Int(id), Value::String(name)] => Some(Many2One {
            id: *id,
            name: name.clone(),
        }),
        [Value::Int(id), Value::Bool(false)] => Some(Many2One {
            id: *id,
            name: String::new(),
        }),
        _ => None,
    }
}

fn wrong_type(field: &str, expected: &str) -> OdooError {
    malformed(&format!("field '{field}' is not {expected}"))
}

fn malformed(detail: &str) -> OdooError {
    OdooError::new(ErrorKind::UnexpectedResponse, detail.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn record(json: &str) -> Record {
        let value = Value::from(serde_json::from_str::<serde_json::Value>(json).unwrap());
        Record::from_value(value).unwrap()
    }

    #[test]
    fn false_is_absent_for_text_relations_and_datetimes_but_stays_false_for_booleans() {
        let r = record(r#"{"ref": false, "partner_id": false, "date": false, "locked": false}"#);

        assert_eq!(r.text("ref").unwrap(), None);
        assert_eq!(r.many2one("partner_id").unwrap(), None);
        assert_eq!(r.datetime("date").unwrap(), None);
        assert!(!r.boolean("locked").unwrap());
    }

    #[test]
    fn the_string_false_stays_a_string() {
        let r = record(r#"{"ref": "false"}"#);

        assert_eq!(r.text("ref").unwrap().as_deref(), Some("false"));
    }

    #[test]
    fn datetimes_are_utc_and_many2one_is_id_and_name() {
        let r = record(r#"{"write_date": "2026-12-03 16:22:09", "partner_id": [11, "Gemini"]}"#);

        assert_eq!(
            r.datetime("write_date").unwrap().unwrap().to_rfc3339(),
            "2026-12-03T16:22:09+00:00"
        );
        assert_eq!(
            r.many2one("partner_id").unwrap().unwrap(),
            Many2One {
                id: 11,
                name: "Gemini".into()
            }
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_unexpected_response() {
        let r = record(r#"{"locked": "yes", "order_line": [1, "x"], "date": "03/12/2026"}"#);

        for error in [
            r.boolean("locked").unwrap_err(),
            r.ids("order_line").unwrap_err(),
            r.datetime("date").unwrap_err(),
        ] {
            assert_eq!(error.kind(), ErrorKind::UnexpectedResponse);
        }
        assert_eq!(
            r.text("missing").unwrap_err().kind(),
            ErrorKind::UnexpectedResponse
        );
    }

    #[test]
    fn money_keeps_the_decimal_spelling_of_the_float() {
        assert_eq!(float_to_decimal(42.3522).unwrap().to_string(), "42.3522");
        assert_eq!(
            float_to_decimal(0.1 + 0.2).unwrap().to_string(),
            "0.30000000000000004"
        );
        assert_eq!(float_to_decimal(f64::NAN), None);
    }
}
