//! Building a database's content: users and groups, products and units, and sales orders
//! either generated from a seed or loaded from the shared recorded data sets.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Map, Value};

use crate::config::{Profile, SandboxConfig, SandboxUser, UserKind};
use crate::store::{parse_datetime, Database, Record, Table};

/// Why a data set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line or file is not what the data set format says.
    #[error("{path}:{line}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The 1-based line (0 for a whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// A small deterministic generator (SplitMix64): the same seed gives the same data on every
/// platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with a probability of `percent` in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The group records and their external ids.
pub const GROUPS: [(i64, &str, &str, &str); 5] = [
    (1, "base.group_user", "Internal User", "Role / User"),
    (
        4,
        "base.group_system",
        "Settings",
        "Administration / Settings",
    ),
    (
        20,
        "sales_team.group_sale_salesman",
        "User: Own Documents Only",
        "Sales / User: Own Documents Only",
    ),
    (
        21,
        "sales_team.group_sale_salesman_all_leads",
        "User: All Documents",
        "Sales / User: All Documents",
    ),
    (
        22,
        "sales_team.group_sale_manager",
        "Administrator",
        "Sales / Administrator",
    ),
];

/// The group ids of a kind of user.
pub fn groups_of(kind: UserKind) -> Vec<i64> {
    match kind {
        UserKind::Admin => vec![1, 4, 20, 21, 22],
        UserKind::SalesAll => vec![1, 20, 21],
        UserKind::OwnDocumentsOnly => vec![1, 20],
        UserKind::NoSalesAccess => vec![1],
    }
}

/// Builds every database of a configuration; the first one holds the data.
pub fn build_databases(
    config: &SandboxConfig,
    users: &[SandboxUser],
) -> Result<Vec<Database>, DatasetError> {
    let profile = Profile {
        version: config.version,
    };
    let mut databases = Vec::new();
    for (index, name) in config.databases.iter().enumerate() {
        let database = if index == 0 {
            main_database(name, config, profile, users)?
        } else {
            empty_database(name, profile, users)
        };
        databases.push(database);
    }
    Ok(databases)
}

fn empty_database(name: &str, profile: Profile, users: &[SandboxUser]) -> Database {
    let admins: Vec<SandboxUser> = users
        .iter()
        .filter(|u| u.kind == UserKind::Admin)
        .cloned()
        .collect();
    let mut database = Database {
        name: name.into(),
        tables: Default::default(),
        users: admins.clone(),
    };
    add_users(&mut database, profile, &admins);
    database
}

fn main_database(
    name: &str,
    config: &SandboxConfig,
    profile: Profile,
    users: &[SandboxUser],
) -> Result<Database, DatasetError> {
    let mut database = Database {
        name: name.into(),
        tables: Default::default(),
        users: users.to_vec(),
    };
    add_users(&mut database, profile, users);
    for model in [
        "sale.order",
        "sale.order.line",
        "product.product",
        "uom.uom",
    ] {
        database.tables.insert(model.into(), Table::default());
    }
    match &config.data_dir {
        Some(dir) => {
            let files = crate::persist::DataFiles::in_dir(dir, config.version);
            crate::persist::load_or_save(&files, config, &mut database, |database| {
                add_sales_data(database, config, profile, users)
            })?;
        }
        None => add_sales_data(&mut database, config, profile, users)?,
    }
    Ok(database)
}

fn add_sales_data(
    database: &mut Database,
    config: &SandboxConfig,
    profile: Profile,
    users: &[SandboxUser],
) -> Result<(), DatasetError> {
    match &config.dataset {
        Dataset::Empty => add_catalog(database, profile, config.generated_until),
        Dataset::Generated { orders, seed } => {
            add_catalog(database, profile, config.generated_until);
            crate::generate::add_orders(
                database,
                profile,
                *orders,
                *seed,
                config.generated_until,
                users,
            );
        }
        Dataset::Recorded { dir } => load_recorded(database, profile, dir)?,
    }
    Ok(())
}

use crate::config::Dataset;

fn add_users(database: &mut Database, profile: Profile, users: &[SandboxUser]) {
    let stamp = NaiveDateTime::default();
    let mut table = Table::default();
    for user in users {
        let mut values = Map::new();
        values.insert("name".into(), json!(user.name));
        values.insert("login".into(), json!(user.login));
        values.insert("active".into(), json!(true));
        values.insert("share".into(), json!(false));
        values.insert("company_id".into(), json!([1, "YourCompany"]));
        values.insert(
            profile.user_groups_field().into(),
            json!(groups_of(user.kind)),
        );
        table.put(Record::new(user.uid, values, stamp));
    }
    database.tables.insert("res.users".into(), table);
    let mut groups = Table::default();
    for (id, _, name, full_name) in GROUPS {
        let values = json!({"name": name, "full_name": full_name});
        groups.put(Record::new(
            id,
            values.as_object().cloned().unwrap_or_default(),
            stamp,
        ));
    }
    database.tables.insert("res.groups".into(), groups);
}

/// A product of the generated catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatalogProduct {
    /// The product id.
    pub id: i64,
    /// The internal reference.
    pub code: Option<&'static str>,
    /// The name.
    pub name: &'static str,
    /// The barcode.
    pub barcode: Option<&'static str>,
    /// The product's unit of measure.
    pub uom: i64,
    /// The list price in USD.
    pub price: f64,
    /// Whether the product is active (the last one is archived).
    pub active: bool,
}

const fn product(
    id: i64,
    code: Option<&'static str>,
    name: &'static str,
    barcode: Option<&'static str>,
    uom: i64,
    price: f64,
    active: bool,
) -> CatalogProduct {
    CatalogProduct {
        id,
        code,
        name,
        barcode,
        uom,
        price,
        active,
    }
}

/// The products of generated data.
pub const PRODUCTS: [CatalogProduct; 12] = [
    product(5, Some("FURN_7777"), "Office Chair", None, 1, 70.0, true),
    product(
        6,
        Some("FURN_8888"),
        "Office Lamp",
        Some("601647855631"),
        1,
        40.0,
        true,
    ),
    product(
        7,
        Some("FURN_6741"),
        "Large Meeting Table",
        None,
        1,
        4000.0,
        true,
    ),
    product(
        8,
        Some("FURN_0269"),
        "Office Chair Black",
        None,
        1,
        120.5,
        true,
    ),
    product(
        9,
        Some("FURN_9999"),
        "Office Design Software",
        None,
        1,
        280.0,
        true,
    ),
    product(10, None, "Customizable Desk", None, 1, 750.0, true),
    product(
        11,
        Some("E-COM11"),
        "Cabinet with Doors",
        None,
        1,
        140.0,
        true,
    ),
    product(12, None, "Virtual Interior Design", None, 4, 30.0, true),
    product(
        13,
        Some("FURN_1118"),
        "Corner Desk Left Sit",
        None,
        1,
        85.0,
        true,
    ),
    product(
        14,
        Some("FURN_6666"),
        "Acoustic Bloc Screens",
        None,
        1,
        295.0,
        true,
    ),
    product(15, Some("E-COM07"), "Large Cabinet", None, 1, 320.0, true),
    product(16, Some("DRAWER-01"), "Drawer Black", None, 1, 25.0, false),
];

fn add_catalog(database: &mut Database, profile: Profile, stamp: NaiveDateTime) {
    let stamp = stamp - Duration::days(400);
    let uoms = uom_records(profile);
    let names: Vec<(i64, String)> = uoms
        .iter()
        .map(|u| {
            (
                u.id,
                u.values
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    if let Some(table) = database.table_mut("uom.uom") {
        uoms.into_iter()
            .map(|mut r| {
                r.write_date = stamp;
                r.create_date = stamp;
                r
            })
            .for_each(|r| table.put(r));
    }
    let Some(table) = database.table_mut("product.product") else {
        return;
    };
    for p in PRODUCTS {
        let uom_name = names
            .iter()
            .find(|(i, _)| *i == p.uom)
            .map(|(_, n)| n.clone())
            .unwrap_or_default();
        let values = json!({
            "default_code": p.code.map_or(Value::Bool(false), Value::from),
            "name": p.name,
            "barcode": p.barcode.map_or(Value::Bool(false), Value::from),
            "uom_id": [p.uom, uom_name],
            "active": p.active,
        });
        table.put(Record::new(
            p.id,
            values.as_object().cloned().unwrap_or_default(),
            stamp,
        ));
    }
}

/// The units of measure of a version: 18 and older have categories (Dozens = 12 Units);
/// 19 defines units relative to others (Pack of 6 = 6 Units, Days = 8 Hours).
pub fn uom_records(profile: Profile) -> Vec<Record> {
    let rows = if profile.version >= 19 {
        vec![
            json!({"id": 1, "name": "Units", "relative_factor": 1.0, "relative_uom_id": false, "factor": 1.0, "rounding": 0.01, "active": true}),
            json!({"id": 2, "name": "Dozens", "relative_factor": 12.0, "relative_uom_id": [1, "Units"], "factor": 12.0, "rounding": 0.01, "active": true}),
            json!({"id": 3, "name": "Pack of 6", "relative_factor": 6.0, "relative_uom_id": [1, "Units"], "factor": 6.0, "rounding": 0.01, "active": true}),
            json!({"id": 4, "name": "Hours", "relative_factor": 1.0, "relative_uom_id": false, "factor": 1.0, "rounding": 0.01, "active": true}),
            json!({"id": 5, "name": "Days", "relative_factor": 8.0, "relative_uom_id": [4, "Hours"], "factor": 8.0, "rounding": 0.01, "active": true}),
        ]
    } else {
        vec![
            json!({"id": 1, "name": "Units", "category_id": [1, "Unit"], "factor": 1.0, "factor_inv": 1.0, "uom_type": "reference", "rounding": 0.01, "active": true}),
            json!({"id": 2, "name": "Dozens", "category_id": [1, "Unit"], "factor": 0.08333333333333333, "factor_inv": 12.0, "uom_type": "bigger", "rounding": 0.01, "active": true}),
            json!({"id": 3, "name": "Days", "category_id": [3, "Working Time"], "factor": 1.0, "factor_inv": 1.0, "uom_type": "reference", "rounding": 0.01, "active": true}),
            json!({"id": 4, "name": "Hours", "category_id": [3, "Working Time"], "factor": 8.0, "factor_inv": 0.125, "uom_type": "smaller", "rounding": 0.01, "active": true}),
        ]
    };
    rows.into_iter()
        .filter_map(|row| record_from_row(row, NaiveDateTime::default()))
        .collect()
}

fn record_from_row(row: Value, stamp: NaiveDateTime) -> Option<Record> {
    let mut values = row.as_object()?.clone();
    let id = values.remove("id")?.as_i64()?;
    Some(Record::new(id, values, stamp))
}

fn load_recorded(
    database: &mut Database,
    profile: Profile,
    dir: &Path,
) -> Result<(), DatasetError> {
    let (orders, products) = if profile.version >= 19 {
        ("odoo-19.0-orders.jsonl", "odoo-19.0-products.jsonl")
    } else {
        (
            "odoo-18.0-demo-orders.jsonl",
            "odoo-18.0-demo-products.jsonl",
        )
    };
    load_uoms(database, profile, dir)?;
    for row in read_jsonl(&dir.join(products))? {
        insert_row(database, "product.product", row, &dir.join(products))?;
    }
    for row in read_jsonl(&dir.join(orders))? {
        insert_order(database, profile, row, &dir.join(orders))?;
    }
    Ok(())
}

fn load_uoms(database: &mut Database, profile: Profile, dir: &Path) -> Result<(), DatasetError> {
    let rows = if profile.version >= 19 {
        uom_records(profile)
            .into_iter()
            .map(|r| (r.id, r.values))
            .map(|(id, mut v)| {
                v.insert("id".into(), json!(id));
                Value::Object(v)
            })
            .collect()
    } else {
        let path = dir.join("odoo-18.0-uoms.json");
        let text = std::fs::read_to_string(&path).map_err(|source| DatasetError::Io {
            path: path.clone(),
            source,
        })?;
        let parsed: Value = serde_json::from_str(&text).map_err(|e| DatasetError::Format {
            path: path.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        parsed.as_array().cloned().unwrap_or_default()
    };
    for row in rows {
        insert_row(database, "uom.uom", row, dir)?;
    }
    Ok(())
}

fn read_jsonl(path: &Path) -> Result<Vec<Value>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.into(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| DatasetError::Format {
                path: path.into(),
                line: n + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

fn insert_row(
    database: &mut Database,
    model: &str,
    row: Value,
    path: &Path,
) -> Result<(), DatasetError> {
    let record = recorded_record(row, path)?;
    if let Some(table) = database.table_mut(model) {
        table.put(record);
    }
    Ok(())
}

fn insert_order(
    database: &mut Database,
    profile: Profile,
    mut row: Value,
    path: &Path,
) -> Result<(), DatasetError> {
    let lines = row
        .as_object_mut()
        .and_then(|o| o.remove("lines"))
        .and_then(|l| l.as_array().cloned())
        .unwrap_or_default();
    let mut order = recorded_record(row, path)?;
    order
        .values
        .insert("user_id".into(), json!([2, "Mitchell Admin"]));
    adapt_state(&mut order, profile);
    for (index, line) in lines.into_iter().enumerate() {
        let mut line = recorded_record(line, path)?;
        line.values
            .insert("sequence".into(), json!((index as i64 + 1) * 10));
        if let Some(table) = database.table_mut("sale.order.line") {
            table.put(line);
        }
    }
    if let Some(table) = database.table_mut("sale.order") {
        table.put(order);
    }
    Ok(())
}

/// Before 17 a locked order is in state `done` and there is no `locked` field.
fn adapt_state(order: &mut Record, profile: Profile) {
    if profile.locked_field() {
        return;
    }
    let locked = order
        .values
        .remove("locked")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if locked {
        order.values.insert("state".into(), json!("done"));
    }
}

fn recorded_record(row: Value, path: &Path) -> Result<Record, DatasetError> {
    let bad = |message: &str| DatasetError::Format {
        path: path.into(),
        line: 0,
        message: message.into(),
    };
    let mut values = row
        .as_object()
        .cloned()
        .ok_or_else(|| bad("a row is not an object"))?;
    let id = values
        .remove("id")
        .and_then(|v| v.as_i64())
        .ok_or_else(|| bad("a row has no id"))?;
    let written = values
        .remove("write_date")
        .and_then(|v| v.as_str().and_then(parse_datetime));
    let stamp = written
        .map(|w| w + Duration::microseconds(RECORDED_MICROS))
        .unwrap_or_default();
    Ok(Record::new(id, values, stamp))
}

/// The data sets print `write_date` to the second; the database held microseconds, which are
/// made up here: the same for every row of a second (rows written in one second then sort by
/// id, as one batch does) and never zero, so that `write_date = S` matches nothing on 18, as
/// recorded.
const RECORDED_MICROS: i64 = 500_000;
