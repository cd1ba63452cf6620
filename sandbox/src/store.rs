//! The in-memory databases: tables of records keyed by id.
//!
//! A record holds its values as `read` returns them (`false` for empty, many2one as
//! `[id, "name"]`), except `write_date` and `create_date`, which are kept with microseconds
//! and printed truncated to the second.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::config::SandboxUser;
use crate::schema::Model;

/// The datetime format of Odoo's RPC values.
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// One row of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record id.
    pub id: i64,
    /// The values by field name, in read format.
    pub values: Map<String, Value>,
    /// The last write, with microseconds.
    pub write_date: NaiveDateTime,
    /// The creation, with microseconds.
    pub create_date: NaiveDateTime,
}

impl Record {
    /// A record whose creation and last write are `stamp`.
    pub fn new(id: i64, values: Map<String, Value>, stamp: NaiveDateTime) -> Record {
        Record {
            id,
            values,
            write_date: stamp,
            create_date: stamp,
        }
    }

    /// The value `read` gives for a field of this record's model.
    pub fn read_value(&self, model: &Model, field: &str) -> Value {
        match field {
            "id" => Value::from(self.id),
            "write_date" => Value::from(format_datetime(self.write_date)),
            "create_date" => Value::from(format_datetime(self.create_date)),
            "display_name" => self.display_name(),
            _ => self.values.get(field).cloned().unwrap_or_else(|| {
                model
                    .fields
                    .get(field)
                    .map(|f| f.empty_value())
                    .unwrap_or(Value::Bool(false))
            }),
        }
    }

    fn display_name(&self) -> Value {
        if let Some(name) = self.values.get("display_name") {
            return name.clone();
        }
        let name = self
            .values
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match self.values.get("default_code").and_then(Value::as_str) {
            Some(code) => Value::from(format!("[{code}] {name}")),
            None => Value::from(name),
        }
    }

    /// The id a many2one value of this record points to.
    pub fn many2one_id(&self, field: &str) -> Option<i64> {
        self.values.get(field)?.as_array()?.first()?.as_i64()
    }
}

/// Prints a datetime the way Odoo's RPC does: UTC, to the second, no zone.
pub fn format_datetime(value: NaiveDateTime) -> String {
    value.format(DATETIME_FORMAT).to_string()
}

/// Reads a datetime (`YYYY-MM-DD HH:MM:SS`, optional fraction) or a date (`YYYY-MM-DD`, as
/// midnight).
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
        })
}

/// All rows of one model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// The rows by id.
    pub records: BTreeMap<i64, Record>,
}

impl Table {
    /// The id the next created row gets.
    pub fn next_id(&self) -> i64 {
        self.records.keys().next_back().map_or(1, |id| id + 1)
    }

    /// Inserts or replaces a row.
    pub fn put(&mut self, record: Record) {
        self.records.insert(record.id, record);
    }
}

/// One database: its tables and the users that can log in.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// The database name.
    pub name: String,
    /// Tables by model name; a model without a table is not installed here.
    pub tables: BTreeMap<String, Table>,
    /// The users and their credentials.
    pub users: Vec<SandboxUser>,
}

impl Database {
    /// A table by model name.
    pub fn table(&self, model: &str) -> Option<&Table> {
        self.tables.get(model)
    }

    /// A table by model name, for writing.
    pub fn table_mut(&mut self, model: &str) -> Option<&mut Table> {
        self.tables.get_mut(model)
    }

    /// A user by uid.
    pub fn user(&self, uid: i64) -> Option<&SandboxUser> {
        self.users.iter().find(|u| u.uid == uid)
    }

    /// A user by login.
    pub fn user_by_login(&self, login: &str) -> Option<&SandboxUser> {
        self.users.iter().find(|u| u.login == login)
    }

    /// The user a valid (not expired) API key belongs to.
    pub fn user_by_key(&self, key: &str) -> Option<&SandboxUser> {
        self.users.iter().find(|u| u.api_key == key)
    }
}

/// Whether a secret is the user's password or one of its valid API keys.
pub fn credentials_match(user: &SandboxUser, secret: &str) -> bool {
    user.password == secret || user.api_key == secret
}
