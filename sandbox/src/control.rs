//! The control handle tests use: change the data between (or during) syncs, commit writes
//! late, inject faults and count the calls received.
//!
//! Every write is a transaction: all rows it touches get the transaction's start time as
//! `write_date`, like Odoo. [`Control::begin`] opens one that stays invisible until
//! [`Transaction::commit`], so its rows appear with a `write_date` older than rows committed
//! meanwhile ("commit late"). A change to a line's quantity, price or discount also rewrites
//! its order (amounts change); a change to its description only rewrites the line. With a data
//! directory, each committed transaction is also appended to its changes file (see
//! [`crate::persist`]).

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use crate::data::DatasetError;
use crate::faults::{CallMatcher, CallRecord, FaultRule};
use crate::state::Shared;
use crate::store::{format_datetime, Database, Record};

/// Why a control operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No order with that id.
    #[error("no sales order {0}")]
    NoSuchOrder(i64),
    /// No order line with that id.
    #[error("no sales order line {0}")]
    NoSuchLine(i64),
    /// No product with that id.
    #[error("no product {0}")]
    NoSuchProduct(i64),
    /// The sandbox has no sales data (it has no database).
    #[error("the sandbox has no database")]
    NoDatabase,
    /// The change could not be saved in the data directory, so it was not made.
    #[error("cannot save the change: {0}")]
    NotSaved(String),
}

/// A new sales order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NewOrder {
    /// The customer `(id, display name)`.
    pub partner: (i64, String),
    /// The state (`draft`, `sent`, `sale`, `cancel`; `done` up to 16).
    pub state: String,
    /// Whether a confirmed order is locked (17 and later).
    pub locked: bool,
    /// EUR instead of USD.
    pub euro: bool,
    /// The order date; the transaction time when absent.
    pub date_order: Option<NaiveDateTime>,
    /// The delivery date.
    pub commitment_date: Option<NaiveDateTime>,
    /// The customer reference.
    pub client_order_ref: Option<String>,
    /// The salesperson's uid.
    pub salesperson: Option<i64>,
    /// The lines.
    pub lines: Vec<NewLine>,
}

impl Default for NewOrder {
    fn default() -> NewOrder {
        NewOrder::quotation()
    }
}

impl NewOrder {
    /// A quotation for "Gemini Furniture" without lines.
    pub fn quotation() -> NewOrder {
        NewOrder {
            partner: (11, "Gemini Furniture".into()),
            state: "draft".into(),
            locked: false,
            euro: false,
            date_order: None,
            commitment_date: None,
            client_order_ref: None,
            salesperson: None,
            lines: Vec::new(),
        }
    }

    /// The same order in another state.
    pub fn in_state(mut self, state: &str) -> NewOrder {
        self.state = state.into();
        self
    }

    /// The same order with one more line.
    pub fn with_line(mut self, line: NewLine) -> NewOrder {
        self.lines.push(line);
        self
    }
}

/// A new order line: a product line, or a section, subsection or note.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NewLine {
    /// The product (none for sections and notes).
    pub product_id: Option<i64>,
    /// `line_section`, `line_subsection` or `line_note`; none for product lines.
    pub display_type: Option<String>,
    /// The description; the product's display name when absent.
    pub name: Option<String>,
    /// The quantity.
    pub quantity: f64,
    /// The unit price.
    pub price_unit: f64,
    /// The discount in percent.
    pub discount: f64,
    /// The unit; the product's own when absent.
    pub uom_id: Option<i64>,
}

impl Default for NewLine {
    fn default() -> NewLine {
        NewLine {
            product_id: None,
            display_type: None,
            name: None,
            quantity: 1.0,
            price_unit: 0.0,
            discount: 0.0,
            uom_id: None,
        }
    }
}

impl NewLine {
    /// A product line.
    pub fn product(product_id: i64, quantity: f64, price_unit: f64) -> NewLine {
        NewLine {
            product_id: Some(product_id),
            display_type: None,
            name: None,
            quantity,
            price_unit,
            discount: 0.0,
            uom_id: None,
        }
    }

    /// A section, subsection or note line with its text.
    pub fn display(display_type: &str, text: &str) -> NewLine {
        NewLine {
            product_id: None,
            display_type: Some(display_type.into()),
            name: Some(text.into()),
            quantity: 0.0,
            price_unit: 0.0,
            discount: 0.0,
            uom_id: None,
        }
    }
}

/// Changes to an order's own fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct OrderChanges {
    /// A new state.
    pub state: Option<String>,
    /// Lock or unlock (17 and later; before, locking sets the state `done`).
    pub locked: Option<bool>,
    /// A new customer reference (`Some(None)` clears it).
    pub client_order_ref: Option<Option<String>>,
    /// A new delivery date (`Some(None)` clears it).
    pub commitment_date: Option<Option<NaiveDateTime>>,
    /// A new order date.
    pub date_order: Option<NaiveDateTime>,
}

/// Changes to a line; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LineChanges {
    /// A new quantity (moves the order's `write_date`).
    pub quantity: Option<f64>,
    /// A new unit price (moves the order's `write_date`).
    pub price_unit: Option<f64>,
    /// A new discount (moves the order's `write_date`).
    pub discount: Option<f64>,
    /// A new description (moves only the line's `write_date`).
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    CreateOrder {
        id: i64,
        line_ids: Vec<i64>,
        order: NewOrder,
    },
    UpdateOrder {
        id: i64,
        changes: OrderChanges,
    },
    DeleteOrder {
        id: i64,
    },
    AddLine {
        id: i64,
        order_id: i64,
        line: NewLine,
    },
    UpdateLine {
        id: i64,
        changes: LineChanges,
    },
    DeleteLine {
        id: i64,
    },
}

/// The cloneable control handle of a running sandbox.
#[derive(Debug, Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl Control {
    /// A handle on shared state.
    pub fn new(shared: Arc<Shared>) -> Control {
        Control { shared }
    }

    /// Opens a transaction: its writes get the current time as `write_date` but become
    /// visible only when committed.
    pub fn begin(&self) -> Transaction {
        Transaction {
            shared: self.shared.clone(),
            stamp: self.shared.now(),
            ops: Vec::new(),
        }
    }

    fn now_tx(&self, op: impl FnOnce(&mut Transaction) -> i64) -> Result<i64, ControlError> {
        let mut tx = self.begin();
        let id = op(&mut tx);
        tx.commit().map(|_| id)
    }

    /// Creates an order with its lines; returns its id.
    pub fn create_order(&self, order: NewOrder) -> Result<i64, ControlError> {
        self.now_tx(|tx| tx.create_order(order))
    }

    /// Changes an order's fields.
    pub fn update_order(&self, id: i64, changes: OrderChanges) -> Result<(), ControlError> {
        self.now_tx(|tx| {
            tx.update_order(id, changes);
            id
        })
        .map(drop)
    }

    /// Cancels an order.
    pub fn cancel_order(&self, id: i64) -> Result<(), ControlError> {
        let changes = OrderChanges {
            state: Some("cancel".into()),
            locked: Some(false),
            ..OrderChanges::default()
        };
        self.update_order(id, changes)
    }

    /// Deletes an order and its lines.
    pub fn delete_order(&self, id: i64) -> Result<(), ControlError> {
        self.now_tx(|tx| {
            tx.delete_order(id);
            id
        })
        .map(drop)
    }

    /// Adds a line to an order; returns the line id.
    pub fn add_line(&self, order_id: i64, line: NewLine) -> Result<i64, ControlError> {
        self.now_tx(|tx| tx.add_line(order_id, line))
    }

    /// Changes a line.
    pub fn update_line(&self, id: i64, changes: LineChanges) -> Result<(), ControlError> {
        self.now_tx(|tx| {
            tx.update_line(id, changes);
            id
        })
        .map(drop)
    }

    /// Deletes a line (its order is rewritten).
    pub fn delete_line(&self, id: i64) -> Result<(), ControlError> {
        self.now_tx(|tx| {
            tx.delete_line(id);
            id
        })
        .map(drop)
    }

    /// An order's stored values as `read` prints them (with `id` and `write_date`).
    pub fn order(&self, id: i64) -> Option<Value> {
        self.record("sale.order", id)
    }

    /// A line's stored values as `read` prints them.
    pub fn line(&self, id: i64) -> Option<Value> {
        self.record("sale.order.line", id)
    }

    fn record(&self, model: &str, id: i64) -> Option<Value> {
        let databases = self.shared.read();
        let record = databases.first()?.table(model)?.get(id)?;
        let mut values = record.values.clone();
        values.insert("id".into(), json!(id));
        values.insert(
            "write_date".into(),
            json!(format_datetime(record.write_date)),
        );
        Some(Value::Object(values))
    }

    /// The stored `write_date` of an order, with microseconds.
    pub fn order_write_date(&self, id: i64) -> Option<NaiveDateTime> {
        let databases = self.shared.read();
        Some(databases.first()?.table("sale.order")?.get(id)?.write_date)
    }

    /// The ids of all orders, ascending.
    pub fn order_ids(&self) -> Vec<i64> {
        let databases = self.shared.read();
        let table = databases.first().and_then(|d| d.table("sale.order"));
        table.map(|t| t.ids().collect()).unwrap_or_default()
    }

    /// Injects a fault. Every rule counts the calls it matches; when several fire on one
    /// call, the one injected first wins.
    pub fn inject(&self, rule: FaultRule) {
        self.shared.inject(rule);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// The calls received so far, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.calls()
    }

    /// How many calls received so far match.
    pub fn count_calls(&self, matcher: &CallMatcher) -> usize {
        self.shared
            .calls()
            .iter()
            .filter(|c| matcher.matches(c))
            .count()
    }

    /// Forgets the calls received so far.
    pub fn clear_calls(&self) {
        self.shared.clear_calls();
    }

    /// Freezes the clock that stamps writes (`None`: the real UTC clock again).
    pub fn set_now(&self, now: Option<NaiveDateTime>) {
        self.shared.set_now(now);
    }
}

/// Writes that share one `write_date` and become visible together at [`Transaction::commit`].
#[derive(Debug)]
pub struct Transaction {
    shared: Arc<Shared>,
    stamp: NaiveDateTime,
    ops: Vec<Op>,
}

impl Transaction {
    /// The transaction's start time, which its rows get as `write_date`.
    pub fn stamp(&self) -> NaiveDateTime {
        self.stamp
    }

    /// Creates an order with its lines; returns the id it will have.
    pub fn create_order(&mut self, order: NewOrder) -> i64 {
        let id = self.shared.reserve_id("sale.order");
        let line_ids = order
            .lines
            .iter()
            .map(|_| self.shared.reserve_id("sale.order.line"))
            .collect();
        self.ops.push(Op::CreateOrder {
            id,
            line_ids,
            order,
        });
        id
    }

    /// Changes an order's fields.
    pub fn update_order(&mut self, id: i64, changes: OrderChanges) {
        self.ops.push(Op::UpdateOrder { id, changes });
    }

    /// Deletes an order and its lines.
    pub fn delete_order(&mut self, id: i64) {
        self.ops.push(Op::DeleteOrder { id });
    }

    /// Adds a line; returns the id it will have.
    pub fn add_line(&mut self, order_id: i64, line: NewLine) -> i64 {
        let id = self.shared.reserve_id("sale.order.line");
        self.ops.push(Op::AddLine { id, order_id, line });
        id
    }

    /// Changes a line.
    pub fn update_line(&mut self, id: i64, changes: LineChanges) {
        self.ops.push(Op::UpdateLine { id, changes });
    }

    /// Deletes a line.
    pub fn delete_line(&mut self, id: i64) {
        self.ops.push(Op::DeleteLine { id });
    }

    /// Makes the writes visible, all stamped with the transaction's start time. Nothing is
    /// written when one of them fails.
    pub fn commit(self) -> Result<(), ControlError> {
        let mut databases = self.shared.write();
        let database = databases.first_mut().ok_or(ControlError::NoDatabase)?;
        let writer = Writer {
            version: self.shared.profile.version,
            stamp: self.stamp,
        };
        let saved = Committed {
            stamp: self.stamp,
            ops: self.ops.clone(),
        };

        database.begin_undo();
        let applied = self
            .ops
            .into_iter()
            .try_for_each(|op| writer.apply(database, op))
            .and_then(|()| save(&self.shared, &saved));
        match applied {
            Ok(()) => database.keep_changes(),
            Err(_) => database.roll_back(),
        }
        applied
    }
}

/// One committed transaction as the data directory keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Committed {
    stamp: NaiveDateTime,
    ops: Vec<Op>,
}

fn save(shared: &Shared, committed: &Committed) -> Result<(), ControlError> {
    let Some(path) = shared.changes_file.as_deref() else {
        return Ok(());
    };
    crate::persist::append_line(path, committed).map_err(|e| ControlError::NotSaved(e.to_string()))
}

/// Applies again, in order, the transactions committed in a data directory's changes file.
pub fn replay(database: &mut Database, version: u8, path: &Path) -> Result<(), DatasetError> {
    let committed: Vec<Committed> = crate::persist::read_lines(path)?;
    for (index, transaction) in committed.into_iter().enumerate() {
        let writer = Writer {
            version,
            stamp: transaction.stamp,
        };
        for op in transaction.ops {
            writer
                .apply(database, op)
                .map_err(|e| DatasetError::Format {
                    path: path.to_owned(),
                    line: index + 1,
                    message: e.to_string(),
                })?;
        }
    }
    Ok(())
}

struct Writer {
    version: u8,
    stamp: NaiveDateTime,
}

impl Writer {
    fn apply(&self, db: &mut Database, op: Op) -> Result<(), ControlError> {
        match op {
            Op::CreateOrder {
                id,
                line_ids,
                order,
            } => self.create_order(db, id, line_ids, order),
            Op::UpdateOrder { id, changes } => self.update_order(db, id, changes),
            Op::DeleteOrder { id } => delete_order(db, id),
            Op::AddLine { id, order_id, line } => self.add_line(db, id, order_id, line),
            Op::UpdateLine { id, changes } => self.update_line(db, id, changes),
            Op::DeleteLine { id } => self.delete_line(db, id),
        }
    }

    fn uom_field(&self) -> &'static str {
        if self.version >= 19 {
            "product_uom_id"
        } else {
            "product_uom"
        }
    }

    fn create_order(
        &self,
        db: &mut Database,
        id: i64,
        line_ids: Vec<i64>,
        order: NewOrder,
    ) -> Result<(), ControlError> {
        let values = new_order_values(db, id, &order, self.stamp);
        table(db, "sale.order").put(Record::new(id, values, self.stamp));
        let changes = OrderChanges {
            state: Some(order.state),
            locked: Some(order.locked),
            ..OrderChanges::default()
        };
        self.update_order(db, id, changes)?;
        for (line_id, line) in line_ids.into_iter().zip(order.lines) {
            self.add_line(db, line_id, id, line)?;
        }
        Ok(())
    }

    fn update_order(
        &self,
        db: &mut Database,
        id: i64,
        changes: OrderChanges,
    ) -> Result<(), ControlError> {
        let version = self.version;
        let stamp = self.stamp;
        table(db, "sale.order")
            .update(id, |order| {
                apply_order_changes(order, changes, version);
                order.write_date = stamp;
            })
            .ok_or(ControlError::NoSuchOrder(id))
    }

    fn add_line(
        &self,
        db: &mut Database,
        id: i64,
        order_id: i64,
        line: NewLine,
    ) -> Result<(), ControlError> {
        let order = db
            .table("sale.order")
            .and_then(|t| t.get(order_id))
            .ok_or(ControlError::NoSuchOrder(order_id))?;
        let order_name = order.values.get("name").cloned().unwrap_or(json!(false));
        let sequence = order
            .values
            .get("order_line")
            .and_then(Value::as_array)
            .map_or(0, Vec::len) as i64
            * 10
            + 10;
        let mut values = self.line_values(db, &line)?;
        values.insert("order_id".into(), json!([order_id, order_name]));
        values.insert("sequence".into(), json!(sequence));
        table(db, "sale.order.line").put(Record::new(id, values, self.stamp));
        self.rewrite_order(db, order_id, |ids| ids.push(id))
    }

    fn line_values(
        &self,
        db: &Database,
        line: &NewLine,
    ) -> Result<Map<String, Value>, ControlError> {
        let mut values = Map::new();
        let product = match line.product_id {
            Some(pid) => Some(
                db.table("product.product")
                    .and_then(|t| t.get(pid))
                    .ok_or(ControlError::NoSuchProduct(pid))?,
            ),
            None => None,
        };
        let display = product.map(|p| p.read_value_display());
        let uom = match (product, line.uom_id) {
            (_, Some(uom)) => uom_value(db, uom),
            (Some(p), None) => p.values.get("uom_id").cloned().unwrap_or(json!(false)),
            (None, None) => json!(false),
        };
        values.insert(
            "product_id".into(),
            product.map_or(json!(false), |p| {
                json!([p.id, display.clone().unwrap_or_default()])
            }),
        );
        values.insert(
            "name".into(),
            json!(line.name.clone().or(display).unwrap_or_default()),
        );
        values.insert(self.uom_field().into(), uom);
        values.insert(
            "display_type".into(),
            line.display_type.clone().map_or(json!(false), Value::from),
        );
        values.insert("product_uom_qty".into(), json!(line.quantity));
        values.insert("price_unit".into(), json!(line.price_unit));
        values.insert("discount".into(), json!(line.discount));
        values.insert("qty_delivered".into(), json!(0.0));
        set_subtotal(&mut values);
        Ok(values)
    }

    fn update_line(
        &self,
        db: &mut Database,
        id: i64,
        changes: LineChanges,
    ) -> Result<(), ControlError> {
        let amounts = changes.quantity.is_some()
            || changes.price_unit.is_some()
            || changes.discount.is_some();
        let stamp = self.stamp;
        let order_id = table(db, "sale.order.line")
            .update(id, |line| {
                apply_line_changes(line, changes);
                line.write_date = stamp;
                line.many2one_id("order_id").unwrap_or_default()
            })
            .ok_or(ControlError::NoSuchLine(id))?;
        if amounts {
            self.rewrite_order(db, order_id, |_| {})?;
        }
        Ok(())
    }

    fn delete_line(&self, db: &mut Database, id: i64) -> Result<(), ControlError> {
        let line = table(db, "sale.order.line")
            .remove(id)
            .ok_or(ControlError::NoSuchLine(id))?;
        let order_id = line.many2one_id("order_id").unwrap_or_default();
        self.rewrite_order(db, order_id, |ids| ids.retain(|l| *l != id))
    }

    /// Changes an order's line list, recomputes its total and stamps it.
    fn rewrite_order(
        &self,
        db: &mut Database,
        order_id: i64,
        change: impl FnOnce(&mut Vec<i64>),
    ) -> Result<(), ControlError> {
        let order = db
            .table("sale.order")
            .and_then(|t| t.get(order_id))
            .ok_or(ControlError::NoSuchOrder(order_id))?;
        let mut ids = line_ids(order);
        change(&mut ids);
        let total = round_cents(lines_total(db, &ids));
        let stamp = self.stamp;
        table(db, "sale.order")
            .update(order_id, |order| {
                order.values.insert("order_line".into(), json!(ids));
                order.values.insert("amount_total".into(), json!(total));
                order.values.insert("amount_untaxed".into(), json!(total));
                order.write_date = stamp;
            })
            .ok_or(ControlError::NoSuchOrder(order_id))
    }
}

/// The stored values of a new order (its state, lock and lines are written afterwards).
fn new_order_values(
    db: &Database,
    id: i64,
    order: &NewOrder,
    stamp: NaiveDateTime,
) -> Map<String, Value> {
    let date_order = format_datetime(order.date_order.unwrap_or(stamp));
    let salesperson = order.salesperson.and_then(|uid| db.user(uid));
    let optional_date =
        |d: Option<NaiveDateTime>| d.map_or(json!(false), |d| json!(format_datetime(d)));
    let mut values = Map::new();
    values.insert("name".into(), json!(format!("S{id:05}")));
    values.insert("date_order".into(), json!(date_order));
    values.insert(
        "partner_id".into(),
        json!([order.partner.0, order.partner.1]),
    );
    values.insert(
        "currency_id".into(),
        if order.euro {
            json!([126, "EUR"])
        } else {
            json!([1, "USD"])
        },
    );
    values.insert("company_id".into(), json!([1, "YourCompany"]));
    values.insert(
        "commitment_date".into(),
        optional_date(order.commitment_date),
    );
    values.insert("expected_date".into(), json!(date_order));
    values.insert(
        "client_order_ref".into(),
        order
            .client_order_ref
            .clone()
            .map_or(json!(false), Value::from),
    );
    values.insert(
        "user_id".into(),
        salesperson.map_or(json!(false), |u| json!([u.uid, u.name])),
    );
    values.insert("order_line".into(), json!([]));
    values
}

/// Writes an order's changed fields (not its `write_date`).
fn apply_order_changes(order: &mut Record, changes: OrderChanges, version: u8) {
    if let Some(state) = changes.state {
        order.values.insert("state".into(), json!(state));
    }
    if let Some(locked) = changes.locked {
        set_locked(order, locked, version);
    }
    if let Some(reference) = changes.client_order_ref {
        order.values.insert(
            "client_order_ref".into(),
            reference.map_or(json!(false), Value::from),
        );
    }
    if let Some(date) = changes.commitment_date {
        order.values.insert(
            "commitment_date".into(),
            date.map_or(json!(false), |d| json!(format_datetime(d))),
        );
    }
    if let Some(date) = changes.date_order {
        order
            .values
            .insert("date_order".into(), json!(format_datetime(date)));
    }
}

/// Writes a line's changed fields and its subtotal (not its `write_date`).
fn apply_line_changes(line: &mut Record, changes: LineChanges) {
    for (field, value) in [
        ("product_uom_qty", changes.quantity),
        ("price_unit", changes.price_unit),
        ("discount", changes.discount),
    ] {
        if let Some(value) = value {
            line.values.insert(field.into(), json!(value));
        }
    }
    if let Some(name) = changes.name {
        line.values.insert("name".into(), json!(name));
    }
    set_subtotal(&mut line.values);
}

/// The ids of an order's lines, in order.
fn line_ids(order: &Record) -> Vec<i64> {
    let ids = order.values.get("order_line").and_then(Value::as_array);
    ids.map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn lines_total(db: &Database, ids: &[i64]) -> f64 {
    let lines = db.table("sale.order.line");
    let subtotal = |id: &i64| lines?.get(*id)?.values.get("price_subtotal")?.as_f64();
    ids.iter().filter_map(subtotal).sum()
}

fn round_cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

fn table<'a>(db: &'a mut Database, model: &str) -> &'a mut crate::store::Table {
    db.tables.entry(model.to_owned()).or_default()
}

fn delete_order(db: &mut Database, id: i64) -> Result<(), ControlError> {
    let order = table(db, "sale.order")
        .remove(id)
        .ok_or(ControlError::NoSuchOrder(id))?;
    let lines = table(db, "sale.order.line");
    for line in line_ids(&order) {
        lines.remove(line);
    }
    Ok(())
}

fn set_locked(order: &mut Record, locked: bool, version: u8) {
    if version >= 17 {
        order.values.insert("locked".into(), json!(locked));
    } else if locked {
        order.values.insert("state".into(), json!("done"));
    }
}

fn set_subtotal(values: &mut Map<String, Value>) {
    let number = |name: &str| values.get(name).and_then(Value::as_f64).unwrap_or(0.0);
    let subtotal =
        number("product_uom_qty") * number("price_unit") * (1.0 - number("discount") / 100.0);
    let subtotal = (subtotal * 100.0).round() / 100.0;
    values.insert("price_subtotal".into(), json!(subtotal));
    values.insert("price_total".into(), json!(subtotal));
}

fn uom_value(db: &Database, uom: i64) -> Value {
    let name = db
        .table("uom.uom")
        .and_then(|t| t.get(uom))
        .and_then(|r| r.values.get("name").cloned());
    json!([uom, name.unwrap_or(json!(""))])
}

impl Record {
    fn read_value_display(&self) -> String {
        let name = self
            .values
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match self.values.get("default_code").and_then(Value::as_str) {
            Some(code) => format!("[{code}] {name}"),
            None => name.to_owned(),
        }
    }
}
