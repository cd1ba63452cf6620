//! The in-memory databases: tables of records keyed by id and indexed by `write_date`.
//!
//! A record holds its values as `read` returns them (`false` for empty, many2one as
//! `[id, "name"]`), except `write_date` and `create_date`, which are kept with microseconds
//! and printed truncated to the second.

use std::collections::{BTreeMap, BTreeSet};

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

/// Prints a datetime the way Odoo's RPC does: UTC, to the second, no zone (the same text as
/// [`DATETIME_FORMAT`] gives, without parsing that format on every call).
pub fn format_datetime(value: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        value.year(),
        value.month(),
        value.day(),
        value.hour(),
        value.minute(),
        value.second()
    )
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

/// All rows of one model, indexed by id and by `(write_date, id)`.
///
/// Rows change only through [`Table::put`], [`Table::update`] and [`Table::remove`], which keep
/// both indexes in step and, while [`Database::begin_undo`] is in force, remember each row's
/// previous state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    records: BTreeMap<i64, Record>,
    by_write_date: BTreeSet<(NaiveDateTime, i64)>,
    undo: Option<Vec<(i64, Option<Record>)>>,
}

impl Table {
    /// The id the next created row gets.
    pub fn next_id(&self) -> i64 {
        self.records.keys().next_back().map_or(1, |id| id + 1)
    }

    /// How many rows the table holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the table holds no row.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// A row by id.
    pub fn get(&self, id: i64) -> Option<&Record> {
        self.records.get(&id)
    }

    /// Every row, by ascending id.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &Record> {
        self.records.values()
    }

    /// Every id, ascending.
    pub fn ids(&self) -> impl DoubleEndedIterator<Item = i64> + '_ {
        self.records.keys().copied()
    }

    /// Inserts or replaces a row.
    pub fn put(&mut self, record: Record) {
        let (id, stamp) = (record.id, record.write_date);
        self.by_write_date.insert((stamp, id));
        let previous = self.records.insert(id, record);
        self.forget(id, previous.as_ref().map(|r| r.write_date), || previous);
    }

    /// Changes a row in place (its `write_date` included, not its id); `None` when there is
    /// no such row.
    pub fn update<T>(&mut self, id: i64, change: impl FnOnce(&mut Record) -> T) -> Option<T> {
        let undoing = self.undo.is_some();
        let record = self.records.get_mut(&id)?;
        let old_stamp = record.write_date;
        let previous = undoing.then(|| record.clone());
        let answer = change(record);
        record.id = id;
        self.by_write_date.insert((record.write_date, id));
        self.forget(id, Some(old_stamp), || previous);
        Some(answer)
    }

    /// Removes a row and returns it.
    pub fn remove(&mut self, id: i64) -> Option<Record> {
        let removed = self.records.remove(&id)?;
        let kept = self.undo.is_some().then(|| removed.clone());
        self.forget(id, Some(removed.write_date), || kept);
        Some(removed)
    }

    /// Drops the index entry of a row's previous `write_date` and, during an undo, keeps the
    /// row's previous state.
    fn forget(
        &mut self,
        id: i64,
        old_stamp: Option<NaiveDateTime>,
        previous: impl FnOnce() -> Option<Record>,
    ) {
        let current = self.records.get(&id).map(|r| r.write_date);
        if let Some(old) = old_stamp.filter(|old| current != Some(*old)) {
            self.by_write_date.remove(&(old, id));
        }
        if let Some(undo) = self.undo.as_mut() {
            undo.push((id, previous()));
        }
    }

    /// The rows a scan visits, in its order.
    pub fn scan<'t: 's, 's>(&'t self, scan: &'s Scan) -> Box<dyn Iterator<Item = &'t Record> + 's> {
        match scan {
            Scan::Id {
                from,
                until,
                descending,
            } => {
                let rows = self.records.range(*from..*until).map(|(_, r)| r);
                maybe_reversed(rows, *descending)
            }
            Scan::Ids { ids, descending } => {
                let rows = ids.iter().filter_map(|id| self.records.get(id));
                maybe_reversed(rows, *descending)
            }
            Scan::WriteDate {
                from,
                until,
                descending,
            } => {
                let lower = (*from, i64::MIN);
                let upper = (*until, i64::MIN);
                let keys = self.by_write_date.range(lower..upper);
                let rows = keys.filter_map(|(_, id)| self.records.get(id));
                maybe_reversed(rows, *descending)
            }
        }
    }

    fn begin_undo(&mut self) {
        self.undo = Some(Vec::new());
    }

    fn end_undo(&mut self) -> Vec<(i64, Option<Record>)> {
        self.undo.take().unwrap_or_default()
    }

    fn restore(&mut self, id: i64, previous: Option<Record>) {
        if let Some(current) = self.records.remove(&id) {
            self.by_write_date.remove(&(current.write_date, id));
        }
        if let Some(record) = previous {
            self.by_write_date.insert((record.write_date, id));
            self.records.insert(id, record);
        }
    }
}

fn maybe_reversed<'t: 's, 's>(
    rows: impl DoubleEndedIterator<Item = &'t Record> + 's,
    descending: bool,
) -> Box<dyn Iterator<Item = &'t Record> + 's> {
    match descending {
        true => Box::new(rows.rev()),
        false => Box::new(rows),
    }
}

/// A walk through one index of a table between two bounds (lower included, upper excluded),
/// in the index's order or its reverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// By id.
    Id {
        /// The lowest id visited.
        from: i64,
        /// The first id past the end.
        until: i64,
        /// From the highest id down.
        descending: bool,
    },
    /// The rows of listed ids, in id order.
    Ids {
        /// The ids, ascending and without repeats.
        ids: Vec<i64>,
        /// From the highest id down.
        descending: bool,
    },
    /// By `write_date`, then id.
    WriteDate {
        /// The earliest `write_date` visited.
        from: NaiveDateTime,
        /// The first `write_date` past the end.
        until: NaiveDateTime,
        /// From the latest down.
        descending: bool,
    },
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

    /// Starts remembering every row change, so that [`Database::roll_back`] can undo them.
    pub fn begin_undo(&mut self) {
        self.tables.values_mut().for_each(Table::begin_undo);
    }

    /// Keeps the changes made since [`Database::begin_undo`].
    pub fn keep_changes(&mut self) {
        self.tables.values_mut().for_each(|t| drop(t.end_undo()));
    }

    /// Undoes the row changes made since [`Database::begin_undo`], newest first.
    pub fn roll_back(&mut self) {
        for table in self.tables.values_mut() {
            for (id, previous) in table.end_undo().into_iter().rev() {
                table.restore(id, previous);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, stamp: &str) -> Record {
        Record::new(id, Map::new(), parse_datetime(stamp).unwrap())
    }

    fn by_write_date(table: &Table) -> Vec<i64> {
        let everything = Scan::WriteDate {
            from: NaiveDateTime::MIN,
            until: NaiveDateTime::MAX,
            descending: false,
        };
        table.scan(&everything).map(|r| r.id).collect()
    }

    fn three_rows() -> Table {
        let mut table = Table::default();
        table.put(row(1, "2025-01-01 10:00:00.5"));
        table.put(row(2, "2025-01-01 09:00:00.5"));
        table.put(row(3, "2025-01-01 10:00:00.5"));
        table
    }

    #[test]
    fn the_write_date_index_follows_every_change_of_a_row() {
        let mut table = three_rows();

        table.update(2, |r| r.write_date = parse_datetime("2025-01-02").unwrap());
        table.put(row(1, "2025-01-03"));
        table.remove(3);

        assert_eq!(by_write_date(&table), [2, 1]);
    }

    #[test]
    fn a_roll_back_restores_rows_and_their_index() {
        let mut database = Database {
            name: "db".into(),
            tables: [("sale.order".to_owned(), three_rows())].into(),
            users: Vec::new(),
        };

        database.begin_undo();
        let table = database.table_mut("sale.order").unwrap();
        table.update(2, |r| r.write_date = parse_datetime("2025-01-02").unwrap());
        table.remove(1);
        table.put(row(4, "2025-01-01"));
        database.roll_back();

        assert_eq!(database.tables["sale.order"], three_rows());
        assert_eq!(by_write_date(&database.tables["sale.order"]), [2, 1, 3]);
    }

    #[test]
    fn a_datetime_prints_as_its_format_says() {
        let stamps = [
            "2025-01-02 03:04:05.678901",
            "0999-12-31 23:59:59",
            "2024-02-29 00:00:00",
        ];
        for stamp in stamps {
            let value = parse_datetime(stamp).unwrap();

            assert_eq!(
                format_datetime(value),
                value.format(DATETIME_FORMAT).to_string()
            );
        }
    }
}
