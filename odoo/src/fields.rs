//! A model's field descriptions as `fields_get` returns them.

use std::collections::BTreeMap;

use crate::error::{ErrorKind, OdooError};
use crate::value::Value;

/// The attributes asked of `fields_get`: enough to check names, types and searchability.
pub const FIELD_ATTRIBUTES: [&str; 7] = [
    "type",
    "string",
    "relation",
    "store",
    "searchable",
    "sortable",
    "selection",
];

/// One field's description.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldInfo {
    /// Odoo's field type: `char`, `many2one`, `datetime`, `monetary`…
    pub field_type: String,
    /// The label, if asked for.
    pub label: Option<String>,
    /// The related model of a relational field.
    pub relation: Option<String>,
    /// Whether the value is stored in the database, if asked for.
    pub store: Option<bool>,
    /// Whether a domain may use the field, if asked for.
    pub searchable: Option<bool>,
    /// The `(value, label)` pairs of a selection field, if asked for.
    pub selection: Vec<(String, String)>,
}

impl FieldInfo {
    /// Whether a domain may name this field: `searchable` when known, otherwise `store`.
    pub fn is_searchable(&self) -> bool {
        self.searchable.or(self.store).unwrap_or(true)
    }

    /// Whether the field points to other records.
    pub fn is_relational(&self) -> bool {
        matches!(
            self.field_type.as_str(),
            "many2one" | "one2many" | "many2many"
        )
    }
}

/// The fields of one model, by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldCatalog {
    model: String,
    fields: BTreeMap<String, FieldInfo>,
}

impl FieldCatalog {
    /// A catalog from explicit descriptions.
    pub fn new(model: &str, fields: BTreeMap<String, FieldInfo>) -> FieldCatalog {
        FieldCatalog {
            model: model.to_owned(),
            fields,
        }
    }

    /// Decodes a `fields_get` answer: an object of field name to attribute object.
    pub fn from_value(model: &str, value: &Value) -> Result<FieldCatalog, OdooError> {
        let members = value
            .as_struct()
            .ok_or_else(|| malformed("an object of fields"))?;
        let fields = members
            .iter()
            .map(|(name, attrs)| Ok((name.clone(), field_info(attrs)?)))
            .collect::<Result<_, OdooError>>()?;
        Ok(FieldCatalog {
            model: model.to_owned(),
            fields,
        })
    }

    /// The model described.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// One field's description.
    pub fn get(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(name)
    }

    /// Whether the model has the field.
    pub fn contains(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// The field names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// The names among `wanted` that the model does not have.
    pub fn missing<'a>(&self, wanted: &[&'a str]) -> Vec<&'a str> {
        wanted
            .iter()
            .copied()
            .filter(|name| !self.contains(name))
            .collect()
    }
}

fn field_info(attrs: &Value) -> Result<FieldInfo, OdooError> {
    let attrs = attrs
        .as_struct()
        .ok_or_else(|| malformed("field attributes"))?;
    let text = |key: &str| attrs.get(key).and_then(Value::as_str).map(str::to_owned);
    let flag = |key: &str| attrs.get(key).and_then(Value::as_bool);

    Ok(FieldInfo {
        field_type: text("type").unwrap_or_default(),
        label: text("string"),
        relation: text("relation"),
        store: flag("store"),
        searchable: flag("searchable"),
        selection: attrs.get("selection").map(selection).unwrap_or_default(),
    })
}

fn selection(value: &Value) -> Vec<(String, String)> {
    let pairs = value.as_array().unwrap_or_default();
    pairs
        .iter()
        .filter_map(|pair| match pair.as_array()? {
            [key, label] => Some((key.as_str()?.to_owned(), label.as_str()?.to_owned())),
            _ => None,
        })
        .collect()
}

fn malformed(what: &str) -> OdooError {
    OdooError::new(
        ErrorKind::UnexpectedResponse,
        format!("fields_get: expected {what}"),
    )
}
