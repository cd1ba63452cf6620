//! Deterministic generated sales orders.
//!
//! Orders span the year before `until`, in id order; each order and its lines share one
//! `write_date` (one transaction), with microseconds. Every state of the version appears,
//! with sections, notes (and subsections on 19), discounts, USD and EUR, delivery dates, and
//! lines in a unit other than the product's (Dozens up to 18, Pack of 6 on 19).

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Map, Value};

use crate::config::{Profile, SandboxUser, UserKind};
use crate::data::{CatalogProduct, Rng, PRODUCTS};
use crate::store::{format_datetime, Database, Record};

const PARTNERS: [(i64, &str); 8] = [
    (9, "YourCompany, Joel Willis"),
    (10, "Deco Addict"),
    (11, "Gemini Furniture"),
    (12, "Ready Mat"),
    (14, "Azure Interior"),
    (15, "Lumber Inc"),
    (22, "Ready Mat, Billy Fox"),
    (26, "Wood Corner"),
];

/// The state and lock of an order.
#[derive(Debug, Clone, Copy)]
struct Status {
    state: &'static str,
    locked: bool,
}

/// Adds `count` generated orders (ids from 1) to the database.
pub fn add_orders(
    database: &mut Database,
    profile: Profile,
    count: usize,
    seed: u64,
    until: NaiveDateTime,
    users: &[SandboxUser],
) {
    let mut rng = Rng::new(seed);
    let salespeople = salespeople(users);
    let mut next_line = 1;
    for index in 0..count {
        let id = index as i64 + 1;
        let order = OrderDraft::random(&mut rng, profile, id, count, until, &salespeople);
        let lines = order.lines(&mut rng, profile, next_line);
        next_line += lines.len() as i64;
        let record = order.record(&lines, profile);
        if let Some(table) = database.table_mut("sale.order.line") {
            lines.into_iter().for_each(|line| table.put(line));
        }
        if let Some(table) = database.table_mut("sale.order") {
            table.put(record);
        }
    }
}

fn salespeople(users: &[SandboxUser]) -> Vec<Value> {
    let find = |kind| {
        users
            .iter()
            .find(|u| u.kind == kind)
            .map(|u| json!([u.uid, u.name]))
    };
    vec![find(UserKind::SalesAll), find(UserKind::OwnDocumentsOnly)]
        .into_iter()
        .flatten()
        .collect()
}

struct OrderDraft {
    id: i64,
    partner: (i64, &'static str),
    euro: bool,
    status: Status,
    date_order: NaiveDateTime,
    write_date: NaiveDateTime,
    commitment: Option<NaiveDateTime>,
    reference: Option<String>,
    salesperson: Value,
}

impl OrderDraft {
    fn random(
        rng: &mut Rng,
        profile: Profile,
        id: i64,
        count: usize,
        until: NaiveDateTime,
        salespeople: &[Value],
    ) -> OrderDraft {
        let span = 365 * 24 * 3600_i64;
        let offset = span * (id - 1) / count.max(1) as i64 + rng.below(3600) as i64;
        let date_order = until - Duration::seconds(span) + Duration::seconds(offset);
        let room = (until - date_order).num_seconds().clamp(1, 30 * 24 * 3600);
        let write_date = date_order
            + Duration::seconds(rng.below(room as u64 - 1) as i64)
            + Duration::microseconds(1 + rng.below(999_998) as i64);
        OrderDraft {
            id,
            partner: PARTNERS[rng.below(PARTNERS.len() as u64) as usize],
            euro: rng.chance(10),
            status: random_status(rng, profile),
            date_order,
            write_date,
            commitment: rng
                .chance(25)
                .then(|| date_order + Duration::days(7 + rng.below(24) as i64)),
            reference: rng
                .chance(30)
                .then(|| format!("PO-{:05}", rng.below(100_000))),
            salesperson: pick_salesperson(rng, salespeople),
        }
    }

    fn name(&self) -> String {
        format!("S{:05}", self.id)
    }

    fn lines(&self, rng: &mut Rng, profile: Profile, first_id: i64) -> Vec<Record> {
        let mut kinds = Vec::new();
        let sectioned = rng.chance(30);
        if sectioned {
            kinds.push(LineKind::Section);
        }
        for n in 0..1 + rng.below(5) {
            kinds.push(LineKind::Product);
            if n == 0 && sectioned && profile.version >= 19 && rng.chance(30) {
                kinds.push(LineKind::Subsection);
            }
        }
        if rng.chance(15) {
            kinds.push(LineKind::Note);
        }
        kinds
            .into_iter()
            .enumerate()
            .map(|(index, kind)| self.line(rng, profile, first_id + index as i64, index, kind))
            .collect()
    }

    fn line(
        &self,
        rng: &mut Rng,
        profile: Profile,
        id: i64,
        index: usize,
        kind: LineKind,
    ) -> Record {
        let mut values = match kind {
            LineKind::Product => self.product_line(rng, profile),
            other => display_line(other, profile, index),
        };
        values.insert("order_id".into(), json!([self.id, self.name()]));
        values.insert("sequence".into(), json!((index as i64 + 1) * 10));
        values.insert("state".into(), json!(self.status.state));
        values.insert("currency_id".into(), self.currency());
        let mut record = Record::new(id, values, self.write_date);
        record.create_date = self.date_order;
        record
    }

    fn product_line(&self, rng: &mut Rng, profile: Profile) -> Map<String, Value> {
        let product = pick_product(rng);
        let display = product.code.map_or(product.name.to_owned(), |c| {
            format!("[{c}] {}", product.name)
        });
        let (uom_value, per_unit) = line_unit(rng, profile, product.uom);
        let rate = if self.euro { 0.92 } else { 1.0 };
        let price_unit = round(product.price * per_unit * rate, 4);
        let qty = (1 + rng.below(10)) as f64;
        let discount = if rng.chance(15) {
            [5.0, 10.0, 15.0, 20.0][rng.below(4) as usize]
        } else {
            0.0
        };
        let subtotal = round(qty * price_unit * (1.0 - discount / 100.0), 2);
        let delivered = matches!(self.status.state, "sale" | "done") && rng.chance(50);
        let mut values = Map::new();
        values.insert("product_id".into(), json!([product.id, display]));
        values.insert("name".into(), json!(display));
        values.insert("product_uom_qty".into(), json!(qty));
        values.insert(profile.line_uom_field().into(), uom_value);
        values.insert("price_unit".into(), json!(price_unit));
        values.insert("discount".into(), json!(discount));
        values.insert("price_subtotal".into(), json!(subtotal));
        values.insert("price_total".into(), json!(subtotal));
        values.insert("display_type".into(), json!(false));
        values.insert(
            "qty_delivered".into(),
            json!(if delivered { qty } else { 0.0 }),
        );
        values
    }

    fn currency(&self) -> Value {
        if self.euro {
            json!([126, "EUR"])
        } else {
            json!([1, "USD"])
        }
    }

    fn record(&self, lines: &[Record], profile: Profile) -> Record {
        let total: f64 = lines
            .iter()
            .filter_map(|l| l.values.get("price_subtotal")?.as_f64())
            .sum();
        let total = round(total, 2);
        let mut values = Map::new();
        values.insert("name".into(), json!(self.name()));
        values.insert("date_order".into(), json!(format_datetime(self.date_order)));
        values.insert("partner_id".into(), json!([self.partner.0, self.partner.1]));
        values.insert("state".into(), json!(self.status.state));
        if profile.locked_field() {
            values.insert("locked".into(), json!(self.status.locked));
        }
        values.insert(
            "commitment_date".into(),
            self.commitment
                .map_or(json!(false), |c| json!(format_datetime(c))),
        );
        values.insert(
            "expected_date".into(),
            json!(format_datetime(self.date_order + Duration::days(1))),
        );
        values.insert("currency_id".into(), self.currency());
        values.insert("amount_total".into(), json!(total));
        values.insert("amount_untaxed".into(), json!(total));
        values.insert("amount_tax".into(), json!(0.0));
        values.insert(
            "order_line".into(),
            json!(lines.iter().map(|l| l.id).collect::<Vec<_>>()),
        );
        values.insert("company_id".into(), json!([1, "YourCompany"]));
        values.insert(
            "client_order_ref".into(),
            self.reference.clone().map_or(json!(false), Value::from),
        );
        values.insert("user_id".into(), self.salesperson.clone());
        let mut record = Record::new(self.id, values, self.write_date);
        record.create_date = self.date_order;
        record
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Product,
    Section,
    Subsection,
    Note,
}

fn display_line(kind: LineKind, profile: Profile, index: usize) -> Map<String, Value> {
    let (display_type, name) = match kind {
        LineKind::Section => ("line_section", format!("Section {}", index + 1)),
        LineKind::Subsection => ("line_subsection", format!("Subsection {}", index + 1)),
        _ => (
            "line_note",
            "Deliver to the back door\nCall ahead".to_owned(),
        ),
    };
    let mut values = Map::new();
    values.insert("product_id".into(), json!(false));
    values.insert("name".into(), json!(name));
    values.insert("product_uom_qty".into(), json!(0.0));
    values.insert(profile.line_uom_field().into(), json!(false));
    for zero in [
        "price_unit",
        "discount",
        "price_subtotal",
        "price_total",
        "qty_delivered",
    ] {
        values.insert(zero.into(), json!(0.0));
    }
    values.insert("display_type".into(), json!(display_type));
    values
}

fn random_status(rng: &mut Rng, profile: Profile) -> Status {
    let roll = rng.below(100);
    let (state, locked) = match roll {
        0..=9 => ("draft", false),
        10..=14 => ("sent", false),
        15..=79 => ("sale", false),
        80..=89 => ("sale", true),
        _ => ("cancel", false),
    };
    if locked && !profile.locked_field() {
        return Status {
            state: "done",
            locked: false,
        };
    }
    Status { state, locked }
}

fn pick_salesperson(rng: &mut Rng, salespeople: &[Value]) -> Value {
    match (rng.below(10), salespeople) {
        (0, _) | (_, []) => json!(false),
        (1, [_, own, ..]) => own.clone(),
        (_, [all, ..]) => all.clone(),
    }
}

fn pick_product(rng: &mut Rng) -> CatalogProduct {
    let active: Vec<CatalogProduct> = PRODUCTS.iter().copied().filter(|p| p.active).collect();
    if rng.chance(2) {
        return PRODUCTS[PRODUCTS.len() - 1];
    }
    active[rng.below(active.len() as u64) as usize]
}

/// The line's unit and how many product units it holds: mostly the product's own unit, but
/// one line in ten of a product sold by the unit is in Dozens (up to 18) or Packs of 6 (19).
fn line_unit(rng: &mut Rng, profile: Profile, product_uom: i64) -> (Value, f64) {
    let names = [(1, "Units"), (4, "Hours")];
    let own = names
        .iter()
        .find(|(id, _)| *id == product_uom)
        .map_or("Units", |(_, n)| n);
    if product_uom == 1 && rng.chance(10) {
        return if profile.version >= 19 {
            (json!([3, "Pack of 6"]), 6.0)
        } else {
            (json!([2, "Dozens"]), 12.0)
        };
    }
    (json!([product_uom, own]), 1.0)
}

fn round(value: f64, digits: i32) -> f64 {
    let factor = 10_f64.powi(digits);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{users_for, SandboxConfig};
    use crate::data::build_databases;

    fn orders_of(version: u8, seed: u64) -> Vec<Record> {
        let mut config = SandboxConfig::new(version);
        config.dataset = crate::config::Dataset::Generated { orders: 300, seed };
        let users = users_for(version, 1);
        let databases = build_databases(&config, &users).unwrap();
        databases[0].tables["sale.order"].rows().cloned().collect()
    }

    fn lines_of(version: u8) -> Vec<Record> {
        let config = SandboxConfig::new(version);
        let databases = build_databases(&config, &users_for(version, 1)).unwrap();
        databases[0].tables["sale.order.line"]
            .rows()
            .cloned()
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_orders() {
        assert_eq!(orders_of(18, 7), orders_of(18, 7));
        assert_ne!(orders_of(18, 7), orders_of(18, 8));
    }

    #[test]
    fn every_state_of_version_18_appears_and_none_is_done() {
        let states: std::collections::BTreeSet<String> = orders_of(18, 1)
            .iter()
            .map(|o| o.values["state"].as_str().unwrap().to_owned())
            .collect();

        assert_eq!(
            states.into_iter().collect::<Vec<_>>(),
            ["cancel", "draft", "sale", "sent"]
        );
    }

    #[test]
    fn version_16_locks_orders_with_state_done() {
        let orders = orders_of(16, 1);

        assert!(orders.iter().any(|o| o.values["state"] == "done"));
        assert!(orders.iter().all(|o| !o.values.contains_key("locked")));
    }

    #[test]
    fn version_19_has_subsections_and_packs_of_six() {
        let lines = lines_of(19);

        assert!(lines
            .iter()
            .any(|l| l.values["display_type"] == "line_subsection"));
        assert!(lines
            .iter()
            .any(|l| l.values["product_uom_id"] == json!([3, "Pack of 6"])));
    }

    #[test]
    fn version_18_sells_some_lines_by_the_dozen() {
        assert!(lines_of(18)
            .iter()
            .any(|l| l.values["product_uom"] == json!([2, "Dozens"])));
    }

    #[test]
    fn generated_write_dates_lie_before_the_configured_end() {
        let until = SandboxConfig::new(18).generated_until;

        assert!(orders_of(18, 1).iter().all(|o| o.write_date < until));
    }
}
